/**
 * The SMTP driver (firmware/smtp/driver.ts) over NodeNet and the SimNetwork against a real
 * smtp-server on 127.0.0.1 (STARTTLS and implicit TLS, certificates from the simulator's test
 * PKI), plus raw TCP servers for what no well-behaved server does (injection after STARTTLS,
 * dropping mid-DATA, silence).
 *
 * Trust: `verifyPeer` here is a TEST STUB that accepts exactly the leaf certificate the test
 * server presents (SHA-256 fingerprint of the DER). The device's real trust decision (chain to
 * the device CA store at device time, host name per RFC 9525) is firmware/pki's, written in
 * parallel; the driver only promises to ask it after every handshake and before any write.
 */
import { createHash } from 'node:crypto';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate, pemChain, type TestCertificate } from '../../device-sim/cloud/test-pki.ts';
import { NodeNet } from '../../device-sim/hal/node-net.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { SimNetwork } from '../../device-sim/hal/sim-network.ts';
import { RealTimeSource } from '../../device-sim/hal/time-source.ts';
import type { TlsInfo } from '../../firmware/hal/net.ts';
import { sendMail, type SendMailOptions, type SmtpMessageSource } from '../../firmware/smtp/driver.ts';
import type { SendPlan } from '../../firmware/smtp/plan.ts';
import type { SmtpFailure, SmtpResult, SmtpSuccess } from '../../firmware/smtp/result.ts';
import type { PeerVerdict } from '../../firmware/smtp/session.ts';
import { deferred, LoopbackServers } from '../support/loopback-servers.ts';
import { liveBytes } from '../support/live-memory.ts';

const NOW_MS = Date.now();
const DAY_MS = 86_400_000;
const HOST = 'smtp.example.test';
const PASSWORD = 'Integration-S3cret!';

let root: TestCertificate;
let leaf: TestCertificate;
let rogueLeaf: TestCertificate;
let serverContext: SecureContext;
const loopback = new LoopbackServers();

beforeAll(() => {
  root = createRootCa({ commonName: 'Sim Root CA', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 3650 * DAY_MS });
  leaf = issueCertificate(root, { commonName: HOST, dnsNames: [HOST], notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 90 * DAY_MS });
  const rogueRoot = createRootCa({ commonName: 'Rogue Root', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 3650 * DAY_MS });
  rogueLeaf = issueCertificate(rogueRoot, { commonName: HOST, dnsNames: [HOST], notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 90 * DAY_MS });
  serverContext = createSecureContext({ cert: pemChain(leaf, root), key: leaf.keyPem });
});

afterEach(() => loopback.closeAll());

// --- Helpers -----------------------------------------------------------------------------------

const fingerprint = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** TEST STUB of the trust decision: the leaf must be the one this test issued (see file header). */
async function acceptTestLeaf(tls: TlsInfo): Promise<PeerVerdict> {
  const presented = tls.peerChainDer[0];
  if (presented !== undefined && fingerprint(presented) === fingerprint(leaf.certDer)) return { trusted: true, summary: `CN=${HOST} (test leaf)` };
  return { trusted: false, reason: { code: 'untrusted', detail: 'not the test leaf' }, summary: presented === undefined ? 'no certificate' : `sha256 ${fingerprint(presented).slice(0, 16)}…` };
}

function hal() {
  const network = new SimNetwork();
  network.addHost(HOST, '127.0.0.1'); // a loopback address: the port passes through
  return { net: new NodeNet(network), clock: new SimClock(new RealTimeSource()) };
}

function plan(over: Partial<SendPlan> = {}): SendPlan {
  return {
    clientName: 'mfp-test.example.test',
    security: 'starttls',
    auth: { method: 'plain', user: 'printer@example.test', password: PASSWORD },
    from: 'printer@example.test',
    recipients: ['alice@example.test'],
    eightBit: true,
    ...over,
  };
}

function options(port: number, message: SmtpMessageSource | undefined, over: Partial<SendMailOptions> = {}): SendMailOptions {
  const p = over.plan ?? plan();
  return { host: HOST, port, security: p.security, minTlsVersion: 'TLSv1.2', servername: HOST, verifyPeer: acceptTestLeaf, plan: p, message, ...over };
}

/** A message from bytes, handed over in small pieces to exercise chunk boundaries. */
function messageOf(body: Uint8Array, pieceBytes = 4093): SmtpMessageSource {
  return {
    sizeBytes: body.length,
    chunks: async function* () {
      for (let i = 0; i < body.length; i += pieceBytes) yield body.subarray(i, i + pieceBytes);
    },
  };
}

interface Received {
  /** Every command line the server read (smtp-server redacts AUTH payloads itself). */
  readonly commands: string[];
  readonly auths: { method: string; username?: string; accessToken?: string }[];
  readonly mailFrom: string[];
  readonly messages: Buffer[];
}

/** A real smtp-server; records commands, AUTH, MAIL and the DATA it received (already dot-unstuffed). */
async function startSmtpServer(over: Partial<SMTPServerOptions> & { certificate?: TestCertificate; keepMessages?: boolean; onChunk?: (b: Buffer) => void } = {}): Promise<{ port: number; received: Received }> {
  const received: Received = { commands: [], auths: [], mailFrom: [], messages: [] };
  const cert = over.certificate ?? leaf;
  const { certificate: _c, keepMessages = true, onChunk, ...serverOptions } = over;
  const server = new SMTPServer({
    key: cert.keyPem,
    cert: pemChain(cert, root),
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    size: 50 * 1024 * 1024,
    logger: {
      debug: (entry: { tnx?: string }, _message: string, line: string) => {
        if (entry.tnx === 'command') received.commands.push(line);
      },
      info: () => {},
      warn: () => {},
      error: () => {},
      trace: () => {},
      fatal: () => {},
    } as unknown as SMTPServerOptions['logger'],
    onAuth(auth, _session, callback) {
      received.auths.push({ method: auth.method, ...(auth.username === undefined ? {} : { username: auth.username }), ...(auth.accessToken === undefined ? {} : { accessToken: auth.accessToken }) });
      const ok = auth.method === 'XOAUTH2' ? auth.accessToken === 'ya29.test-token' : auth.password === PASSWORD;
      if (ok) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Authentication unsuccessful'), { responseCode: 535 }));
    },
    onMailFrom(address, _session, callback) {
      received.mailFrom.push(address.address);
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('nobody')) callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
      else callback();
    },
    onData(stream, _session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        onChunk?.(chunk);
        if (keepMessages) parts.push(chunk);
      });
      stream.on('end', () => {
        received.messages.push(Buffer.concat(parts));
        callback(null, 'Message queued as 4711');
      });
    },
    ...serverOptions,
  });
  const port = await loopback.listenSmtp(server);
  return { port, received };
}

/** A raw TCP server for misbehaving peers; `onLine` answers with what to write (or does it itself). */
async function startRawServer(onConnection: (socket: Socket) => void): Promise<number> {
  return loopback.listen(createTcpServer((socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  }));
}

function readLines(stream: Socket, onLine: (line: string) => void): () => void {
  let buffer = '';
  const onData = (data: Buffer) => {
    buffer += data.toString('latin1');
    let nl: number;
    while ((nl = buffer.indexOf('\r\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      onLine(line);
    }
  };
  stream.on('data', onData);
  return () => stream.off('data', onData);
}

const success = (r: SmtpResult): SmtpSuccess => {
  if (!r.ok) throw new Error(`expected success, got ${r.code} in ${r.step}: ${r.message}`);
  return r;
};
const failure = (r: SmtpResult): SmtpFailure => {
  if (r.ok) throw new Error('expected a failure, got success');
  return r;
};

// --- Tests -------------------------------------------------------------------------------------

describe('SMTP driver against smtp-server (STARTTLS)', () => {
  it('delivers byte-exact: ".", "..", ".x" lines, a 998-octet line, UTF-8; one recipient refused; no secret in the transcript', async () => {
    const { port, received } = await startSmtpServer();
    const body = Buffer.from(
      [
        'From: printer@example.test',
        'To: alice@example.test',
        'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        '.',
        '..',
        '.x',
        'x.',
        `${'l'.repeat(998)}`,
        `.${'m'.repeat(997)}`,
        'Grüße aus dem Drucker — 日本語 😀',
        '',
        '.',
        '',
      ].join('\r\n'),
      'utf8',
    );
    const { result, transcript } = await sendMail(hal(), options(port, messageOf(body, 7), { plan: plan({ recipients: ['alice@example.test', 'nobody@example.test', 'bob@example.test'] }) }));
    const r = success(result);
    expect(r.perRecipient.map((p) => [p.address, p.accepted, p.reply.code])).toEqual([
      ['alice@example.test', true, 250],
      ['nobody@example.test', false, 550],
      ['bob@example.test', true, 250],
    ]);
    expect(received.messages).toHaveLength(1);
    expect(received.messages[0]!.equals(body)).toBe(true);
    expect(received.auths).toEqual([{ method: 'PLAIN', username: 'printer@example.test' }]);
    expect(received.commands.map((c) => c.split(' ')[0])).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'RCPT', 'RCPT', 'DATA', 'QUIT']);
    expect(received.commands).toContain(`MAIL FROM:<printer@example.test> SIZE=${body.length} BODY=8BITMIME`);
    const text = transcript.toText();
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(Buffer.from(`\u0000printer@example.test\u0000${PASSWORD}`).toString('base64'));
    expect(text).not.toContain('Grüße');
    expect(text).toMatch(/TLS up: TLSv1\.[23], \S+; peer CN=smtp\.example\.test \(test leaf\)/);
    const dotLines = body.toString('utf8').split('\r\n').filter((l) => l.startsWith('.')).length;
    expect(text).toContain(`<${body.length + dotLines + 3} bytes of message>`); // + stuffed dots + ".\r\n"
  });

  it('streams a 10 MB message intact without process memory growing with it', async () => {
    let hash = createHash('sha256');
    let receivedBytes = 0;
    const { port } = await startSmtpServer({
      keepMessages: false,
      onChunk: (chunk) => {
        hash.update(chunk);
        receivedBytes += chunk.length;
      },
    });
    // One 64 KiB block of 80-octet lines, starting with a "." line so that every block boundary
    // is a line start with a dot; repeated 160 times (10 MiB) without ever building the whole.
    const line = (i: number) => `${i % 7 === 0 ? '.' : ''}${String(i).padStart(8, '0')} ${'q'.repeat(69)}`.slice(0, 78) + '\r\n';
    let blockText = '';
    for (let i = 0; blockText.length + 80 <= 65_536; i++) blockText += line(i);
    const block = Buffer.from(blockText, 'latin1');
    const blocks = Math.ceil((10 * 1024 * 1024) / block.length);
    const expected = createHash('sha256');
    for (let i = 0; i < blocks; i++) expected.update(block);
    const source: SmtpMessageSource = {
      sizeBytes: block.length * blocks,
      chunks: async function* () {
        for (let i = 0; i < blocks; i++) yield block;
      },
    };

    // Warm up (JIT, TLS, socket buffers), then sample memory over the big send. Raw RSS is
    // mostly garbage here (V8's young generation alone may hold tens of MiB between scavenges;
    // measured: the same ~9 MiB growth for 10 and 40 MiB messages), so the check that would catch
    // buffering is on LIVE memory: heap + ArrayBuffers sampled right after a forced full GC.
    success((await sendMail(hal(), options(port, messageOf(block.subarray(0, 200_000))))).result);
    const live = liveBytes;
    const baselineLive = live();
    let peakLive = baselineLive;
    const sampler = setInterval(() => {
      peakLive = Math.max(peakLive, live());
    }, 20);
    receivedBytes = 0;
    hash = createHash('sha256');
    const { result } = await sendMail(hal(), options(port, source, { plan: plan({ eightBit: false }) }));
    clearInterval(sampler);

    success(result);
    expect(receivedBytes).toBe(block.length * blocks);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    // A client that buffers the message (as smtp-client does) holds all 10 MiB live at once.
    expect(peakLive - baselineLive).toBeLessThan(8 * 1024 * 1024);
  });

  it('check connection (stopBeforeData): every rung reported, RSET and QUIT, no DATA', async () => {
    const { port, received } = await startSmtpServer();
    const { result } = await sendMail(hal(), options(port, undefined, { stopBeforeData: true }));
    const r = success(result);
    expect(r.mode).toBe('checked');
    expect(r.steps.map((s) => `${s.step}:${s.ok}`)).toEqual(['connect:true', 'greeting:true', 'ehlo:true', 'starttls:true', 'tls:true', 'peer:true', 'ehlo:true', 'auth:true', 'mail:true', 'rcpt:true', 'rset:true', 'quit:true']);
    expect(received.commands.map((c) => c.split(' ')[0])).toEqual(['EHLO', 'STARTTLS', 'EHLO', 'AUTH', 'MAIL', 'RCPT', 'RSET', 'QUIT']);
  });

  it('a wrong password: smtp-auth-failed with the 535 reply', async () => {
    const { port } = await startSmtpServer();
    const { result } = await sendMail(hal(), options(port, messageOf(Buffer.from('x\r\n')), { plan: plan({ auth: { method: 'login', user: 'printer@example.test', password: 'wrong' } }) }));
    expect(failure(result)).toMatchObject({ code: 'smtp-auth-failed', step: 'auth', permanent: true, reply: { code: 535 }, evidence: { mechanism: 'LOGIN' } });
  });

  it('a message over the advertised SIZE is refused before MAIL', async () => {
    const { port, received } = await startSmtpServer({ size: 1000 });
    const { result } = await sendMail(hal(), options(port, messageOf(Buffer.alloc(5000, 0x61))));
    expect(failure(result)).toMatchObject({ code: 'smtp-size-exceeded', evidence: { sizeBytes: 5000, sizeLimit: 1000 } });
    expect(received.mailFrom).toEqual([]);
  });

  it('a certificate the verifier refuses: smtp-tls-untrusted, and NO AUTH and NO MAIL reach the server', async () => {
    const { port, received } = await startSmtpServer({ certificate: rogueLeaf });
    const { result, transcript } = await sendMail(hal(), options(port, messageOf(Buffer.from('secret mail\r\n'))));
    expect(failure(result)).toMatchObject({ code: 'smtp-tls-untrusted', step: 'tls-verify', permanent: true, evidence: { untrustedReason: { code: 'untrusted' } } });
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the server read whatever might have been sent
    expect(received.commands).toEqual(['EHLO mfp-test.example.test', 'STARTTLS']);
    expect(received.auths).toEqual([]);
    expect(received.mailFrom).toEqual([]);
    expect(transcript.toText()).toContain('NOT trusted');
  });
});

describe('SMTP driver against smtp-server (implicit TLS, XOAUTH2)', () => {
  it('authenticates with XOAUTH2 and delivers', async () => {
    const { port, received } = await startSmtpServer({ secure: true });
    const body = Buffer.from('Subject: oauth\r\n\r\nhello\r\n');
    const { result } = await sendMail(
      hal(),
      options(port, messageOf(body), { plan: plan({ security: 'tls', auth: { method: 'xoauth2', user: 'printer@example.test', accessToken: 'ya29.test-token' }, eightBit: false }) }),
    );
    success(result);
    expect(received.auths).toEqual([{ method: 'XOAUTH2', username: 'printer@example.test', accessToken: 'ya29.test-token' }]);
    expect(received.messages[0]!.equals(body)).toBe(true);
  });
});

describe('SMTP driver against misbehaving servers (raw TCP)', () => {
  it('RFC 3207 §4.2 regression (STARTTLS response injection): a forged "250 AUTH PLAIN" sent with "220 Go ahead" is discarded on a real socket', async () => {
    const commands: string[] = [];
    const port = await startRawServer((socket) => {
      socket.write('220 raw.example.test ESMTP\r\n');
      const stop = readLines(socket, (line) => {
        commands.push(line);
        if (line.startsWith('EHLO')) socket.write('250-raw.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n');
        if (line === 'STARTTLS') {
          stop();
          // The attack: plain-text replies pipelined right after the 220, in the same segment.
          socket.write('220 2.0.0 Go ahead\r\n250-raw.example.test\r\n250 AUTH PLAIN LOGIN\r\n');
          const secure = new TLSSocket(socket, { isServer: true, secureContext: serverContext });
          secure.on('error', () => {});
          readLines(secure as unknown as Socket, (l) => {
            commands.push(`tls: ${l}`);
            if (l.startsWith('EHLO')) secure.write('250-raw.example.test\r\n250 AUTH XOAUTH2\r\n');
            if (l === 'QUIT') secure.end('221 bye\r\n');
          });
        }
      });
    });
    const { result, transcript } = await sendMail(hal(), options(port, messageOf(Buffer.from('x\r\n'))));
    expect(failure(result)).toMatchObject({ code: 'smtp-auth-mechanism-unavailable', evidence: { advertised: ['XOAUTH2'] } });
    expect(commands).toEqual(['EHLO mfp-test.example.test', 'STARTTLS', 'tls: EHLO mfp-test.example.test', 'tls: QUIT']);
    expect(transcript.toText()).toMatch(/discarded/);
  });

  it('a server that drops the connection mid-DATA: a transient smtp-connection-lost', async () => {
    let dataBytes = 0;
    const port = await startRawServer((socket) => {
      socket.write('220 raw ESMTP\r\n');
      let inData = false;
      const stop = readLines(socket, (line) => {
        if (inData) return;
        if (line.startsWith('EHLO')) socket.write('250-raw\r\n250 8BITMIME\r\n');
        else if (line.startsWith('MAIL') || line.startsWith('RCPT')) socket.write('250 ok\r\n');
        else if (line === 'DATA') {
          inData = true;
          stop();
          socket.write('354 go ahead\r\n');
          socket.on('data', (d: Buffer) => {
            dataBytes += d.length;
            if (dataBytes > 100_000) socket.destroy();
          });
        }
      });
    });
    // Like a spool file: each chunk is a real read (a macrotask), not just a microtask. (With a
    // pure in-memory source the close can be reported only after the terminator was "written" to
    // the dead socket: NodeNet resolves writes on a destroyed socket at once but reports onClose
    // on Node's later 'close' event. The result is then smtp-connection-lost in data-end with
    // deliveryUnknown: still transient, only less precise.)
    const line = Buffer.from(`${'d'.repeat(78)}\r\n`.repeat(800)); // 64 KB
    const source: SmtpMessageSource = {
      chunks: async function* () {
        for (let i = 0; i < 64; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          yield line;
        }
      },
    };
    const { result } = await sendMail(hal(), options(port, source, { plan: plan({ security: 'none', auth: { method: 'none' } }) }));
    const r = failure(result);
    expect(r).toMatchObject({ code: 'smtp-connection-lost', step: 'data-sending', permanent: false });
    expect(r.evidence.deliveryUnknown).toBeUndefined();
  });

  it('a server that never answers: smtp-timeout (short timeouts through the options)', async () => {
    const connected = deferred();
    const port = await startRawServer(() => connected.resolve());
    const { result } = await sendMail(hal(), options(port, messageOf(Buffer.from('x\r\n')), { timeouts: { greetingMs: 300 } }));
    await connected.promise;
    expect(failure(result)).toMatchObject({ code: 'smtp-timeout', step: 'greeting', permanent: false, evidence: { timeoutMs: 300 } });
  });

  it('a name that does not resolve in the simulated DNS: smtp-host-not-found', async () => {
    const { result } = await sendMail(hal(), { ...options(25, messageOf(Buffer.from('x\r\n'))), host: 'nowhere.example.test' });
    expect(failure(result)).toMatchObject({ code: 'smtp-host-not-found', step: 'connecting' });
  });
});
