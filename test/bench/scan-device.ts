/**
 * Scan bench, the device side: one simulated printer (firmware over the Node HAL, Remote UI,
 * scanner and spool) in its own process, bundled by esbuild and run with plain node so that its
 * peak RSS is the device's own (the emulated cloud runs in the bench's process and is reached
 * through the same simulated network table, passed in as a snapshot).
 *
 * Argument: JSON {stateDir, remoteUiDir, network: SimNetworkSnapshot, factoryCaDerBase64: string[]}.
 * Prints {"event":"ready","remoteUi":…,"factoryPassword":…} (the label). Then, for each stdin line `job <bytes>`: writes a
 * `<bytes>`-byte spool file (pseudo-random, as a scan would be: it does not compress), queues a
 * job for it, and prints {"event":"delivered"|"failed", wallMs, maxRssKiB, code?} — wallMs from
 * the job's submission (the file whole in the spool) to its final state.
 */
import { createInterface } from 'node:readline';
import { newMessageId } from '../../firmware/mime/compose.ts';
import { nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { FileSpool } from '../../device-sim/hal/file-spool.ts';
import { SimNetwork, type SimNetworkSnapshot } from '../../device-sim/hal/sim-network.ts';
import { SimPrinter } from '../../device-sim/printer.ts';
import { pseudoRandomBlocks } from './pseudo-random.ts';
import { peakRssKiB } from './smtp-bench-params.ts';

interface Options {
  readonly stateDir: string;
  readonly remoteUiDir: string;
  readonly network: SimNetworkSnapshot;
  readonly factoryCaDerBase64: readonly string[];
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
const network = new SimNetwork();
for (const h of options.network.hosts) network.addHost(h.name, h.address);
for (const e of options.network.exposures) network.expose(e.address, e.port, e.target);
const printer = await SimPrinter.start({
  stateDir: options.stateDir,
  port: 0,
  remoteUiDir: options.remoteUiDir,
  logLevel: 'silent',
  network,
  factoryCaDer: options.factoryCaDerBase64.map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))),
});
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
say({ event: 'ready', remoteUi: printer.remoteUiUrl, factoryPassword: printer.device!.label.factoryPassword });

let n = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const m = /^job (\d+)$/.exec(line.trim());
  if (!m) continue;
  const bytes = Number(m[1]);
  const device = printer.device!;
  const id = `bench-${++n}`;
  const spool = await FileSpool.open(options.stateDir);
  await writeFile(spool, `${id}.pdf`, bytes);
  const started = performance.now();
  const from = device.settings.get('email').fromAddress;
  const wall = printer.clock.wallNowMs();
  await device.jobs!.submit({
    id,
    createdWallMs: wall,
    operator: { name: 'Bench' },
    to: ['inbox@contoso.com'],
    cc: [],
    bcc: [],
    subject: `Bench scan ${bytes} bytes`,
    body: '',
    scan: { format: 'pdf', colour: 'colour', dpi: 600, pages: 1 },
    files: [{ spoolName: `${id}.pdf`, fileName: 'scan.pdf', contentType: 'application/pdf', sizeBytes: bytes }],
    messageId: newMessageId(from, wall, nodeRandom),
  });
  for (;;) {
    const job = device.jobs!.get(id)!;
    if (job.state === 'delivered' || job.state === 'failed') {
      say({ event: job.state, wallMs: performance.now() - started, maxRssKiB: peakRssKiB(), ...(job.result?.code ? { code: job.result.code, message: job.result.message } : {}) });
      break;
    }
    await new Promise((ok) => setTimeout(ok, 5));
  }
}
await printer.powerOff();
process.exit(0);

/** Pseudo-random bytes through one reused 1 MiB buffer. */
async function writeFile(spool: FileSpool, name: string, bytes: number): Promise<void> {
  const writer = await spool.create(name);
  for (const piece of pseudoRandomBlocks(bytes, 0x2545f491, 1024 * 1024)) await writer.write(piece);
  await writer.commit();
}
