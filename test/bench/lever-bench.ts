/**
 * lever_apply_ms: the median round trip, over the simulator's HTTP API on loopback, to apply a
 * fault and clear it again (`POST /sim/api/levers/net.fault`, then `DELETE /sim/api/faults/:id`),
 * with the printer booted and idle; 201 pairs, the first 20 left out as warm-up.
 * lever_apply_tls_ms: the same for a TLS preset (`tls.server` expired on Gmail, then cleared):
 * the one lever that signs a certificate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSimulator } from '../../device-sim/simulator.ts';
import { benchLine } from './bench-line.ts';

const PAIRS = 201;
const WARM_UP = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function leverFigures(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-levers-'));
  const sim = await startSimulator({ port: 0, simPort: 0, stateDir: dir, virtualTime: false, logLevel: 'silent', seed: 1 });
  try {
    const base = new URL('/', sim.controlUrl);
    const roundTrip = async (lever: string, args: unknown): Promise<number> => {
      const started = performance.now();
      const made = await fetch(new URL(`/sim/api/levers/${lever}`, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
      if (made.status !== 201) throw new Error(`${lever}: ${made.status} ${await made.text()}`);
      const { fault } = (await made.json()) as { fault: { id: string } };
      const cleared = await fetch(new URL(`/sim/api/faults/${fault.id}`, base), { method: 'DELETE' });
      if (cleared.status !== 204) throw new Error(`clear ${fault.id}: ${cleared.status}`);
      return performance.now() - started;
    };
    const net: number[] = [];
    for (let i = 0; i < PAIRS + WARM_UP; i++) net.push(await roundTrip('net.fault', { target: 'smtp.gmail.com:465', fault: 'reset', afterBytes: 2_000_000 }));
    benchLine('lever_apply_ms', median(net.slice(WARM_UP)), 'ms', 2);
    const tls: number[] = [];
    for (let i = 0; i < 21 + 3; i++) tls.push(await roundTrip('tls.server', { server: 'gmail', preset: 'expired' }));
    benchLine('lever_apply_tls_ms', median(tls.slice(3)), 'ms', 1);
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
