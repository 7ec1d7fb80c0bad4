/**
 * Transcript replays through the pure SMTP session (firmware/smtp/session.ts): recorded S:/C:
 * conversations of Office 365 and Gmail (shared/reference/protocols.md C.2, C.3, C.6) and the
 * failure paths, with no sockets and no event loop. Server text goes through the real reply
 * parser; every line the client writes must appear in the script, in order.
 *
 * Every script is also checked for the rule that matters most: no AUTH, no credential and no
 * MAIL before TLS is up and the peer verified (unless the plan says security 'none').
 */
import { describe, expect, it } from 'vitest';
import {
  SMTP_DATA_BLOCK_TIMEOUT_MS,
  SMTP_DATA_END_TIMEOUT_MS,
  SMTP_DATA_INIT_TIMEOUT_MS,
  SMTP_GREETING_TIMEOUT_MS,
  SMTP_MAIL_TIMEOUT_MS,
  SMTP_RCPT_TIMEOUT_MS,
} from '../../firmware/defaults.ts';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import type { SendPlan } from '../../firmware/smtp/plan.ts';
import { ReplyParser } from '../../firmware/smtp/reply-parser.ts';
import type { SmtpFailure, SmtpResult, SmtpSuccess } from '../../firmware/smtp/result.ts';
import { SmtpSession, type PeerVerdict, type SessionOptions, type SmtpAction } from '../../firmware/smtp/session.ts';
import { Transcript } from '../../firmware/smtp/transcript.ts';

// --- Harness -----------------------------------------------------------------------------------

type Step =
  | readonly ['S', string] // server reply text; lines separated by "\n", the harness sends CRLF
  | readonly ['C', string | RegExp] // the next line the client writes
  | readonly ['CONNECT'] // the connect action; the connection opens (with TLS for security 'tls')
  | readonly ['TLS'] // the start-tls action; the handshake succeeds
  | readonly ['VERIFY', PeerVerdict] // the verify-peer action and the firmware's verdict
  | readonly ['DATA'] // the send-data action; the message goes out
  | readonly ['TIMEOUT']
  | readonly ['CLOSED'];

const TLS: TlsInfo = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', peerChainDer: [] };
const TRUSTED: PeerVerdict = { trusted: true, summary: 'CN=smtp.example.com' };

interface Conversation {
  readonly result: SmtpResult;
  /** Every action, in order. */
  readonly actions: SmtpAction[];
  /** The actions of each call into the session. */
  readonly batches: SmtpAction[][];
  readonly session: SmtpSession;
  /** What a driver would have recorded (redacted twins only). */
  readonly transcript: Transcript;
  /** The real text of every line written, for checking what redaction hides. */
  readonly wire: string[];
}

/** Replay `script` through a fresh session; fails the test on any deviation. */
function converse(plan: SendPlan, script: readonly Step[], options: SessionOptions = {}): Conversation {
  const session = new SmtpSession(plan, options);
  const parser = new ReplyParser();
  const transcript = new Transcript();
  const actions: SmtpAction[] = [];
  const batches: SmtpAction[][] = [];
  const wire: string[] = [];
  let queue: SmtpAction[] = [];
  let verified = false;
  let t = 0;

  const take = (batch: SmtpAction[]): void => {
    batches.push(batch);
    for (const action of batch) {
      actions.push(action);
      if (action.type === 'write') {
        // The rule of rules: nothing secret and no mail before a verified TLS session.
        if (plan.security !== 'none' && !verified && /^(AUTH|MAIL|RCPT|DATA)\b/i.test(action.line.text)) {
          throw new Error(`"${action.line.redacted}" written before TLS was verified`);
        }
        transcript.client(t, action.line.redacted);
        wire.push(action.line.text);
      }
    }
    queue.push(...batch);
  };
  /** The next action that is not a wait; it must be of `type`. */
  const next = <T extends SmtpAction['type']>(type: T, why: string): Extract<SmtpAction, { type: T }> => {
    queue = queue.filter((a) => a.type !== 'wait');
    const action = queue.shift();
    if (action?.type !== type) throw new Error(`${why}: expected a ${type} action, got ${JSON.stringify(action)}`);
    return action as Extract<SmtpAction, { type: T }>;
  };

  take(session.start());
  for (const [i, step] of script.entries()) {
    t += 10;
    const where = `script step ${i} ${JSON.stringify(step)}`;
    switch (step[0]) {
      case 'CONNECT':
        next('connect', where);
        take(session.onConnected(plan.security === 'tls' ? TLS : undefined));
        break;
      case 'C': {
        const { line } = next('write', where);
        if (typeof step[1] === 'string') expect(line.text, where).toBe(step[1]);
        else expect(line.text, where).toMatch(step[1]);
        break;
      }
      case 'S': {
        const unsent = queue.filter((a) => a.type === 'write');
        if (unsent.length > 0) throw new Error(`${where}: the client wrote lines the script does not list: ${unsent.map((a) => JSON.stringify(a)).join(', ')}`);
        const out = parser.push(new TextEncoder().encode(step[1].split('\n').map((l) => `${l}\r\n`).join('')));
        if (out.error !== undefined) throw new Error(`${where}: bad reply text: ${out.error.detail}`);
        for (const reply of out.replies) {
          for (const l of reply.lines) transcript.server(t, `${reply.code} ${l}`);
          take(session.onReply(reply));
        }
        break;
      }
      case 'TLS':
        next('start-tls', where);
        take(session.onTlsUp(TLS));
        break;
      case 'VERIFY':
        next('verify-peer', where);
        verified = step[1].trusted;
        take(session.onPeerVerified(step[1]));
        break;
      case 'DATA':
        next('send-data', where);
        transcript.message(t, 1234);
        take(session.onDataSent(1234));
        break;
      case 'TIMEOUT':
        take(session.onTimeout());
        break;
      case 'CLOSED':
        take(session.onClosed());
        break;
    }
  }
  next('close', 'end of script');
  const done = next('done', 'end of script');
  expect(queue.filter((a) => a.type !== 'wait'), 'actions after done').toEqual([]);
  return { result: done.result, actions, batches, session, transcript, wire };
}

const failure = (r: SmtpResult): SmtpFailure => {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
};
const success = (r: SmtpResult): SmtpSuccess => {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message}`);
  return r;
};

// --- Server scripts (protocols.md C.6) ---------------------------------------------------------

const O365_BANNER = '220 AM0PR02CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sun, 23 Nov 2025 11:12:20 +0000 [08DE2A6028D26C22]';
const O365_EHLO_PLAIN = [
  '250-AM0PR02CA0001.outlook.office365.com Hello [203.0.113.5]',
  '250-SIZE 157286400',
  '250-PIPELINING',
  '250-DSN',
  '250-ENHANCEDSTATUSCODES',
  '250-STARTTLS',
  '250-8BITMIME',
  '250-BINARYMIME',
  '250-CHUNKING',
  '250 SMTPUTF8',
].join('\n');
const O365_EHLO_TLS = O365_EHLO_PLAIN.replace('250-STARTTLS', '250-AUTH LOGIN XOAUTH2');
/** protocols.md C.1, Microsoft vector. */
const O365_USER = 'test@contoso.onmicrosoft.com';
const O365_TOKEN = 'EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA';
const O365_XOAUTH2 = 'dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==';

const GMAIL_BANNER = '220 smtp.gmail.com ESMTP d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp';
const GMAIL_EHLO_TLS = [
  '250-smtp.gmail.com at your service, [203.0.113.5]',
  '250-SIZE 35882577',
  '250-8BITMIME',
  '250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH',
  '250-ENHANCEDSTATUSCODES',
  '250-PIPELINING',
  '250-CHUNKING',
  '250 SMTPUTF8',
].join('\n');
/** protocols.md C.1, Google vector. */
const GMAIL_USER = 'someuser@example.com';
const GMAIL_TOKEN = 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg';
const GMAIL_XOAUTH2 = 'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==';

const o365Plan = (over: Partial<SendPlan> = {}): SendPlan => ({
  clientName: 'mfp-4f21.contoso.com',
  security: 'starttls',
  auth: { method: 'xoauth2', user: O365_USER, accessToken: O365_TOKEN },
  from: O365_USER,
  recipients: ['alice@contoso.com'],
  sizeBytes: 48_213,
  eightBit: false,
  ...over,
});

const gmailPlan = (over: Partial<SendPlan> = {}): SendPlan => ({
  clientName: 'mfp-4f21.example.com',
  security: 'tls',
  auth: { method: 'xoauth2', user: GMAIL_USER, accessToken: GMAIL_TOKEN },
  from: GMAIL_USER,
  recipients: ['bob@example.org'],
  sizeBytes: 10_000,
  eightBit: true,
  ...over,
});

/** Office 365 up to a verified TLS session and the post-TLS EHLO. */
const O365_TO_TLS_EHLO: readonly Step[] = [
  ['CONNECT'],
  ['S', O365_BANNER],
  ['C', 'EHLO mfp-4f21.contoso.com'],
  ['S', O365_EHLO_PLAIN],
  ['C', 'STARTTLS'],
  ['S', '220 2.0.0 SMTP server ready'],
  ['TLS'],
  ['VERIFY', TRUSTED],
  ['C', 'EHLO mfp-4f21.contoso.com'],
  ['S', O365_EHLO_TLS],
];

const O365_AUTHENTICATED: readonly Step[] = [...O365_TO_TLS_EHLO, ['C', `AUTH XOAUTH2 ${O365_XOAUTH2}`], ['S', '235 2.7.0 Authentication successful']];

const GMAIL_TO_EHLO: readonly Step[] = [['CONNECT'], ['VERIFY', TRUSTED], ['S', GMAIL_BANNER], ['C', 'EHLO mfp-4f21.example.com'], ['S', GMAIL_EHLO_TLS]];

// --- Office 365 --------------------------------------------------------------------------------

describe('Office 365 (smtp.office365.com:587, STARTTLS + XOAUTH2)', () => {
  it('sends a mail: STARTTLS, verified peer, EHLO again, XOAUTH2, pipelined MAIL/RCPT/DATA, QUIT', () => {
    const c = converse(o365Plan(), [
      ...O365_AUTHENTICATED,
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com> SIZE=48213'],
      ['C', 'RCPT TO:<alice@contoso.com>'],
      ['C', 'DATA'],
      ['S', '250 2.1.0 Sender OK'],
      ['S', '250 2.1.5 Recipient OK'],
      ['S', '354 Start mail input; end with <CRLF>.<CRLF>'],
      ['DATA'],
      ['S', '250 2.0.0 OK <a1b2c3@mfp-4f21.contoso.com> [Hostname=AM0PR02MB0001.eurprd02.prod.outlook.com]'],
      ['C', 'QUIT'],
      ['S', '221 2.0.0 Service closing transmission channel'],
    ]);
    const r = success(c.result);
    expect(r.mode).toBe('sent');
    expect(r.serverReply).toMatchObject({ code: 250, enhanced: '2.0.0' });
    expect(r.perRecipient).toEqual([{ address: 'alice@contoso.com', accepted: true, permanent: false, reply: expect.objectContaining({ code: 250, enhanced: '2.1.5' }) }]);
    expect(r.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
    expect(r.capabilities).toMatchObject({ authMechanisms: ['LOGIN', 'XOAUTH2'], starttls: false, sizeLimit: 157_286_400, pipelining: true });
    expect(r.steps.map((s) => `${s.step}:${s.ok ? 'ok' : 'FAIL'}`)).toEqual([
      'connect:ok',
      'greeting:ok',
      'ehlo:ok',
      'starttls:ok',
      'tls:ok',
      'peer:ok',
      'ehlo:ok',
      'auth:ok',
      'mail:ok',
      'rcpt:ok',
      'data:ok',
      'message:ok',
      'quit:ok',
    ]);
  });

  it('535 5.7.3 Authentication unsuccessful → smtp-auth-failed, permanent, with command and reply; then QUIT', () => {
    const c = converse(o365Plan(), [
      ...O365_TO_TLS_EHLO,
      ['C', `AUTH XOAUTH2 ${O365_XOAUTH2}`],
      ['S', '535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com]'],
      ['C', 'QUIT'],
      ['S', '221 2.0.0 Service closing transmission channel'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-auth-failed', step: 'auth', permanent: true, reply: { code: 535, enhanced: '5.7.3' } });
    expect(r.evidence.command).toMatch(/^AUTH XOAUTH2 <redacted/);
    expect(r.evidence.mechanism).toBe('XOAUTH2');
    expect(r.message).toContain('535 5.7.3 Authentication unsuccessful');
  });

  it('535 5.7.139 SmtpClientAuthentication is disabled → smtp-auth-disabled', () => {
    const c = converse(o365Plan(), [
      ...O365_TO_TLS_EHLO,
      ['C', `AUTH XOAUTH2 ${O365_XOAUTH2}`],
      [
        'S',
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.214Z 08DBB276B7E699C4]',
      ],
      ['C', 'QUIT'],
      ['CLOSED'],
    ]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-auth-disabled', step: 'auth', permanent: true, reply: { enhanced: '5.7.139' } });
  });

  it('554 5.2.252 SendAsDenied after the message → smtp-send-as-denied, permanent', () => {
    const c = converse(o365Plan({ from: 'ceo@contoso.com' }), [
      ...O365_AUTHENTICATED,
      ['C', 'MAIL FROM:<ceo@contoso.com> SIZE=48213'],
      ['C', 'RCPT TO:<alice@contoso.com>'],
      ['C', 'DATA'],
      ['S', '250 2.1.0 Sender OK'],
      ['S', '250 2.1.5 Recipient OK'],
      ['S', '354 Start mail input; end with <CRLF>.<CRLF>'],
      ['DATA'],
      [
        'S',
        '554 5.2.252 SendAsDenied; test@contoso.onmicrosoft.com not allowed to send as ceo@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.',
      ],
      ['C', 'QUIT'],
      ['S', '221 2.0.0 Service closing transmission channel'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-send-as-denied', step: 'data-end', permanent: true, reply: { code: 554, enhanced: '5.2.252' } });
    expect(r.perRecipient).toHaveLength(1);
  });

  it('accepts the Microsoft-documented flow of AUTH without initial response when the token is too long for one line', () => {
    const token = 'E'.repeat(10_000); // base64 of it makes "AUTH XOAUTH2 …" longer than 12288 octets (RFC 4954 §4)
    const c = converse(o365Plan({ auth: { method: 'xoauth2', user: O365_USER, accessToken: token } }), [
      ...O365_TO_TLS_EHLO,
      ['C', 'AUTH XOAUTH2'],
      ['S', '334 '],
      ['C', /^dXNlcj10ZXN0QGNvbnRvc28/],
      ['S', '235 2.7.0 Authentication successful'],
      ['C', /^MAIL FROM:/],
      ['C', /^RCPT TO:/],
      ['C', 'DATA'],
      ['S', '421 4.3.2 Service not available'],
    ]);
    expect(failure(c.result).code).toBe('smtp-service-unavailable');
  });
});

// --- Gmail -------------------------------------------------------------------------------------

describe('Gmail (smtp.gmail.com:465, implicit TLS + XOAUTH2)', () => {
  it('sends a mail: peer verified before the greeting is used, XOAUTH2 235 2.7.0 Accepted, BODY=8BITMIME', () => {
    const c = converse(gmailPlan(), [
      ...GMAIL_TO_EHLO,
      ['C', `AUTH XOAUTH2 ${GMAIL_XOAUTH2}`],
      ['S', '235 2.7.0 Accepted'],
      ['C', 'MAIL FROM:<someuser@example.com> SIZE=10000 BODY=8BITMIME'],
      ['C', 'RCPT TO:<bob@example.org>'],
      ['C', 'DATA'],
      ['S', '250 2.1.0 OK d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp\n250 2.1.5 OK d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp\n354 Go ahead d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp'],
      ['DATA'],
      ['S', '250 2.0.0 OK  1725842199 d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp'],
      ['C', 'QUIT'],
      ['S', '221 2.0.0 closing connection d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp'],
    ]);
    expect(success(c.result).serverReply.lines[0]).toContain('1725842199');
    // Implicit TLS: the peer is verified first, before anything is read or written.
    expect(c.actions.findIndex((a) => a.type === 'verify-peer')).toBeLessThan(c.actions.findIndex((a) => a.type === 'write'));
  });

  it('a greeting that arrives while the peer is being verified is held until the verdict', () => {
    const session = new SmtpSession(gmailPlan());
    session.start();
    expect(session.onConnected(TLS)).toEqual([{ type: 'verify-peer', tls: TLS }]);
    const parser = new ReplyParser();
    const greeting = parser.push(new TextEncoder().encode(`${GMAIL_BANNER}\r\n`)).replies[0]!;
    expect(session.onReply(greeting)).toEqual([]);
    const after = session.onPeerVerified(TRUSTED);
    expect(after[0]).toEqual({ type: 'write', line: { text: 'EHLO mfp-4f21.example.com', redacted: 'EHLO mfp-4f21.example.com' } });
  });

  it('refused token: 334 <base64 JSON> is answered with an EMPTY line, then 535-5.7.8 ends it; the JSON is in the result', () => {
    const c = converse(gmailPlan(), [
      ...GMAIL_TO_EHLO,
      ['C', `AUTH XOAUTH2 ${GMAIL_XOAUTH2}`],
      ['S', '334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ=='],
      ['C', ''],
      ['S', '535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials d2e1a72fcca58-718e5982ec5sm2493870b3a.169 - gsmtp'],
      ['C', 'QUIT'],
      ['S', '221 2.0.0 closing connection - gsmtp'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-auth-failed', step: 'auth', permanent: true, reply: { code: 535, enhanced: '5.7.8' } });
    expect(r.evidence.oauthError).toMatchObject({ status: '400', schemes: 'Bearer', scope: 'https://mail.google.com/' });
    expect(r.message).toContain('status 400');
  });

  it('the documented 401 challenge (expired token) decodes too', () => {
    const c = converse(gmailPlan(), [
      ...GMAIL_TO_EHLO,
      ['C', `AUTH XOAUTH2 ${GMAIL_XOAUTH2}`],
      ['S', '334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K'],
      ['C', ''],
      ['S', '535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials x - gsmtp'],
      ['C', 'QUIT'],
      ['CLOSED'],
    ]);
    expect(failure(c.result).evidence.oauthError?.status).toBe('401');
  });

  it('AUTH PLAIN and AUTH LOGIN against Gmail', () => {
    const plain = converse(gmailPlan({ auth: { method: 'plain', user: 'tim', password: 'tanstaaftanstaaf' }, recipients: ['b@example.org'] }), [
      ...GMAIL_TO_EHLO,
      ['C', 'AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm'],
      ['S', '235 2.7.0 Accepted'],
      ['C', /^MAIL FROM/],
      ['C', /^RCPT TO/],
      ['C', 'DATA'],
      ['S', '421 4.7.0 Try again later, closing connection.'],
    ]);
    expect(failure(plain.result)).toMatchObject({ code: 'smtp-service-unavailable', permanent: false });

    const login = converse(gmailPlan({ auth: { method: 'login', user: 'u@example.com', password: 'p4ss' } }), [
      ...GMAIL_TO_EHLO,
      ['C', 'AUTH LOGIN'],
      ['S', '334 VXNlcm5hbWU6'],
      ['C', Buffer.from('u@example.com').toString('base64')],
      ['S', '334 UGFzc3dvcmQ6'],
      ['C', Buffer.from('p4ss').toString('base64')],
      ['S', '535-5.7.8 Username and Password not accepted.\n535 5.7.8 https://support.google.com/mail/?p=BadCredentials'],
      ['C', 'QUIT'],
      ['CLOSED'],
    ]);
    expect(failure(login.result)).toMatchObject({ code: 'smtp-auth-failed', evidence: { mechanism: 'LOGIN' } });
  });
});

// --- TLS rules ---------------------------------------------------------------------------------

describe('TLS rules', () => {
  it('STARTTLS not advertised → smtp-starttls-unavailable; no fallback to plain text, no AUTH, no MAIL', () => {
    const c = converse(o365Plan({ auth: { method: 'plain', user: 'u', password: 'secret' } }), [
      ['CONNECT'],
      ['S', '220 mail.example.com ESMTP'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '250-mail.example.com\n250-AUTH PLAIN LOGIN\n250 8BITMIME'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-starttls-unavailable', step: 'ehlo', permanent: true });
    expect(c.wire).toEqual(['EHLO mfp-4f21.contoso.com', 'QUIT']);
  });

  it('454 to STARTTLS → smtp-starttls-unavailable, transient', () => {
    const c = converse(o365Plan(), [
      ['CONNECT'],
      ['S', O365_BANNER],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', O365_EHLO_PLAIN],
      ['C', 'STARTTLS'],
      ['S', '454 4.7.0 TLS not available due to temporary reason'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-starttls-unavailable', step: 'starttls', permanent: false });
  });

  it('an untrusted peer gets nothing more, not even QUIT: smtp-tls-untrusted with the verifier’s reason', () => {
    const reason = { code: 'hostMismatch', detail: 'certificate is for evil.example.net' };
    const c = converse(o365Plan(), [
      ['CONNECT'],
      ['S', O365_BANNER],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', O365_EHLO_PLAIN],
      ['C', 'STARTTLS'],
      ['S', '220 2.0.0 SMTP server ready'],
      ['TLS'],
      ['VERIFY', { trusted: false, reason, summary: 'CN=evil.example.net' }],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-tls-untrusted', step: 'tls-verify', permanent: true, evidence: { untrustedReason: reason, peer: 'CN=evil.example.net' } });
    expect(c.wire).toEqual(['EHLO mfp-4f21.contoso.com', 'STARTTLS']);
    expect(r.steps.at(-1)).toMatchObject({ step: 'peer', ok: false });
  });

  it('implicit TLS, untrusted: not a single byte is written', () => {
    const c = converse(gmailPlan(), [['CONNECT'], ['VERIFY', { trusted: false, reason: 'expired' }]]);
    expect(failure(c.result).code).toBe('smtp-tls-untrusted');
    expect(c.wire).toEqual([]);
  });

  it('RFC 3207 §4.2 regression, STARTTLS capability injection: a forged "250-AUTH PLAIN" learnt before TLS is forgotten after it', () => {
    // A man in the middle adds AUTH PLAIN to the plain-text EHLO (or pipelines a forged EHLO reply
    // after "220 Go ahead"). After TLS the real server offers only XOAUTH2: the device must not
    // send PLAIN credentials on the strength of what it heard before TLS.
    const c = converse(o365Plan({ auth: { method: 'plain', user: 'printer@contoso.com', password: 'hunter2hunter2' } }), [
      ['CONNECT'],
      ['S', '220 mail.contoso.com ESMTP'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '250-mail.contoso.com\n250-AUTH PLAIN LOGIN\n250-STARTTLS\n250 8BITMIME'],
      ['C', 'STARTTLS'],
      ['S', '220 Go ahead'],
      ['TLS'],
      ['VERIFY', TRUSTED],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '250-mail.contoso.com\n250-AUTH XOAUTH2\n250 8BITMIME'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-auth-mechanism-unavailable', evidence: { advertised: ['XOAUTH2'] } });
    expect(r.message).toBe('The server offers AUTH XOAUTH2, not PLAIN');
    expect(c.wire.some((l) => l.startsWith('AUTH'))).toBe(false);
  });

  it('RFC 3207 §4.2 regression, STARTTLS response injection: a reply pipelined after "220 Go ahead" ends the session if a driver ever passed it on', () => {
    // The driver discards these bytes (test/integration/smtp-driver.test.ts proves it on a real
    // socket). The machine is the second line of defence: in tls-handshake a reply is an error.
    const session = new SmtpSession(o365Plan());
    const parser = new ReplyParser();
    const feed = (text: string) => parser.push(new TextEncoder().encode(text)).replies;
    session.start();
    session.onConnected(undefined);
    session.onReply(feed('220 mail.contoso.com ESMTP\r\n')[0]!);
    session.onReply(feed('250-mail.contoso.com\r\n250 STARTTLS\r\n')[0]!);
    const [go, forged] = feed('220 Go ahead\r\n250-mail.contoso.com\r\n250 AUTH PLAIN\r\n');
    expect(session.onReply(go!)).toEqual([{ type: 'start-tls', timeoutMs: expect.any(Number) }]);
    const actions = session.onReply(forged!);
    expect(actions.at(-1)).toMatchObject({ type: 'done', result: { ok: false, code: 'smtp-protocol', step: 'tls-handshake' } });
    expect(actions.some((a) => a.type === 'write')).toBe(false);
  });

  it('TLS handshake failure after STARTTLS → smtp-tls-failed, closed without QUIT', () => {
    const session = new SmtpSession(o365Plan());
    const parser = new ReplyParser();
    const feed = (text: string) => parser.push(new TextEncoder().encode(text)).replies[0]!;
    session.start();
    session.onConnected(undefined);
    session.onReply(feed('220 x\r\n'));
    session.onReply(feed('250-x\r\n250 STARTTLS\r\n'));
    session.onReply(feed('220 go\r\n'));
    const actions = session.onTlsFailed({ kind: 'tls-handshake', detail: 'wrong version number' });
    expect(actions).toEqual([{ type: 'close' }, { type: 'done', result: expect.objectContaining({ code: 'smtp-tls-failed', permanent: false }) }]);
  });

  it("security 'none' chosen explicitly: AUTH without TLS is allowed (and only then)", () => {
    const c = converse({ ...o365Plan(), security: 'none', auth: { method: 'plain', user: 'u', password: 'p' } }, [
      ['CONNECT'],
      ['S', '220 relay.lan ESMTP'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '250-relay.lan\n250-STARTTLS\n250 AUTH PLAIN'],
      ['C', 'AUTH PLAIN AHUAcA=='],
      ['S', '235 ok'],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['S', '250 ok'],
      ['C', 'RCPT TO:<alice@contoso.com>'],
      ['S', '250 ok'],
      ['C', 'DATA'],
      ['S', '354 go'],
      ['DATA'],
      ['S', '250 queued'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    expect(success(c.result).tls).toBeUndefined();
  });
});

// --- Capabilities, SIZE, PIPELINING ------------------------------------------------------------

describe('capabilities and the transaction', () => {
  const relay = (caps: string[], over: Partial<SendPlan> = {}): SendPlan => ({ ...o365Plan(over), security: 'none', auth: { method: 'none' }, ...over });
  const relayEhlo = (caps: string[]): string => ['250-relay.lan', ...caps.slice(0, -1).map((c) => `250-${c}`), `250 ${caps.at(-1)}`].join('\n');

  it('EHLO 502 → HELO, then a transaction without extensions', () => {
    const c = converse(relay([], { sizeBytes: 10 }), [
      ['CONNECT'],
      ['S', '220 old.lan SMTP'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '502 5.5.2 Command not implemented'],
      ['C', 'HELO mfp-4f21.contoso.com'],
      ['S', '250 old.lan'],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['S', '250 ok'],
      ['C', 'RCPT TO:<alice@contoso.com>'],
      ['S', '250 ok'],
      ['C', 'DATA'],
      ['S', '354 go'],
      ['DATA'],
      ['S', '250 ok'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    expect(success(c.result).capabilities.extended).toBe(false);
  });

  it('SIZE exceeded is refused before MAIL, with the limit in the result', () => {
    const c = converse(relay([], { sizeBytes: 35_882_578 }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['SIZE 35882577', 'PIPELINING'])],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-size-exceeded', permanent: true, evidence: { sizeBytes: 35_882_578, sizeLimit: 35_882_577 } });
    expect(c.wire.some((l) => l.startsWith('MAIL'))).toBe(false);
  });

  it('SIZE without a number (no fixed limit) is declared but never refused; 8-bit content needs 8BITMIME', () => {
    const ok = converse(relay([], { sizeBytes: 99 }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['SIZE', '8BITMIME'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com> SIZE=99'],
      ['S', '421 4.3.2 closing'],
    ]);
    expect(failure(ok.result).code).toBe('smtp-service-unavailable');

    const no8bit = converse(relay([], { eightBit: true }), [['CONNECT'], ['S', '220 relay.lan'], ['C', 'EHLO mfp-4f21.contoso.com'], ['S', relayEhlo(['SIZE 1000000'])], ['C', 'QUIT'], ['CLOSED']]);
    expect(failure(no8bit.result).code).toBe('smtp-8bitmime-unavailable');
  });

  it('PIPELINING: MAIL, every RCPT and DATA are written together, DATA last; replies are taken in order', () => {
    const plan = relay([], { recipients: ['a@x.org', 'b@x.org', 'c@x.org'], sizeBytes: 500 });
    const c = converse(plan, [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['PIPELINING', 'SIZE 10000'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com> SIZE=500'],
      ['C', 'RCPT TO:<a@x.org>'],
      ['C', 'RCPT TO:<b@x.org>'],
      ['C', 'RCPT TO:<c@x.org>'],
      ['C', 'DATA'],
      ['S', '250 sender ok\n250 a ok\n550 5.1.1 b unknown\n250 c ok\n354 go'],
      ['DATA'],
      ['S', '250 queued as 42'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    const group = c.batches.find((b) => b.some((a) => a.type === 'write' && a.line.text.startsWith('MAIL')))!;
    expect(group.map((a) => (a.type === 'write' ? a.line.text : a.type))).toEqual([
      'MAIL FROM:<test@contoso.onmicrosoft.com> SIZE=500',
      'RCPT TO:<a@x.org>',
      'RCPT TO:<b@x.org>',
      'RCPT TO:<c@x.org>',
      'DATA',
      'wait',
    ]);
    const r = success(c.result);
    expect(r.perRecipient.map((p) => [p.address, p.accepted, p.permanent])).toEqual([
      ['a@x.org', true, false],
      ['b@x.org', false, true],
      ['c@x.org', true, false],
    ]);
  });

  it('without PIPELINING: one command at a time, each after the previous reply; partial refusal is a success per recipient', () => {
    const c = converse(relay([], { recipients: ['a@x.org', 'b@x.org'] }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['8BITMIME'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['S', '250 ok'],
      ['C', 'RCPT TO:<a@x.org>'],
      ['S', '450 4.2.1 mailbox busy'],
      ['C', 'RCPT TO:<b@x.org>'],
      ['S', '250 ok'],
      ['C', 'DATA'],
      ['S', '354 go'],
      ['DATA'],
      ['S', '250 ok'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    for (const batch of c.batches) expect(batch.filter((a) => a.type === 'write').length).toBeLessThanOrEqual(1);
    const r = success(c.result);
    expect(r.perRecipient.map((p) => [p.accepted, p.permanent])).toEqual([
      [false, false],
      [true, false],
    ]);
  });

  it('all recipients refused → no DATA; RSET, then QUIT; one result per recipient', () => {
    const c = converse(relay([], { recipients: ['a@x.org', 'b@x.org'] }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['8BITMIME'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['S', '250 ok'],
      ['C', 'RCPT TO:<a@x.org>'],
      ['S', '550 5.1.1 unknown'],
      ['C', 'RCPT TO:<b@x.org>'],
      ['S', '550 5.1.1 unknown'],
      ['C', 'RSET'],
      ['S', '250 flushed'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-recipients-rejected', step: 'rcpt', permanent: true });
    expect(r.perRecipient?.map((p) => p.accepted)).toEqual([false, false]);
    expect(c.actions.some((a) => a.type === 'send-data')).toBe(false);
  });

  it('all recipients refused with PIPELINING: the DATA refusal is read, then RSET and QUIT; nothing is streamed', () => {
    const c = converse(relay([], { recipients: ['a@x.org'] }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['PIPELINING'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['C', 'RCPT TO:<a@x.org>'],
      ['C', 'DATA'],
      ['S', '250 ok\n550 5.1.1 unknown\n554 5.5.1 Error: no valid recipients'],
      ['C', 'RSET'],
      ['S', '250 ok'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    expect(failure(c.result).code).toBe('smtp-recipients-rejected');
    expect(c.actions.some((a) => a.type === 'send-data')).toBe(false);
  });

  it('PIPELINING, a server that wrongly answers 354 with no valid recipient gets an empty message (".") and no data', () => {
    const c = converse(relay([], { recipients: ['a@x.org'] }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['PIPELINING'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['C', 'RCPT TO:<a@x.org>'],
      ['C', 'DATA'],
      ['S', '250 ok\n550 unknown\n354 go ahead anyway'],
      ['C', '.'],
      ['S', '554 no valid recipients'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    expect(failure(c.result).code).toBe('smtp-recipients-rejected');
    expect(c.actions.some((a) => a.type === 'send-data')).toBe(false);
  });

  /** A relay that greets, answers EHLO, and answers MAIL FROM with `reply`; the device then says QUIT. */
  const mailFromAnswered = (reply: string) =>
    converse(relay([]), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['8BITMIME'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['S', reply],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);

  it("Exchange Online's continuous-error throttling (550 5.2.251–5.2.255 Sender throttled) → smtp-sender-throttled, also for 5.2.252", () => {
    for (const [enhanced, cause] of [
      ['5.2.251', 'mailbox full'],
      ['5.2.252', 'send as denied'],
      ['5.2.255', 'invalid recipients'],
    ]) {
      const c = mailFromAnswered(`550 ${enhanced} Sender throttled due to continuous ${cause} errors.`);
      expect(failure(c.result)).toMatchObject({ code: 'smtp-sender-throttled', step: 'mail', permanent: true, reply: { code: 550, enhanced } });
    }
  });

  it('sender refused → smtp-sender-rejected, then QUIT', () => {
    const c = mailFromAnswered('553 5.7.1 <test@contoso.onmicrosoft.com>: Sender address rejected: not owned by user');
    expect(failure(c.result)).toMatchObject({ code: 'smtp-sender-rejected', step: 'mail', evidence: { command: 'MAIL FROM:<test@contoso.onmicrosoft.com>' } });
  });

  it('no AUTH done and MAIL refused as "sign in first" (530, 5.7.0) → smtp-auth-required, not a refused sender; 530 "STARTTLS first" is not that', () => {
    for (const reply of ['530 5.7.57 Client not authenticated to send mail', '530 5.7.0 Authentication required', '550 5.7.0 Authentication needed']) {
      expect(failure(mailFromAnswered(reply).result), reply).toMatchObject({ code: 'smtp-auth-required', step: 'mail', permanent: true, reply: { code: Number(reply.slice(0, 3)) } });
    }
    expect(failure(mailFromAnswered('530 5.7.0 Must issue a STARTTLS command first').result)).toMatchObject({ code: 'smtp-sender-rejected' });
  });

  /** A relay that takes MAIL and answers the one RCPT with `reply`; the device then says RSET and QUIT. */
  const rcptAnswered = (reply: string, over: Partial<SendPlan> = {}) =>
    converse(relay([], over), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['8BITMIME'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com>'],
      ['S', '250 2.1.0 Ok'],
      ['C', 'RCPT TO:<alice@contoso.com>'],
      ['S', reply],
      ['C', 'RSET'],
      ['S', '250 2.0.0 Ok'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);

  it("no AUTH done and RCPT refused with postfix's 554 5.7.1 Relay access denied → smtp-auth-required; a bare 5.7.1 policy refusal stays a refused recipient", () => {
    const relayDenied = failure(rcptAnswered('554 5.7.1 <alice@contoso.com>: Relay access denied').result);
    expect(relayDenied).toMatchObject({ code: 'smtp-auth-required', step: 'rcpt', permanent: true, perRecipient: [{ address: 'alice@contoso.com', accepted: false, reply: { code: 554, enhanced: '5.7.1' } }] });
    expect(relayDenied.message).toContain('554 5.7.1 <alice@contoso.com>: Relay access denied');
    expect(failure(rcptAnswered('530 5.7.0 Authentication required').result)).toMatchObject({ code: 'smtp-auth-required' });
    // Servers also use 5.7.1 for one address they will not take: not a reason to blame the sign-in.
    expect(failure(rcptAnswered('554 5.7.1 <alice@contoso.com>: Recipient address rejected: Access denied').result)).toMatchObject({ code: 'smtp-recipients-rejected' });
    expect(failure(rcptAnswered('550 5.1.1 <alice@contoso.com>: Recipient address rejected: User unknown').result)).toMatchObject({ code: 'smtp-recipients-rejected' });
  });

  it('non-ASCII addresses need SMTPUTF8 and declare it', () => {
    const c = converse(relay([], { recipients: ['jürgen@beispiel.de'] }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', relayEhlo(['SMTPUTF8'])],
      ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com> SMTPUTF8'],
      ['S', '421 bye'],
    ]);
    expect(failure(c.result).code).toBe('smtp-service-unavailable');
  });

  it('check connection (stopBeforeData): MAIL and RCPT, then RSET and QUIT; the step ladder is in the result', () => {
    const c = converse(
      o365Plan(),
      [
        ...O365_AUTHENTICATED,
        ['C', 'MAIL FROM:<test@contoso.onmicrosoft.com> SIZE=48213'],
        ['C', 'RCPT TO:<alice@contoso.com>'],
        ['S', '250 2.1.0 Sender OK\n250 2.1.5 Recipient OK'],
        ['C', 'RSET'],
        ['S', '250 2.0.0 Resetting'],
        ['C', 'QUIT'],
        ['S', '221 2.0.0 Service closing transmission channel'],
      ],
      { stopBeforeData: true },
    );
    const r = success(c.result);
    expect(r.mode).toBe('checked');
    expect(r.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'starttls', 'tls', 'peer', 'ehlo', 'auth', 'mail', 'rcpt', 'rset', 'quit']);
    expect(c.wire).not.toContain('DATA');
  });
});

// --- Failures of the conversation --------------------------------------------------------------

describe('session-level failures', () => {
  it('421 service shutting down mid-session → transient smtp-service-unavailable, closed without QUIT', () => {
    const c = converse(o365Plan(), [
      ...O365_AUTHENTICATED,
      ['C', /^MAIL FROM/],
      ['C', /^RCPT TO/],
      ['C', 'DATA'],
      ['S', '250 2.1.0 Sender OK\n421 4.3.2 Service not available, closing transmission channel'],
    ]);
    const r = failure(c.result);
    expect(r).toMatchObject({ code: 'smtp-service-unavailable', step: 'rcpt', permanent: false, reply: { code: 421, enhanced: '4.3.2' }, evidence: { command: 'RCPT TO:<alice@contoso.com>' } });
    expect(c.wire.at(-1)).toBe('DATA');
  });

  it('554 instead of a greeting → smtp-service-unavailable, permanent; QUIT (RFC 5321 §3.1)', () => {
    const c = converse(o365Plan(), [['CONNECT'], ['S', '554 5.7.1 No SMTP service here'], ['C', 'QUIT'], ['S', '221 bye']]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-service-unavailable', step: 'greeting', permanent: true });
  });

  it('an unexpected reply is a protocol error with the command and the reply', () => {
    const c = converse(o365Plan(), [['CONNECT'], ['S', O365_BANNER], ['C', 'EHLO mfp-4f21.contoso.com'], ['S', O365_EHLO_PLAIN], ['C', 'STARTTLS'], ['S', '250 huh'], ['C', 'QUIT'], ['CLOSED']]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-starttls-unavailable', reply: { code: 250 } });
    const c2 = converse(o365Plan(), [...O365_TO_TLS_EHLO, ['C', /^AUTH XOAUTH2/], ['S', '250 what']]);
    expect(failure(c2.result)).toMatchObject({ code: 'smtp-protocol', step: 'auth', evidence: { command: expect.stringMatching(/^AUTH XOAUTH2 <redacted/) } });
  });

  it('connection lost after the final "." → transient, delivery unknown', () => {
    const c = converse(o365Plan(), [
      ...O365_AUTHENTICATED,
      ['C', /^MAIL/],
      ['C', /^RCPT/],
      ['C', 'DATA'],
      ['S', '250 ok\n250 ok\n354 go'],
      ['DATA'],
      ['CLOSED'],
    ]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-connection-lost', step: 'data-end', permanent: false, evidence: { deliveryUnknown: true } });
  });

  it('a malformed reply stream ends the session with smtp-protocol (no QUIT into a broken stream)', () => {
    const session = new SmtpSession(o365Plan());
    session.start();
    session.onConnected(undefined);
    const actions = session.onProtocolError({ kind: 'line-too-long', detail: 'too long' });
    expect(actions).toEqual([{ type: 'close' }, { type: 'done', result: expect.objectContaining({ code: 'smtp-protocol', step: 'greeting', permanent: false }) }]);
  });

  it('a plan that could inject commands never connects', () => {
    for (const plan of [o365Plan({ from: 'a@x.org>\r\nRCPT TO:<evil@x.org' }), o365Plan({ recipients: ['a b@x.org'] }), o365Plan({ recipients: [] }), o365Plan({ clientName: 'bad name' })]) {
      const actions = new SmtpSession(plan).start();
      expect(actions).toEqual([{ type: 'close' }, { type: 'done', result: expect.objectContaining({ code: 'smtp-bad-plan', permanent: true }) }]);
    }
  });
});

describe('timeouts (RFC 5321 §4.5.3.2, firmware/defaults.ts)', () => {
  it('every wait carries the timeout of its command', () => {
    const c = converse(o365Plan({ recipients: ['a@x.org'] }), [
      ['CONNECT'],
      ['S', '220 relay.lan'],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '250-relay.lan\n250 STARTTLS'],
      ['C', 'STARTTLS'],
      ['S', '220 go'],
      ['TLS'],
      ['VERIFY', TRUSTED],
      ['C', 'EHLO mfp-4f21.contoso.com'],
      ['S', '250-relay.lan\n250 AUTH XOAUTH2'],
      ['C', /^AUTH/],
      ['S', '235 ok'],
      ['C', /^MAIL/],
      ['S', '250 ok'],
      ['C', /^RCPT/],
      ['S', '250 ok'],
      ['C', 'DATA'],
      ['S', '354 go'],
      ['DATA'],
      ['S', '250 ok'],
      ['C', 'QUIT'],
      ['S', '221 bye'],
    ]);
    const waits = Object.fromEntries(c.actions.flatMap((a) => (a.type === 'wait' ? [[a.state, a.timeoutMs]] : [])));
    expect(waits).toMatchObject({ greeting: SMTP_GREETING_TIMEOUT_MS, mail: SMTP_MAIL_TIMEOUT_MS, rcpt: SMTP_RCPT_TIMEOUT_MS, data: SMTP_DATA_INIT_TIMEOUT_MS, 'data-end': SMTP_DATA_END_TIMEOUT_MS });
    expect(c.actions.find((a) => a.type === 'send-data')).toEqual({ type: 'send-data', blockTimeoutMs: SMTP_DATA_BLOCK_TIMEOUT_MS });
  });

  it('no greeting → smtp-timeout in greeting, transient, with the timeout used', () => {
    const c = converse(o365Plan(), [['CONNECT'], ['TIMEOUT']]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-timeout', step: 'greeting', permanent: false, evidence: { timeoutMs: SMTP_GREETING_TIMEOUT_MS } });
  });

  it('no reply after the final "." → smtp-timeout with delivery unknown', () => {
    const c = converse(o365Plan(), [...O365_AUTHENTICATED, ['C', /^MAIL/], ['C', /^RCPT/], ['C', 'DATA'], ['S', '250 ok\n250 ok\n354 go'], ['DATA'], ['TIMEOUT']]);
    expect(failure(c.result)).toMatchObject({ code: 'smtp-timeout', step: 'data-end', evidence: { timeoutMs: SMTP_DATA_END_TIMEOUT_MS, deliveryUnknown: true } });
  });

  it('a timeout waiting for 221 after QUIT keeps the outcome already reached', () => {
    const c = converse(o365Plan(), [...O365_TO_TLS_EHLO, ['C', /^AUTH/], ['S', '535 5.7.3 Authentication unsuccessful'], ['C', 'QUIT'], ['TIMEOUT']]);
    expect(failure(c.result).code).toBe('smtp-auth-failed');
  });

  it('shorter timeouts can be passed (the check-connection ladder)', () => {
    const c = converse(o365Plan(), [['CONNECT'], ['TIMEOUT']], { timeouts: { greetingMs: 1234 } });
    expect(failure(c.result).evidence.timeoutMs).toBe(1234);
  });
});

describe('redaction', () => {
  it('no password, token or base64 credential reaches the transcript, whatever the mechanism', () => {
    const secrets = { password: 'Pa55-w0rd!x', token: 'ya29.SECRET-TOKEN-abcdefghijklmnop' };
    const runs = [
      converse(gmailPlan({ auth: { method: 'plain', user: 'printer@example.com', password: secrets.password } }), [...GMAIL_TO_EHLO, ['C', /^AUTH PLAIN /], ['S', '535 5.7.8 no'], ['C', 'QUIT'], ['CLOSED']]),
      converse(gmailPlan({ auth: { method: 'login', user: 'printer@example.com', password: secrets.password } }), [
        ...GMAIL_TO_EHLO,
        ['C', 'AUTH LOGIN'],
        ['S', '334 VXNlcm5hbWU6'],
        ['C', /.+/],
        ['S', '334 UGFzc3dvcmQ6'],
        ['C', /.+/],
        ['S', '535 5.7.8 no'],
        ['C', 'QUIT'],
        ['CLOSED'],
      ]),
      converse(gmailPlan({ auth: { method: 'xoauth2', user: 'printer@example.com', accessToken: secrets.token } }), [
        ...GMAIL_TO_EHLO,
        ['C', /^AUTH XOAUTH2 /],
        ['S', '334 eyJzdGF0dXMiOiI0MDEifQ=='],
        ['C', ''],
        ['S', '535 5.7.8 no'],
        ['C', 'QUIT'],
        ['CLOSED'],
      ]),
    ];
    for (const run of runs) {
      const text = run.transcript.toText();
      const credentialLines = run.wire.filter((l) => /^AUTH (PLAIN|XOAUTH2) /.test(l) || /^[A-Za-z0-9+/]{8,}=*$/.test(l));
      expect(credentialLines.length).toBeGreaterThan(0); // the real lines did carry credentials …
      for (const secret of [secrets.password, secrets.token, ...credentialLines.map((l) => l.replace(/^AUTH \S+ /, ''))]) {
        expect(text).not.toContain(secret); // … and none of them is in the transcript
      }
      expect(text).not.toContain(Buffer.from(secrets.password).toString('base64'));
      expect(text).toMatch(/<redacted(>|: LOGIN (user name|password)>)/);
      // Not even the credential's length.
      expect(text).not.toMatch(/<redacted: \d+/);
      expect(JSON.stringify(run.result)).not.toContain(secrets.password);
      expect(JSON.stringify(run.result)).not.toContain(secrets.token);
    }
  });
});
