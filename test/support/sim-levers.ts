/** Pull a tester's lever on a running simulator over its HTTP API, as the bench and the CLI do. */
import { expect } from 'vitest';
import type { RunningSimulator } from '../../device-sim/simulator.ts';

/** `POST /sim/api/levers/:name`; fails the test (with the simulator's answer) unless it was taken. The answer's JSON. */
export async function pullLever(sim: Pick<RunningSimulator, 'controlUrl'>, name: string, args: unknown): Promise<any> {
  const r = await fetch(new URL(`/sim/api/levers/${name}`, sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
  const text = await r.text();
  expect(r.status, `${name}: ${text}`).toBeLessThan(300);
  return text === '' ? undefined : JSON.parse(text);
}
