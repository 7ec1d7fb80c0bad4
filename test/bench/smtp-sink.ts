/**
 * The SMTP bench's main sink: smtp-server on 127.0.0.1 in its own process, a real SMTP server
 * implementation used as a fast local mail server. STARTTLS with the bench certificate (RSA,
 * test root), AUTH XOAUTH2 with the one bench token (nothing else; no AUTH before TLS), SIZE
 * 512 MiB, and a DATA handler that only counts the bytes (smtp-server has already removed the
 * dot-stuffing, in a JavaScript loop over every byte). What it reports: smtp-sink-report.ts.
 *
 * One change to the library: it greets only after a fixed 100 ms pause ("early talker"
 * detection, smtp-connection.js init()). That pause is not work, but it would be in every
 * sender's wall time (100 ms of a 1 MiB send's ~150 ms) and pull every ratio towards 1; this
 * sink greets at once.
 *
 * Usage: node --import tsx test/bench/smtp-sink.ts '{"certPemPath":…,"keyPemPath":…}'
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { BENCH_ACCESS_TOKEN, BENCH_SMTP_HOST, BENCH_SMTP_USER, cpuNowMs } from './smtp-bench-params.ts';
import { emitSinkEvent, reportMessage, VERIFY_MAX_BYTES } from './smtp-sink-report.ts';

const SIZE_LIMIT_BYTES = 512 * 1024 * 1024;

const args = JSON.parse(process.argv[2] ?? '{}') as { readonly certPemPath: string; readonly keyPemPath: string };
const [cert, key] = await Promise.all([readFile(args.certPemPath, 'utf8'), readFile(args.keyPemPath, 'utf8')]);
/** Per connection: when it started, on the wall and on the CPU. */
const started = new Map<string, { atMs: number; cpuMs: number }>();

/** smtp-server that sends its greeting at once instead of after the 100 ms early-talker pause. */
class PromptSmtpServer extends SMTPServer {
  override connect(socket: Socket | TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions); // a plain connection arms its 100 ms timer in here
    for (const conn of this.connections) {
      if (conn._socket !== socket) continue;
      const greet = conn.connectionReady.bind(conn);
      conn.connectionReady = () => {}; // the library's timer fires into nothing
      greet();
    }
  }
}

const server = new PromptSmtpServer({
  name: BENCH_SMTP_HOST,
  key,
  cert,
  minVersion: 'TLSv1.2',
  authMethods: ['XOAUTH2'],
  size: SIZE_LIMIT_BYTES,
  disableReverseLookup: true,
  logger: false,
  onConnect(session, callback) {
    started.set(session.id, { atMs: performance.now(), cpuMs: cpuNowMs() });
    callback();
  },
  onAuth(auth, _session, callback) {
    if (auth.method === 'XOAUTH2' && auth.username === BENCH_SMTP_USER && auth.accessToken === BENCH_ACCESS_TOKEN) {
      callback(null, { user: auth.username });
      return;
    }
    emitSinkEvent({ event: 'error', detail: `AUTH refused: ${auth.method} for ${auth.username}` });
    callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
  },
  onData(stream, session, callback) {
    let bytes = 0;
    const kept: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= VERIFY_MAX_BYTES) kept.push(chunk);
    });
    stream.on('end', () => {
      const start = started.get(session.id);
      const facts = {
        from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
        bytes,
        sizeExceeded: stream.sizeExceeded,
        connectToEndMs: start === undefined ? -1 : performance.now() - start.atMs,
        cpuMs: start === undefined ? -1 : cpuNowMs() - start.cpuMs,
      };
      if (stream.sizeExceeded) callback(new Error('message too large'));
      else callback(null, `Queued ${bytes} bytes`);
      reportMessage(facts, !stream.sizeExceeded && bytes <= VERIFY_MAX_BYTES ? Buffer.concat(kept) : undefined);
    });
  },
  onClose(session) {
    started.delete(session.id);
  },
});
server.on('error', (err: Error) => emitSinkEvent({ event: 'error', detail: err.message }));
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  emitSinkEvent({ event: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
