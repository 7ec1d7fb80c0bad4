/** The tester's command lines run in-process: what they print on each stream, and the exit code. */
import { PassThrough } from 'node:stream';

export interface CliIo {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  readonly fetch: typeof fetch;
}

export async function runCli(cli: (io: CliIo) => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let outText = '';
  let errText = '';
  out.on('data', (d: Buffer) => (outText += d.toString()));
  err.on('data', (d: Buffer) => (errText += d.toString()));
  const code = await cli({ out, err, fetch });
  return { code, out: outText, err: errText };
}
