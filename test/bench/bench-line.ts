import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** One figure as `make bench` prints it: `BENCH <name> <value> <unit>`, fractions to `digits` places. */
export function benchLine(name: string, value: number, unit: string, digits = 1): void {
  process.stdout.write(`BENCH ${name} ${Number.isInteger(value) ? value : value.toFixed(digits)} ${unit}\n`);
}

/** Linux's tmpfs: a world's NVRAM writes (each synced twice) measure the simulator, not the host's disk. */
const TMPFS = '/dev/shm';

/** Where a benchmark makes its state directories: tmpfs where the host has one. */
export function benchStateRoot(): string {
  return existsSync(TMPFS) ? TMPFS : tmpdir();
}
