/**
 * The SMTP bench's control sink: a minimal hand-written SMTP server, to show how much of a
 * sender's time the main sink (smtp-server, smtp-sink.ts) costs. It speaks just enough for the
 * three senders: EHLO/HELO, STARTTLS (RFC 3207; bytes before the handshake are dropped), AUTH
 * XOAUTH2 with the bench token only after TLS, MAIL, RCPT, DATA, RSET, NOOP, QUIT, pipelining.
 *
 * DATA is consumed without looking at every byte in JavaScript: the end "CRLF.CRLF" is found with
 * Buffer.indexOf (native) and the bytes are counted; dot-unstuffing is done only on the small
 * messages it keeps for the attachment check. What it reports: smtp-sink-report.ts.
 *
 * Deliberately not done: SIZE enforcement, line-length limits, timeouts, several recipients'
 * bookkeeping, any robustness against a hostile client. It is a bench instrument, not a server.
 *
 * Usage: node --import tsx test/bench/smtp-sink-minimal.ts '{"certPemPath":…,"keyPemPath":…}'
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { BENCH_ACCESS_TOKEN, BENCH_SMTP_HOST, BENCH_SMTP_USER, cpuNowMs } from './smtp-bench-params.ts';
import { emitSinkEvent, reportMessage, VERIFY_MAX_BYTES } from './smtp-sink-report.ts';

const TERMINATOR = Buffer.from('\r\n.\r\n', 'latin1');

interface DataState {
  /** Wire bytes of the message so far (stuffed, without the terminator). */
  bytes: number;
  /** The last up to 4 wire bytes: a terminator may straddle two chunks. */
  tail: Buffer;
  kept: Buffer[] | undefined;
}

class SinkConnection {
  #socket: Socket;
  #tls = false;
  #authed = false;
  #awaitingAuthResponse = false;
  #quit = false;
  #from = '';
  /** Command text not yet ending in CRLF (latin1). */
  #text = '';
  #data: DataState | undefined;
  readonly #startedMs = performance.now();
  readonly #startedCpuMs = cpuNowMs();
  readonly #secureContext: SecureContext;
  readonly #onData = (chunk: Buffer): void => {
    if (this.#quit) return;
    if (this.#data !== undefined) this.#dataChunk(chunk);
    else this.#commandChunk(chunk.toString('latin1'));
  };

  constructor(socket: Socket, secureContext: SecureContext) {
    this.#socket = socket;
    this.#secureContext = secureContext;
    this.#attach(socket);
    socket.write(`220 ${BENCH_SMTP_HOST} ESMTP minimal bench sink\r\n`);
  }

  #attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', (err: Error) => emitSinkEvent({ event: 'error', detail: `connection: ${err.message}` }));
  }

  #commandChunk(text: string): void {
    this.#text += text;
    const replies: string[] = [];
    for (let end = this.#text.indexOf('\r\n'); end >= 0 && this.#data === undefined && !this.#quit; end = this.#text.indexOf('\r\n')) {
      const line = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      const reply = this.#command(line);
      if (reply === 'starttls') {
        this.#startTls(replies);
        return;
      }
      replies.push(reply);
    }
    if (replies.length > 0) this.#socket.write(replies.join(''));
    if (this.#quit) {
      this.#socket.end();
      return;
    }
    if (this.#data !== undefined && this.#text.length > 0) {
      // Message bytes that came in the same read as DATA.
      const rest = Buffer.from(this.#text, 'latin1');
      this.#text = '';
      this.#dataChunk(rest);
    }
  }

  /** The reply (with CRLF) to one command line, or 'starttls'. */
  #command(line: string): string {
    if (this.#awaitingAuthResponse) {
      this.#awaitingAuthResponse = false;
      return this.#auth(line);
    }
    const verb = line.slice(0, 4).toUpperCase();
    switch (verb) {
      case 'EHLO':
        return [`250-${BENCH_SMTP_HOST}`, '250-PIPELINING', '250-8BITMIME', '250-SIZE 536870912', this.#tls ? '250 AUTH XOAUTH2' : '250 STARTTLS', ''].join('\r\n');
      case 'HELO':
        return `250 ${BENCH_SMTP_HOST}\r\n`;
      case 'STAR':
        return this.#tls ? '503 5.5.1 TLS already active\r\n' : 'starttls';
      case 'AUTH': {
        if (!this.#tls) return '530 5.7.0 Must issue a STARTTLS command first\r\n';
        const [, mechanism = '', initial] = line.split(' ');
        if (mechanism.toUpperCase() !== 'XOAUTH2') return '504 5.5.4 Unrecognized authentication type\r\n';
        if (initial !== undefined) return this.#auth(initial);
        this.#awaitingAuthResponse = true;
        return '334 \r\n';
      }
      case 'MAIL':
        if (!this.#authed) return '530 5.7.0 Authentication required\r\n';
        this.#from = /<([^>]*)>/.exec(line)?.[1] ?? '';
        return '250 2.1.0 Accepted\r\n';
      case 'RCPT':
        return '250 2.1.5 Accepted\r\n';
      case 'DATA':
        this.#data = { bytes: 0, tail: Buffer.from('\r\n', 'latin1'), kept: [] };
        return '354 End data with <CR><LF>.<CR><LF>\r\n';
      case 'RSET':
      case 'NOOP':
        return '250 2.0.0 OK\r\n';
      case 'QUIT':
        this.#quit = true;
        return '221 2.0.0 Bye\r\n';
      default:
        return '502 5.5.2 Command not implemented\r\n';
    }
  }

  #auth(response: string): string {
    const decoded = Buffer.from(response, 'base64').toString('utf8');
    if (decoded === `user=${BENCH_SMTP_USER}\u0001auth=Bearer ${BENCH_ACCESS_TOKEN}\u0001\u0001`) {
      this.#authed = true;
      return '235 2.7.0 Accepted\r\n';
    }
    emitSinkEvent({ event: 'error', detail: 'AUTH XOAUTH2 refused' });
    return '535 5.7.8 Authentication credentials invalid\r\n';
  }

  #startTls(replies: string[]): void {
    const plain = this.#socket;
    plain.write([...replies, '220 2.0.0 Ready to start TLS\r\n'].join(''));
    plain.off('data', this.#onData);
    this.#text = ''; // RFC 3207 §4.2: nothing sent before the handshake is used after it
    this.#tls = true;
    this.#authed = false;
    this.#socket = new TLSSocket(plain, { isServer: true, secureContext: this.#secureContext });
    this.#attach(this.#socket);
  }

  #dataChunk(chunk: Buffer): void {
    const data = this.#data!;
    // Offset in `chunk` just after the terminator, or -1. A terminator that straddles the
    // previous chunk and this one is found in the seam (the last bytes before + the first here).
    const seam = Buffer.concat([data.tail, chunk.subarray(0, TERMINATOR.length - 1)]);
    const inSeam = seam.indexOf(TERMINATOR);
    const inChunk = inSeam >= 0 ? -1 : chunk.indexOf(TERMINATOR);
    const after = inSeam >= 0 ? inSeam + TERMINATOR.length - data.tail.length : inChunk >= 0 ? inChunk + TERMINATOR.length : -1;
    const body = after < 0 ? chunk : chunk.subarray(0, after);
    data.bytes += body.length;
    if (data.kept !== undefined && data.bytes <= VERIFY_MAX_BYTES) data.kept.push(body);
    else data.kept = undefined;
    if (after < 0) {
      data.tail = Buffer.concat([data.tail, chunk.subarray(Math.max(0, chunk.length - 4))]).subarray(-4);
      return;
    }
    this.#data = undefined;
    // The count includes the terminator's ".\r\n"; its leading CRLF ends the last line and stays.
    const wireBytes = data.bytes - 3;
    const kept = data.kept === undefined ? undefined : unstuff(Buffer.concat(data.kept).subarray(0, wireBytes));
    const bytes = kept?.length ?? wireBytes;
    this.#socket.write(`250 2.0.0 Queued ${bytes} bytes\r\n`);
    reportMessage(
      { from: this.#from, bytes, sizeExceeded: false, connectToEndMs: performance.now() - this.#startedMs, cpuMs: cpuNowMs() - this.#startedCpuMs },
      kept,
    );
    const rest = chunk.subarray(after);
    if (rest.length > 0) this.#commandChunk(rest.toString('latin1'));
  }
}

/** RFC 5321 §4.5.2: a line that starts with "." lost its first dot in transit. */
function unstuff(wire: Buffer): Buffer {
  const text = wire.toString('latin1');
  return Buffer.from((text.startsWith('.') ? text.slice(1) : text).replaceAll('\r\n.', '\r\n'), 'latin1');
}

const args = JSON.parse(process.argv[2] ?? '{}') as { readonly certPemPath: string; readonly keyPemPath: string };
const [cert, key] = await Promise.all([readFile(args.certPemPath, 'utf8'), readFile(args.keyPemPath, 'utf8')]);
const secureContext = createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
const server = createServer((socket) => void new SinkConnection(socket, secureContext));
server.on('error', (err: Error) => emitSinkEvent({ event: 'error', detail: err.message }));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  emitSinkEvent({ event: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
