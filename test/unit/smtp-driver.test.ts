/**
 * The SMTP driver (firmware/smtp/driver.ts) over an in-memory Net and the virtual clock: no
 * sockets, deterministic. What only the driver can get wrong: discarding bytes that arrive with
 * the STARTTLS 220 (RFC 3207 §4.2), one write per pipelined group, awaited writes, timeouts on
 * the monotonic clock, data errors that must not send the terminator, and the transcript.
 */
import { describe, expect, it } from 'vitest';
import type { NetResult, NetSocket, SocketHandlers, TlsInfo } from '../../firmware/hal/net.ts';
import { SMTP_DATA_BLOCK_TIMEOUT_MS, SMTP_DATA_CHUNK_BYTES, SMTP_GREETING_TIMEOUT_MS, SMTP_INTERACTIVE_DEADLINE_MS, SMTP_INTERACTIVE_GREETING_TIMEOUT_MS } from '../../firmware/defaults.ts';
import { INTERACTIVE_SMTP_TIMEOUTS } from '../../firmware/smtp/timeouts.ts';
import { sendMail, type SendMailOptions } from '../../firmware/smtp/driver.ts';
import type { SendPlan } from '../../firmware/smtp/plan.ts';
import type { SmtpFailure, SmtpResult } from '../../firmware/smtp/result.ts';
import { memoryHal } from '../support/memory-hal.ts';

const TLS: TlsInfo = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', peerChainDer: [new Uint8Array([1, 2, 3])] };
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** A scripted server behind a fake socket. `reply(line)` answers each command line. */
class FakeServer implements NetSocket {
  tls: TlsInfo | undefined;
  handlers: SocketHandlers | undefined;
  readonly lines: string[] = [];
  readonly writeCalls: string[] = [];
  data = '';
  closed = false;
  /** When set, writes during DATA never resolve (a peer that stopped reading). */
  stallData = false;
  #buffer = '';
  #inData = false;

  constructor(readonly reply: (line: string, server: FakeServer) => string | undefined) {}

  #early: string[] = [];

  /** Like NodeNet: bytes that arrive before handlers are set wait for them. */
  send(text: string): void {
    if (this.handlers === undefined) this.#early.push(text);
    else this.handlers.onData(enc(text));
  }

  setHandlers(handlers: SocketHandlers): void {
    this.handlers = handlers;
    queueMicrotask(() => {
      for (const text of this.#early.splice(0)) handlers.onData(enc(text));
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const text = dec(bytes);
    this.writeCalls.push(text);
    if (this.#inData) {
      if (this.stallData) return new Promise(() => {});
      this.data += text;
      if (this.data.endsWith('\r\n.\r\n') || this.data === '.\r\n') {
        this.#inData = false;
        this.#answer('.');
      }
      return Promise.resolve();
    }
    this.#buffer += text;
    let nl: number;
    while ((nl = this.#buffer.indexOf('\r\n')) !== -1) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 2);
      this.lines.push(line);
      this.#answer(line);
    }
    return Promise.resolve();
  }

  #answer(line: string): void {
    const out = this.reply(line, this);
    if (out === undefined) return;
    if (out.startsWith('354')) this.#inData = true;
    queueMicrotask(() => this.send(out));
  }

  async upgradeTls(): Promise<NetResult<TlsInfo>> {
    this.tls = TLS;
    return { ok: true, value: TLS };
  }

  close(): void {
    this.closed = true;
  }
}

function fakeNet(server: FakeServer, greeting: string | undefined) {
  return {
    connect: async (): Promise<NetResult<NetSocket>> => {
      if (greeting !== undefined) queueMicrotask(() => server.send(greeting));
      return { ok: true, value: server };
    },
  };
}

const plan = (over: Partial<SendPlan> = {}): SendPlan => ({
  clientName: 'mfp.example.com',
  security: 'starttls',
  auth: { method: 'plain', user: 'printer@example.com', password: 'S3cret-pass' },
  from: 'printer@example.com',
  recipients: ['a@example.org', 'b@example.org'],
  eightBit: false,
  ...over,
});

function options(over: Partial<SendMailOptions> = {}): SendMailOptions {
  const p = over.plan ?? plan();
  return {
    host: 'smtp.example.com',
    port: 587,
    security: p.security,
    minTlsVersion: 'TLSv1.2',
    servername: 'smtp.example.com',
    verifyPeer: async () => ({ trusted: true, summary: 'CN=smtp.example.com' }),
    plan: p,
    message: { chunks: () => (async function* () {
      yield enc('Subject: hi\r\n\r\n.hello\r\n');
    })() },
    ...over,
  };
}

/** A well-behaved STARTTLS server with PIPELINING and AUTH PLAIN after TLS. */
function goodServer(extra: (line: string, s: FakeServer) => string | undefined = () => undefined): FakeServer {
  return new FakeServer((line, s) => {
    const special = extra(line, s);
    if (special !== undefined) return special;
    if (line.startsWith('EHLO')) return s.tls ? '250-smtp.example.com\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 AUTH PLAIN LOGIN\r\n' : '250-smtp.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n';
    if (line === 'STARTTLS') return '220 2.0.0 Ready to start TLS\r\n';
    if (line.startsWith('AUTH PLAIN')) return '235 2.7.0 Accepted\r\n';
    if (line.startsWith('MAIL')) return '250 2.1.0 OK\r\n';
    if (line.startsWith('RCPT')) return '250 2.1.5 OK\r\n';
    if (line === 'DATA') return '354 Go ahead\r\n';
    if (line === '.') return '250 2.0.0 OK queued\r\n';
    if (line === 'RSET') return '250 2.0.0 OK\r\n';
    if (line === 'QUIT') return '221 2.0.0 Bye\r\n';
    return '502 5.5.1 Unrecognized command\r\n';
  });
}

const failure = (r: SmtpResult): SmtpFailure => {
  if (r.ok) throw new Error(`expected a failure, got success`);
  return r;
};

describe('SMTP driver over an in-memory Net', () => {
  it('sends a mail; MAIL, both RCPTs and DATA go out in ONE write; the message is stuffed; the transcript has no secret', async () => {
    const server = goodServer();
    const { hal } = memoryHal();
    const { result, transcript } = await sendMail({ net: fakeNet(server, '220 smtp.example.com ESMTP\r\n'), clock: hal.clock }, options());
    expect(result.ok, JSON.stringify(result) + transcript.toText()).toBe(true);
    expect(server.writeCalls).toContain('MAIL FROM:<printer@example.com>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n');
    expect(server.data).toBe('Subject: hi\r\n\r\n..hello\r\n.\r\n');
    expect(server.lines.at(-1)).toBe('QUIT');
    expect(server.closed).toBe(true);
    const text = transcript.toText();
    expect(text).toContain('C: AUTH PLAIN <redacted');
    expect(text).toContain(`C: <${server.data.length} bytes of message>`);
    expect(text).toContain('TLS up: TLSv1.3, TLS_AES_128_GCM_SHA256; peer CN=smtp.example.com');
    expect(text).not.toContain('S3cret-pass');
    expect(text).not.toContain(Buffer.from('\u0000printer@example.com\u0000S3cret-pass').toString('base64'));
    expect(text).not.toContain('.hello');
  });

  it('RFC 3207 §4.2 regression (STARTTLS response injection): replies delivered together with "220 Go ahead" are discarded, never parsed as post-TLS replies', async () => {
    // The forged lines arrive in the SAME read as the 220, so the platform cannot drop them: they
    // are already in the driver's line buffer. A half line is included, to prove the parser is reset.
    const server = goodServer((line, s) => {
      if (line === 'STARTTLS') return '220 2.0.0 Go ahead\r\n250-smtp.example.com\r\n250 AUTH PLAIN\r\n250-AUTH PL';
      if (line.startsWith('EHLO') && s.tls) return '250-smtp.example.com\r\n250 AUTH XOAUTH2\r\n';
      return undefined;
    });
    const { hal } = memoryHal();
    const { result, transcript } = await sendMail({ net: fakeNet(server, '220 smtp.example.com ESMTP\r\n'), clock: hal.clock }, options());
    // Had the forged reply been used, the session would have seen AUTH PLAIN or failed with smtp-protocol.
    expect(failure(result)).toMatchObject({ code: 'smtp-auth-mechanism-unavailable', evidence: { advertised: ['XOAUTH2'] } });
    expect(server.lines.filter((l) => l.startsWith('AUTH'))).toEqual([]);
    expect(transcript.toText()).toContain('discarded before TLS (RFC 3207 §4.2): 250 AUTH PLAIN');
  });

  it('verifyPeer is asked before anything is written after TLS; a throwing verifier means untrusted and nothing more is written', async () => {
    const server = goodServer();
    const { hal } = memoryHal();
    let linesAtVerify = -1;
    const { result } = await sendMail(
      { net: fakeNet(server, '220 smtp.example.com ESMTP\r\n'), clock: hal.clock },
      options({
        verifyPeer: async (tls) => {
          linesAtVerify = server.lines.length;
          expect(tls).toBe(TLS);
          throw new Error('store unreadable');
        },
      }),
    );
    expect(failure(result)).toMatchObject({ code: 'smtp-tls-untrusted' });
    expect(server.lines).toEqual(['EHLO mfp.example.com', 'STARTTLS']);
    expect(linesAtVerify).toBe(2);
    expect(server.closed).toBe(true);
  });

  it('a server that never greets: smtp-timeout after the greeting timeout of the monotonic clock', async () => {
    const server = goodServer();
    const { hal, source } = memoryHal();
    const pending = sendMail({ net: fakeNet(server, undefined), clock: hal.clock }, options());
    await flush();
    source.advance(SMTP_GREETING_TIMEOUT_MS - 1);
    await flush();
    let settled = false;
    void pending.then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    source.advance(1);
    const { result } = await pending;
    expect(failure(result)).toMatchObject({ code: 'smtp-timeout', step: 'greeting', permanent: false });
    expect(server.closed).toBe(true);
  });

  it('a greeting wait that ends with not one byte received says so (serverSilent); a greeting that began to arrive does not', async () => {
    for (const [greeting, serverSilent] of [[undefined, true], ['220-smtp.exa', undefined]] as const) {
      const { hal, source } = memoryHal();
      const pending = sendMail({ net: fakeNet(goodServer(), greeting), clock: hal.clock }, options({ timeouts: INTERACTIVE_SMTP_TIMEOUTS }));
      await flush();
      source.advance(SMTP_INTERACTIVE_GREETING_TIMEOUT_MS);
      const { result } = await pending;
      expect(failure(result), String(greeting)).toMatchObject({ code: 'smtp-timeout', step: 'greeting', evidence: { timeoutMs: SMTP_INTERACTIVE_GREETING_TIMEOUT_MS } });
      expect(failure(result).evidence.serverSilent, String(greeting)).toBe(serverSilent);
    }
  });

  it('a deadline for the whole session ends a server that answers every command just inside its own timeout: no QUIT, the socket closed, evidence.deadline', async () => {
    // Each reply comes after 40 % of the deadline: no reply wait runs out, the session as a whole does.
    const delayMs = SMTP_INTERACTIVE_DEADLINE_MS * 0.4;
    const { hal, source } = memoryHal();
    const server = goodServer();
    const slow = new FakeServer((line, s) => {
      const out = server.reply(line, s);
      if (out !== undefined) hal.clock.schedule(delayMs, () => s.send(out));
      return undefined;
    });
    const pending = sendMail({ net: fakeNet(slow, '220 slow.example.com\r\n'), clock: hal.clock }, options({ timeouts: INTERACTIVE_SMTP_TIMEOUTS, deadlineMs: SMTP_INTERACTIVE_DEADLINE_MS }));
    let settled = false;
    void pending.then(() => (settled = true));
    for (let at = 0; at < SMTP_INTERACTIVE_DEADLINE_MS - 1; at += 1000) {
      await flush();
      source.advance(Math.min(1000, SMTP_INTERACTIVE_DEADLINE_MS - 1 - at));
    }
    await flush();
    expect(settled).toBe(false);
    source.advance(1);
    const { result, transcript } = await pending;
    expect(failure(result)).toMatchObject({ code: 'smtp-timeout', evidence: { deadline: true, timeoutMs: SMTP_INTERACTIVE_DEADLINE_MS } });
    expect(slow.lines).not.toContain('QUIT');
    expect(slow.closed).toBe(true);
    expect(transcript.toText()).toContain(`deadline of ${SMTP_INTERACTIVE_DEADLINE_MS} ms passed`);
  });

  it('the deadline ends a connect that never completes, and a socket that connects after it is closed at once', async () => {
    const { hal, source } = memoryHal();
    const server = goodServer();
    let connectNow!: () => void;
    const net = {
      connect: () => new Promise<NetResult<NetSocket>>((resolve) => (connectNow = () => resolve({ ok: true, value: server }))),
    };
    const pending = sendMail({ net, clock: hal.clock }, options({ deadlineMs: 5000 }));
    await flush();
    source.advance(5000);
    const { result } = await pending;
    expect(failure(result)).toMatchObject({ code: 'smtp-timeout', step: 'connecting', evidence: { deadline: true, serverSilent: true } });
    connectNow();
    await flush();
    expect(server.closed).toBe(true);
    expect(server.lines).toEqual([]);
  });

  it('a certificate accepted without verification is not called "trusted" in the transcript', async () => {
    const { hal } = memoryHal();
    const { result, transcript } = await sendMail(
      { net: fakeNet(goodServer(), '220 smtp.example.com ESMTP\r\n'), clock: hal.clock },
      options({ verifyPeer: async () => ({ trusted: true, unverified: true, summary: 'CN=self; NOT verified (Verify Server Certificate is off)' }) }),
    );
    expect(result.ok).toBe(true);
    const text = transcript.toText();
    expect(text).toContain('NOT verified');
    expect(text).toContain('accepted WITHOUT verification');
    expect(text).not.toContain('peer certificate trusted');
  });

  it('a peer that stops reading during DATA: smtp-timeout after the data-block timeout', async () => {
    const server = goodServer();
    server.stallData = true;
    const { hal, source } = memoryHal();
    const big = enc(`${'z'.repeat(78)}\r\n`.repeat(Math.ceil((3 * SMTP_DATA_CHUNK_BYTES) / 80))); // several blocks before the last
    const pending = sendMail({ net: fakeNet(server, '220 ok\r\n'), clock: hal.clock }, options({ message: { chunks: () => (async function* () {
      yield big;
    })() } }));
    for (let i = 0; i < 20; i++) await flush();
    source.advance(SMTP_DATA_BLOCK_TIMEOUT_MS - 1);
    await flush();
    expect(server.closed).toBe(false);
    source.advance(1);
    const { result } = await pending;
    expect(failure(result)).toMatchObject({ code: 'smtp-timeout', step: 'data-sending', evidence: { timeoutMs: SMTP_DATA_BLOCK_TIMEOUT_MS } });
  });

  it('a line over 1000 octets: smtp-line-too-long; the connection is closed and the terminator never sent', async () => {
    const server = goodServer();
    const { hal } = memoryHal();
    const { result } = await sendMail(
      { net: fakeNet(server, '220 ok\r\n'), clock: hal.clock },
      options({ message: { chunks: () => (async function* () {
        yield enc('Subject: x\r\n\r\n');
        yield enc('y'.repeat(1200));
      })() } }),
    );
    expect(failure(result)).toMatchObject({ code: 'smtp-line-too-long', step: 'data-sending', permanent: true });
    expect(server.data).not.toContain('\r\n.\r\n');
    expect(server.lines.at(-1)).toBe('DATA');
    expect(server.closed).toBe(true);
  });

  it('a message source that throws: smtp-message-source-failed, transient, terminator never sent', async () => {
    const server = goodServer();
    const { hal } = memoryHal();
    const { result } = await sendMail(
      { net: fakeNet(server, '220 ok\r\n'), clock: hal.clock },
      options({ message: { chunks: () => (async function* () {
        yield enc('Subject: x\r\n\r\nbody\r\n');
        throw new Error('spool read error');
      })() } }),
    );
    expect(failure(result)).toMatchObject({ code: 'smtp-message-source-failed', permanent: false, evidence: { dataError: { detail: 'spool read error' } } });
    expect(server.data).not.toContain('.\r\n');
  });

  it('stopBeforeData: no message needed; RSET and QUIT; the ladder is in result.steps', async () => {
    const server = goodServer();
    const { hal } = memoryHal();
    const { result } = await sendMail({ net: fakeNet(server, '220 ok\r\n'), clock: hal.clock }, { ...options({ stopBeforeData: true }), message: undefined });
    expect(result.ok && result.mode).toBe('checked');
    expect(server.lines.slice(-2)).toEqual(['RSET', 'QUIT']);
    expect(server.lines).not.toContain('DATA');
    expect(result.steps.map((s) => s.step)).toEqual(['connect', 'greeting', 'ehlo', 'starttls', 'tls', 'peer', 'ehlo', 'auth', 'mail', 'rcpt', 'rcpt', 'rset', 'quit']);
  });

  it('options that disagree with the plan, or no message, are a smtp-bad-plan result without a connection', async () => {
    const { hal } = memoryHal();
    let connects = 0;
    const net = { connect: async () => (connects++, { ok: false as const, error: { kind: 'other' as const, detail: 'x' } }) };
    expect(failure((await sendMail({ net, clock: hal.clock }, options({ security: 'tls' }))).result).code).toBe('smtp-bad-plan');
    expect(failure((await sendMail({ net, clock: hal.clock }, { ...options(), message: undefined })).result).code).toBe('smtp-bad-plan');
    expect(connects).toBe(0);
  });

  it('a connect failure maps to a code: dns → smtp-host-not-found, refused → smtp-connect-failed', async () => {
    const { hal } = memoryHal();
    const net = (kind: 'dns' | 'refused') => ({ connect: async () => ({ ok: false as const, error: { kind, detail: `${kind}!` } }) });
    expect(failure((await sendMail({ net: net('dns'), clock: hal.clock }, options())).result)).toMatchObject({ code: 'smtp-host-not-found', step: 'connecting' });
    expect(failure((await sendMail({ net: net('refused'), clock: hal.clock }, options())).result)).toMatchObject({ code: 'smtp-connect-failed', evidence: { netError: { kind: 'refused' } } });
  });
});

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
