/**
 * What Office 365 and Gmail say on the wire: banners, EHLO lists, and every reply text the emulated
 * servers send, in each provider's own words (protocols.md C.2, C.3, C.6, C.7, C.11).
 *
 * mail-servers.ts decides *when* a reply is due (smtp-server does the protocol); this file decides
 * *what it says*. A reply is a code and one or more lines, each line the text after "250-"/"250 "
 * including its enhanced status code (RFC 2034), so multi-line replies such as Gmail's
 * `535-5.7.8 ... Learn more at` / `535 5.7.8  https://...` come out exactly.
 *
 * Texts marked [OBS] in protocols.md are copied; where no real transcript was at hand the text is
 * this emulator's own and says so here:
 * - `lineTooLong` (both): real servers differ (Gmail is said to fold, Exchange to reject); ours
 *   rejects after DATA with 500 5.5.6 to make a framing bug loud.
 * - O365 `authBeforeTls`: modelled on Exchange's 504 5.7.4; exact text unconfirmed.
 * - O365 refusals of a password (basic authentication retired): both of graph-exchange.md G's
 *   wordings, [OBS] 535 5.7.139 and [DOC] 550 5.7.30; which one a tenant sees is not confirmed,
 *   so exchange-limits.ts lets the tester choose.
 * - O365 `rset`, `noop`, `quit`: Exchange's usual words, not checked against a transcript.
 * - `idleTimeout` (the reply before an idle connection is closed): Gmail's is in Google's own
 *   table of Gmail SMTP errors (Google Workspace Admin Help, "Gmail SMTP errors and codes":
 *   451 4.4.2 "Timeout - closing connection.", and " - gsmtp" on every error). O365's is
 *   Exchange's transport response for an inactivity timeout (SmtpResponse.TimeoutOccurred in
 *   Microsoft.Exchange.Data.Transport, 451 4.7.0 "Timeout waiting for client input"), not seen
 *   in an Exchange Online transcript: whether Online adds its diagnostic tail is not known, so
 *   mail-servers.ts lets a tester put other words in its place (`setIdleTimeoutReply`).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { GMAIL_SIZE_OCTETS, GMAIL_SMTP_SCOPE, OFFICE365_APP_ONLY_ROLE, OFFICE365_APP_ONLY_SCOPE, OFFICE365_SIZE_OCTETS, OFFICE365_SMTP_SCOPE } from './cloud-defaults.ts';

export type MailProviderKind = 'office365' | 'gmail';

/** A reply: the code, and the text of each line (without the "250-"/"250 " prefix). */
export interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
}

/** What a reply may mention: per connection id, the simulated now, the client's address. */
export interface ReplyContext {
  readonly connectionId: string;
  readonly nowMs: number;
  readonly clientAddress: string;
}

/** The replies smtp-server sends with fixed texts, which we say in the provider's words. */
export type ReplySlot =
  | 'startTls'
  | 'mailFromOk'
  | 'rcptToOk'
  | 'dataGo'
  | 'authOk'
  /** After an XOAUTH2 / OAUTHBEARER 334 challenge, once the client answered it. */
  | 'bearerFailed'
  | 'authBeforeTls'
  | 'authRequired'
  | 'sizeExceeded'
  | 'lineTooLong'
  | 'quit'
  | 'rset'
  | 'noop'
  /** Ours, not the library's: the idle timeout ends the connection with this (mail-servers.ts). */
  | 'idleTimeout';

/** Why an AUTH failed (decided by mail-servers.ts, worded here). */
export type AuthFailure =
  | 'invalid-token'
  | 'expired-token'
  | 'wrong-scope'
  | 'user-mismatch'
  | 'smtp-auth-disabled'
  | 'refused'
  | 'bad-password'
  | 'no-app-password'
  /** A password where only OAuth is taken: O365's 535 5.7.139 wording. */
  | 'basic-auth-disabled'
  /** The same, in O365's 550 5.7.30 wording (the retirement announcement's). */
  | 'basic-auth-unsupported';

/**
 * How a failed AUTH is answered: at once with a reply, or (Gmail bearer mechanisms) with a 334
 * challenge carrying base64 JSON, after which the client must answer (an empty line for XOAUTH2,
 * `AQ==` for OAUTHBEARER) and gets the `bearerFailed` reply.
 */
export type AuthFailureAnswer = { readonly kind: 'reply'; readonly reply: Reply } | { readonly kind: 'challenge'; readonly json: Readonly<Record<string, string>> };

export interface EhloState {
  readonly secure: boolean;
  /** This endpoint offers STARTTLS (587) rather than implicit TLS (465). */
  readonly startTls: boolean;
  readonly authenticated: boolean;
  readonly sizeOctets: number;
}

export interface MailPersonality {
  readonly kind: MailProviderKind;
  /** The name in the banner and the EHLO reply. */
  readonly serverName: string;
  /** The HELO reply: smtp-server's format, "%s" = server name, then "[client address]". */
  readonly heloFormat: string;
  /** Scopes any one of which makes a bearer token good for SMTP. */
  readonly acceptedScopes: readonly string[];
  /**
   * App-only (client-credential) tokens: the scope (audience) and application permission they
   * need, with XOAUTH2's `user=` a mailbox the app may reach (O365, graph-exchange.md E). Absent:
   * app-only tokens are refused.
   */
  readonly appOnly?: { readonly scope: string; readonly role: string };
  readonly defaultSizeOctets: number;
  /** Mechanisms offered after TLS, in the order advertised. */
  readonly authMechanisms: readonly string[];
  /**
   * AUTH PLAIN / LOGIN: retired (O365 client submission, C.3) or app passwords (Gmail). For O365
   * this is the start value of the `basicAuthRetired` Exchange behaviour (exchange-limits.ts).
   */
  readonly basicAuth: 'retired' | 'app-passwords';
  newConnectionId(): string;
  greeting(ctx: ReplyContext): string;
  /** EHLO reply lines: the greeting line, then one extension per line. */
  ehlo(ctx: ReplyContext, state: EhloState): string[];
  reply(slot: ReplySlot, ctx: ReplyContext): Reply;
  authFailure(failure: AuthFailure, mechanism: string, ctx: ReplyContext): AuthFailureAnswer;
  dataAccepted(ctx: ReplyContext): Reply;
  /**
   * Present when the provider refuses, after DATA, a MAIL FROM that is not the authenticated
   * mailbox and not granted to it (O365 SendAsDenied). Gmail does not refuse (it rewrites the
   * From of mail it does not own, which is not emulated).
   */
  readonly sendAsDenied?: (ctx: ReplyContext, user: string, from: string) => Reply;
}

// ---------------------------------------------------------------------------------------------
// Office 365 (smtp.office365.com:587)

export function office365Personality(): MailPersonality {
  // Exchange front-end and mailbox server names, e.g. SN4PR0501CA0087 in namprd05.
  const region = pick(['SN4PR', 'BY5PR', 'MN2PR', 'CH2PR', 'DM6PR']);
  const prd = String(randomInt(1, 20)).padStart(2, '0');
  const frontEnd = `${region}${prd}${String(randomInt(1, 99)).padStart(2, '0')}CA${String(randomInt(1, 9999)).padStart(4, '0')}`;
  const mailboxHost = `${region}${prd}${String(randomInt(1, 99)).padStart(2, '0')}MB${String(randomInt(1000, 9999))}.namprd${prd}.prod.outlook.com`;
  const serverName = `${frontEnd}.outlook.office365.com`;
  const frontEndFqdn = `${frontEnd}.namprd${prd}.prod.outlook.com`;
  /** The diagnostic tail Exchange puts on refusals: front end, ISO time, session id. */
  const diag = (ctx: ReplyContext) => `[${frontEndFqdn} ${new Date(ctx.nowMs).toISOString()} ${ctx.connectionId}]`;
  const one = (code: number, line: string): Reply => ({ code, lines: [line] });

  return {
    kind: 'office365',
    serverName,
    heloFormat: '%s Hello %s',
    acceptedScopes: [OFFICE365_SMTP_SCOPE, 'https://outlook.office365.com/SMTP.Send'],
    appOnly: { scope: OFFICE365_APP_ONLY_SCOPE, role: OFFICE365_APP_ONLY_ROLE },
    defaultSizeOctets: OFFICE365_SIZE_OCTETS,
    authMechanisms: ['LOGIN', 'XOAUTH2'],
    basicAuth: 'retired',
    newConnectionId: () => randomBytes(8).toString('hex').toUpperCase(),
    // [OBS] "220 <HOST>.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sun, 23 Nov 2025 11:12:20 +0000 [08DE2A6028D26C22]"
    greeting: (ctx) => `${serverName} Microsoft ESMTP MAIL Service ready at ${rfc1123(ctx.nowMs)} [${ctx.connectionId}]`,
    // [OBS] C.6, without DSN, BINARYMIME and CHUNKING (smtp-server implements neither BDAT nor DSN here).
    ehlo: (ctx, s) => [
      `${serverName} Hello [${ctx.clientAddress}]`,
      `SIZE ${s.sizeOctets}`,
      'PIPELINING',
      'ENHANCEDSTATUSCODES',
      ...(s.secure ? (s.authenticated ? [] : ['AUTH LOGIN XOAUTH2']) : s.startTls ? ['STARTTLS'] : []),
      '8BITMIME',
      'SMTPUTF8',
    ],
    reply(slot, ctx) {
      switch (slot) {
        case 'startTls':
          return one(220, '2.0.0 SMTP server ready');
        case 'mailFromOk':
          return one(250, '2.1.0 Sender OK');
        case 'rcptToOk':
          return one(250, '2.1.5 Recipient OK');
        case 'dataGo':
          return one(354, 'Start mail input; end with <CRLF>.<CRLF>');
        case 'authOk':
          return one(235, '2.7.0 Authentication successful');
        case 'bearerFailed':
          return one(535, `5.7.3 Authentication unsuccessful ${diag(ctx)}`);
        case 'authBeforeTls':
          return one(504, `5.7.4 Unrecognized authentication type ${diag(ctx)}`);
        case 'authRequired':
          return one(530, `5.7.57 Client not authenticated to send mail. ${diag(ctx)}`);
        case 'sizeExceeded':
          return one(552, '5.3.4 Message size exceeds fixed maximum message size');
        case 'lineTooLong':
          return one(500, `5.5.6 Message has lines longer than 1000 octets (RFC 5321 4.5.3.1.6) ${diag(ctx)}`);
        case 'quit':
          return one(221, '2.0.0 Service closing transmission channel');
        case 'rset':
          return one(250, '2.0.0 Resetting');
        case 'noop':
          return one(250, '2.0.0 OK');
        case 'idleTimeout':
          return one(451, '4.7.0 Timeout waiting for client input');
      }
    },
    authFailure(failure, _mechanism, ctx) {
      switch (failure) {
        case 'smtp-auth-disabled':
          // [OBS] simonrob/email-oauth2-proxy#193, nodemailer#1484
          return {
            kind: 'reply',
            reply: one(535, `5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. ${diag(ctx)}`),
          };
        case 'basic-auth-disabled':
          // [OBS] G: nodemailer#1714, mailR#107
          return { kind: 'reply', reply: one(535, `5.7.139 Authentication unsuccessful, basic authentication is disabled. ${diag(ctx)}`) };
        case 'basic-auth-unsupported':
          // [DOC] G: the Exchange Team's retirement post
          return { kind: 'reply', reply: one(550, '5.7.30 Basic authentication is not supported for Client Submission.') };
        default:
          // [OBS] MailKit#1126: no 334 challenge from O365, 535 5.7.3 at once.
          return { kind: 'reply', reply: one(535, `5.7.3 Authentication unsuccessful ${diag(ctx)}`) };
      }
    },
    dataAccepted: () => one(250, `2.0.0 OK <${randomBytes(16).toString('hex').toUpperCase()}@${mailboxHost}> [Hostname=${mailboxHost}]`),
    // [OBS] C.3; after DATA (the check is at store submission, STOREDRV.Submission).
    sendAsDenied: (_ctx, user, from) =>
      one(
        554,
        `5.2.252 SendAsDenied; ${user} not allowed to send as ${from}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; ` +
          `Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=${mailboxHost}]`,
      ),
  };
}

// ---------------------------------------------------------------------------------------------
// Gmail (smtp.gmail.com:465 and :587)

export function gmailPersonality(): MailPersonality {
  const serverName = 'smtp.gmail.com';
  const tail = (ctx: ReplyContext) => `${ctx.connectionId} - gsmtp`;
  const one = (code: number, line: string): Reply => ({ code, lines: [line] });
  const unixS = (ctx: ReplyContext) => Math.floor(ctx.nowMs / 1000);
  // [OBS] PHPMailer#2328, MailKit#1329: two spaces before the URL.
  const badCredentials = (ctx: ReplyContext): Reply => ({
    code: 535,
    lines: ['5.7.8 Username and Password not accepted. Learn more at', `5.7.8  https://support.google.com/mail/?p=BadCredentials ${tail(ctx)}`],
  });

  return {
    kind: 'gmail',
    serverName,
    heloFormat: '%s at your service, %s',
    acceptedScopes: [GMAIL_SMTP_SCOPE],
    defaultSizeOctets: GMAIL_SIZE_OCTETS,
    // Real Gmail also lists PLAIN-CLIENTTOKEN and XOAUTH (legacy Google mechanisms, not emulated).
    authMechanisms: ['LOGIN', 'PLAIN', 'XOAUTH2', 'OAUTHBEARER'],
    basicAuth: 'app-passwords',
    // Shaped like "d2e1a72fcca58-718e5982ec5sm2493870b3a.169".
    newConnectionId: () =>
      `${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(6).toString('hex').slice(0, 11)}sm${randomInt(1_000_000, 9_999_999)}${randomBytes(2).toString('hex').slice(0, 3)}.${randomInt(1, 400)}`,
    greeting: (ctx) => `${serverName} ESMTP ${tail(ctx)}`,
    // [OBS] C.6, without CHUNKING (no BDAT in smtp-server).
    ehlo: (ctx, s) => [
      `${serverName} at your service, [${ctx.clientAddress}]`,
      `SIZE ${s.sizeOctets}`,
      '8BITMIME',
      ...(s.secure ? ['AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER'] : s.startTls ? ['STARTTLS'] : []),
      'ENHANCEDSTATUSCODES',
      'PIPELINING',
      'SMTPUTF8',
    ],
    reply(slot, ctx) {
      switch (slot) {
        case 'startTls':
          return one(220, '2.0.0 Ready to start TLS');
        case 'mailFromOk':
          return one(250, `2.1.0 OK ${tail(ctx)}`);
        case 'rcptToOk':
          return one(250, `2.1.5 OK ${tail(ctx)}`);
        case 'dataGo':
          // Two spaces after the code, as remembered from Gmail transcripts (unconfirmed).
          return one(354, ` Go ahead ${tail(ctx)}`);
        case 'authOk':
          return one(235, '2.7.0 Accepted');
        case 'bearerFailed':
          return badCredentials(ctx);
        case 'authBeforeTls':
          return one(530, `5.7.0 Must issue a STARTTLS command first. ${tail(ctx)}`);
        case 'authRequired':
          return { code: 530, lines: ['5.7.0 Authentication Required. Learn more at', `5.7.0  https://support.google.com/mail/?p=WantAuthError ${tail(ctx)}`] };
        case 'sizeExceeded':
          return {
            code: 552,
            lines: [
              "5.3.4 Your message exceeded Google's message size limits. Please visit",
              '5.3.4  https://support.google.com/mail/?p=MaxSizeError to view our size',
              `5.3.4 guidelines. ${tail(ctx)}`,
            ],
          };
        case 'lineTooLong':
          return one(500, `5.5.6 Message has lines longer than 1000 octets (RFC 5321 4.5.3.1.6) ${tail(ctx)}`);
        case 'quit':
          return one(221, `2.0.0 closing connection ${tail(ctx)}`);
        case 'rset':
          return one(250, `2.1.5 Flushed ${tail(ctx)}`);
        case 'noop':
          return one(250, `2.0.0 OK  ${unixS(ctx)} ${tail(ctx)}`);
        case 'idleTimeout':
          return one(451, `4.4.2 Timeout - closing connection. ${tail(ctx)}`);
      }
    },
    authFailure(failure, mechanism, ctx) {
      if (mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER') {
        // [DOC + OBS] C.2: 400/"Bearer" for a bad token, 401 for an expired one.
        return { kind: 'challenge', json: { status: failure === 'expired-token' ? '401' : '400', schemes: 'Bearer', scope: GMAIL_SMTP_SCOPE } };
      }
      if (failure === 'no-app-password') {
        // An account with 2-step verification and no app password (commonly seen with PLAIN/LOGIN).
        return {
          kind: 'reply',
          reply: { code: 534, lines: ['5.7.9 Application-specific password required. Learn more at', `5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor ${tail(ctx)}`] },
        };
      }
      return { kind: 'reply', reply: badCredentials(ctx) };
    },
    // [OBS] C.6: "250 2.0.0 OK  1725842199 d2e1a72fcca58-... - gsmtp" (two spaces after OK).
    dataAccepted: (ctx) => one(250, `2.0.0 OK  ${unixS(ctx)} ${tail(ctx)}`),
  };
}

/** RFC 1123 / RFC 5322 date in UTC with a numeric zone, as Exchange writes it: "Sun, 22 Nov 2026 10:00:00 +0000". */
export function rfc1123(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

function pick<T>(items: readonly T[]): T {
  return items[randomInt(0, items.length)]!;
}
