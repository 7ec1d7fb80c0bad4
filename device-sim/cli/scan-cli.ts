/**
 * The tester's command line: scan to e-mail on a running simulated printer, as if at its panel.
 *
 *   npm run sim -- scan --to a@example.com [--to …] [--cc …] [--bcc …] [--pages 3] [--format pdf|jpeg]
 *                       [--dpi 150|300|600] [--colour colour|greyscale|black-and-white]
 *                       [--subject …] [--body …] [--file-name …] [--sim http://127.0.0.1:8081]
 *                       [--user NAME --password PW] [--no-wait]
 *
 * It talks to the simulator's panel API (`/panel/api/*`, forwarded to the firmware), draws a
 * progress bar through scanning and sending (cli-progress), and exits with:
 *   0 delivered · 1 failed (the device code is printed) · 2 bad usage or input · 3 refused before
 *   scanning (e.g. e-mail not set up) · 4 the simulator cannot be reached · 5 gave up waiting.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { PanelJobView } from '../../firmware/web/panel-routes.ts';

export const EXIT = { delivered: 0, failed: 1, usage: 2, refused: 3, unreachable: 4, timeout: 5 } as const;

const USAGE = `usage: npm run sim -- scan --to ADDRESS [--to …] [--cc …] [--bcc …] [--pages N] [--format pdf|jpeg]
       [--dpi 150|300|600] [--colour colour|greyscale|black-and-white] [--subject TEXT] [--body TEXT]
       [--file-name NAME] [--sim URL] [--user NAME --password PW] [--no-wait] [--timeout SECONDS]`;

interface Io {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly err: NodeJS.WritableStream;
  readonly fetch: typeof fetch;
}

/** Run `scan` with its arguments (after the word "scan"); resolves to the exit code. */
export async function scanCli(argv: readonly string[], io: Io = { out: process.stdout, err: process.stderr, fetch }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        to: { type: 'string', multiple: true },
        cc: { type: 'string', multiple: true },
        bcc: { type: 'string', multiple: true },
        pages: { type: 'string', default: '1' },
        format: { type: 'string', default: 'pdf' },
        dpi: { type: 'string', default: '300' },
        colour: { type: 'string', default: 'colour' },
        subject: { type: 'string', default: 'Scanned document' },
        body: { type: 'string', default: 'Scanned at the device.' },
        'file-name': { type: 'string', default: 'Scan' },
        sim: { type: 'string', default: process.env.SIM_URL ?? 'http://127.0.0.1:8081' },
        user: { type: 'string' },
        password: { type: 'string' },
        'no-wait': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '600' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    io.err.write(`${(e as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out.write(`${USAGE}\n`);
    return EXIT.delivered;
  }
  const base = URL.parse(values.sim);
  if (!base) {
    io.err.write(`--sim: not a URL: ${values.sim}\n`);
    return EXIT.usage;
  }
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const r = await io.fetch(new URL(path, base), { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    return { status: r.status, json: await r.json().catch(() => undefined) };
  };
  const request = {
    to: values.to ?? [],
    cc: values.cc ?? [],
    bcc: values.bcc ?? [],
    subject: values.subject,
    body: values.body,
    fileName: values['file-name'],
    format: values.format,
    colour: values.colour,
    dpi: Number(values.dpi),
    pages: Number(values.pages),
  };

  try {
    if (values.user !== undefined) {
      const login = await api('POST', '/panel/api/login', { user: values.user, password: values.password ?? '' });
      if (login.status !== 200) {
        io.err.write(`login: ${login.json?.message ?? login.status}\n`);
        return EXIT.refused;
      }
    }
    const started = await api('POST', '/panel/api/scan', request);
    if (started.status === 400) {
      for (const f of started.json?.fields ?? []) io.err.write(`--${cliName(f.path)}: ${f.message}\n`);
      if (!started.json?.fields?.length) io.err.write(`${started.json?.message ?? 'refused'}\n`);
      return EXIT.usage;
    }
    if (started.status !== 202) {
      io.err.write(`${started.json?.code ? `${started.json.code} ` : ''}${started.json?.message ?? `the simulator answered ${started.status}`}\n`);
      return EXIT.refused;
    }
    const jobId = started.json.jobId as string;
    io.out.write(`Job ${jobId}\n`);
    if (values['no-wait']) return EXIT.delivered;
    return await follow(api, jobId, Number(values.timeout) * 1000, io);
  } catch (e) {
    io.err.write(`cannot reach the simulator at ${base.href}: ${(e as Error).message}\n`);
    return EXIT.unreachable;
  }
}

/** Poll the job until it ends, drawing the progress bar; the exit code. */
async function follow(api: (m: string, p: string) => Promise<{ status: number; json: any }>, jobId: string, timeoutMs: number, io: Io): Promise<number> {
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} |{bar}| {percentage}% {detail}', barsize: 30, hideCursor: true, stream: io.out, noTTYOutput: true, notTTYSchedule: 1000 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0, { phase: pad('scanning'), detail: '' });
  const deadline = Date.now() + timeoutMs;
  let view: PanelJobView | undefined;
  for (;;) {
    const r = await api('GET', `/panel/api/jobs/${encodeURIComponent(jobId)}`);
    if (r.status === 200) {
      view = r.json as PanelJobView;
      bar.update(view.phase === 'delivered' ? 100 : view.percent, { phase: pad(view.phase), detail: view.phase === 'retrying' ? view.message : '' });
      if (view.phase === 'delivered' || view.phase === 'failed') break;
    }
    if (Date.now() > deadline) {
      bar.stop();
      io.err.write(`gave up waiting for job ${jobId} (last phase: ${view?.phase ?? 'unknown'})\n`);
      return EXIT.timeout;
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  bar.stop();
  if (view.phase === 'delivered') {
    io.out.write(`Delivered: ${view.message}\n`);
    return EXIT.delivered;
  }
  io.err.write(`Failed${view.code ? ` (${view.code})` : ''}: ${view.message}\n`);
  return EXIT.failed;
}

function pad(phase: string): string {
  return phase.padEnd(10);
}

/** The option a request field came from, for error messages (`to.0` → `to`). */
function cliName(path: string): string {
  const head = path.split('.')[0] ?? path;
  return head === 'fileName' ? 'file-name' : head;
}
