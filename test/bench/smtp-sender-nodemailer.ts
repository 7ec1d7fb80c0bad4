/**
 * SMTP bench sender: nodemailer, as a Node application would send the same file. The attachment
 * is a file stream; STARTTLS is required and verified against the test root (Node's own check:
 * chain and host name); XOAUTH2 with the bench token.
 *
 * Wall time: from just before sendMail to its resolution, which comes with the server's 250 to the
 * message (nodemailer sends QUIT afterwards without waiting for it).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
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

/** Read size for the attachment file, bytes: the same as the firmware sender's. */
const READ_CHUNK_BYTES = 256 * 1024;

async function main(): Promise<SenderReport> {
  const job = senderJobFromArgv(process.argv);
  const caPem = await readFile(job.caPemPath, 'utf8');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: job.port,
    secure: false,
    requireTLS: true,
    name: 'bench-nodemailer.bench.test',
    tls: { ca: caPem, servername: BENCH_SMTP_HOST, minVersion: 'TLSv1.2' },
    auth: { type: 'OAuth2', user: BENCH_SMTP_USER, accessToken: BENCH_ACCESS_TOKEN },
  });
  const started = performance.now();
  const startedCpuMs = cpuNowMs();
  const info = await transport.sendMail({
    from: { name: 'Bench nodemailer', address: benchFrom('nodemailer') },
    to: BENCH_RECIPIENT,
    subject: `Scan ${job.fileBytes} bytes`,
    text: 'Scanned document attached.',
    attachments: [{ filename: 'scan.bin', contentType: 'application/octet-stream', content: createReadStream(job.filePath, { highWaterMark: READ_CHUNK_BYTES }) }],
  });
  const wallMs = performance.now() - started;
  const cpuMs = cpuNowMs() - startedCpuMs;
  const reply = String(info.response);
  if (!reply.startsWith('250')) return { ok: false, error: `the server answered the message with: ${reply}` };
  return { ok: true, wallMs, maxRssKiB: peakRssKiB(), cpuMs, reply };
}

printSenderReport(await main().catch((err: unknown): SenderReport => ({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) })));
