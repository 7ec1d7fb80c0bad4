/**
 * SMTP bench sender: the floor. What a bare Node script needs to put the same attachment on the
 * wire, and nothing more: TCP, EHLO, STARTTLS, Node's TLS (verified against the test root, host
 * name included), EHLO, AUTH XOAUTH2, MAIL/RCPT/DATA one after the other, a minimal
 * multipart/mixed message, the file as base64 in 76-character lines (RFC 2045 §6.8), then ".".
 *
 * The body goes out through two reused ~256 KiB buffers: one is filled (native base64 of 3360
 * lines' worth of input, then spread into lines in place) while the other's write is in flight,
 * and each write's callback is awaited before the next write starts. No dot-stuffing: neither
 * base64 nor these headers ever start a line with "." (the real senders stuff; the floor does not
 * need to). Deliberately not done: pipelining, SIZE, any error handling beyond "fail loudly".
 *
 * Wall time: from the TCP connect to the server's 250 to the message.
 */
import { once } from 'node:events';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import {
  BENCH_ACCESS_TOKEN,
  BENCH_RECIPIENT,
  BENCH_SMTP_HOST,
  BENCH_SMTP_USER,
  benchFrom,
  cpuNowMs,
  peakRssKiB,
  printSenderReport,
  senderJobFromArgv,
  type SenderReport,
} from './smtp-bench-params.ts';

/** RFC 2045 §6.8: 57 input bytes make a 76-character line, plus CRLF. */
const LINE_INPUT_BYTES = 57;
const LINE_CHARS = 76;
const LINE_OUTPUT_BYTES = LINE_CHARS + 2;
/** Lines per output buffer: 3360 × 78 = 262,080 bytes (~256 KiB) out, from 191,520 bytes in. */
const LINES_PER_BUFFER = 3360;
const BOUNDARY = 'floor-boundary-2f9d';

/** Reads SMTP replies (RFC 5321 §4.2: the last line has a space after the code) from whichever socket is attached. */
class ReplyReader {
  #text = '';
  #lines: string[] = [];
  readonly #replies: string[] = [];
  #waiter: { resolve: (reply: string) => void; reject: (err: Error) => void } | undefined;
  #failure: Error | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#text += chunk.toString('latin1');
    for (let end = this.#text.indexOf('\r\n'); end >= 0; end = this.#text.indexOf('\r\n')) {
      const line = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      this.#lines.push(line);
      if (line.length === 3 || line[3] === ' ') {
        this.#replies.push(this.#lines.join('\n'));
        this.#lines = [];
      }
    }
    this.#settle();
  };
  readonly #onEnd = (err?: Error): void => {
    this.#failure ??= err instanceof Error ? err : new Error('the server closed the connection');
    this.#settle();
  };

  attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', this.#onEnd);
    socket.on('close', this.#onEnd);
  }

  detach(socket: Socket): void {
    socket.off('data', this.#onData);
    socket.off('error', this.#onEnd);
    socket.off('close', this.#onEnd);
  }

  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#settle();
    });
  }

  #settle(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const reply = this.#replies.shift();
    if (reply !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(reply);
    } else if (this.#failure !== undefined) {
      this.#waiter = undefined;
      waiter.reject(this.#failure);
    }
  }
}

async function expectReply(reader: ReplyReader, code: number, after: string): Promise<string> {
  const reply = await reader.next();
  if (!reply.startsWith(String(code))) throw new Error(`after ${after}: expected ${code}, got: ${reply}`);
  return reply;
}

async function command(socket: Socket, reader: ReplyReader, line: string, code: number, shown = line): Promise<string> {
  await write(socket, Buffer.from(`${line}\r\n`, 'latin1'));
  return expectReply(reader, code, shown);
}

/** Write and wait for the write's callback (the bytes are with the kernel; the buffer is free). */
function write(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
}

/** Fill `input` from the file; fewer bytes only at the end of the file. */
async function readFull(file: FileHandle, input: Buffer): Promise<number> {
  let filled = 0;
  while (filled < input.length) {
    const { bytesRead } = await file.read(input, filled, input.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * base64 of `input[0, n)` into `out` as CRLF-terminated 76-character lines; returns the length.
 * The base64 text is written (natively) at the end of the span it will occupy, then each line is
 * moved down to its place: a line's target never overtakes unread text, so one forward pass works.
 */
function fillBase64Lines(input: Buffer, n: number, out: Buffer): number {
  const chars = 4 * Math.ceil(n / 3);
  const lines = Math.ceil(chars / LINE_CHARS);
  const outLength = chars + 2 * lines;
  let src = outLength - chars;
  out.write(input.toString('base64', 0, n), src, chars, 'latin1');
  let dst = 0;
  for (let l = 0; l < lines; l++) {
    const len = Math.min(LINE_CHARS, outLength - src);
    out.copyWithin(dst, src, src + len);
    dst += len;
    src += len;
    out[dst++] = 0x0d;
    out[dst++] = 0x0a;
  }
  return dst;
}

function messageHead(from: string, fileBytes: number): string {
  return [
    `From: Bench floor <${from}>`,
    `To: ${BENCH_RECIPIENT}`,
    `Subject: Scan ${fileBytes} bytes`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Date.now().toString(36)}.floor@bench.test>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'Scanned document attached.',
    `--${BOUNDARY}`,
    'Content-Type: application/octet-stream; name="scan.bin"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="scan.bin"',
    '',
    '',
  ].join('\r\n');
}

async function main(): Promise<SenderReport> {
  const job = senderJobFromArgv(process.argv);
  const caPem = await readFile(job.caPemPath, 'utf8');
  const file = await open(job.filePath, 'r');
  const from = benchFrom('floor');
  const input = Buffer.allocUnsafe(LINES_PER_BUFFER * LINE_INPUT_BYTES);
  const outs = [Buffer.allocUnsafe(LINES_PER_BUFFER * LINE_OUTPUT_BYTES), Buffer.allocUnsafe(LINES_PER_BUFFER * LINE_OUTPUT_BYTES)] as const;

  const started = performance.now();
  const startedCpuMs = cpuNowMs();
  const plain = tcpConnect({ host: '127.0.0.1', port: job.port });
  await once(plain, 'connect');
  const reader = new ReplyReader();
  reader.attach(plain);
  await expectReply(reader, 220, 'connect');
  await command(plain, reader, 'EHLO floor.bench.test', 250);
  await command(plain, reader, 'STARTTLS', 220);
  reader.detach(plain);
  const secure = tlsConnect({ socket: plain, servername: BENCH_SMTP_HOST, ca: caPem, minVersion: 'TLSv1.2' });
  await once(secure, 'secureConnect'); // rejectUnauthorized (the default): chain and host are checked
  reader.attach(secure);
  await command(secure, reader, 'EHLO floor.bench.test', 250);
  const xoauth2 = Buffer.from(`user=${BENCH_SMTP_USER}\u0001auth=Bearer ${BENCH_ACCESS_TOKEN}\u0001\u0001`).toString('base64');
  await command(secure, reader, `AUTH XOAUTH2 ${xoauth2}`, 235, 'AUTH XOAUTH2 <token>');
  await command(secure, reader, `MAIL FROM:<${from}>`, 250);
  await command(secure, reader, `RCPT TO:<${BENCH_RECIPIENT}>`, 250);
  await command(secure, reader, 'DATA', 354);

  let inFlight = write(secure, Buffer.from(messageHead(from, job.fileBytes), 'latin1'));
  let which = 0;
  for (;;) {
    const n = await readFull(file, input);
    if (n > 0) {
      const out = outs[which]!;
      const length = fillBase64Lines(input, n, out);
      await inFlight;
      inFlight = write(secure, out.subarray(0, length));
      which ^= 1;
    }
    if (n < input.length) break;
  }
  await inFlight;
  await file.close();
  const reply = await command(secure, reader, `--${BOUNDARY}--\r\n.`, 250, '.');
  const wallMs = performance.now() - started;
  const cpuMs = cpuNowMs() - startedCpuMs;
  secure.end('QUIT\r\n');
  return { ok: true, wallMs, maxRssKiB: peakRssKiB(), cpuMs, reply };
}

printSenderReport(await main().catch((err: unknown): SenderReport => ({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) })));
