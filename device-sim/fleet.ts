/**
 * A fleet: several simulated printers in one world (one emulated cloud, network, time line, seed
 * and lever bench). Device numbers are 1-based, as a tester counts them; device 1 is the printer
 * a single-printer simulator always had, with the same state directory and random stream, so a
 * fleet of one is exactly the simulator it was before.
 */
import { join } from 'node:path';
import { z } from 'zod';

/** The most printers one simulator runs (a fleet sharing one mailbox is a handful; 50 is plenty). */
export const MAX_DEVICES = 50;

/** A printer lever's `device` argument: which printer, 1-based; absent means device 1. */
export const deviceNumberSchema = z.number().int().min(1).max(MAX_DEVICES).optional().describe('which printer of the fleet, 1-based (default 1)');

/** Where device `n` keeps its NVRAM, spool and RTC: device 1 the state directory itself, device n `<stateDir>/device-<n>`. */
export function deviceStateDir(stateDir: string, n: number): string {
  return n === 1 ? stateDir : join(stateDir, `device-${n}`);
}

/** The name of device `n`'s seeded random stream (device 1 keeps the single printer's). */
export function deviceRandomStream(n: number): string {
  return n === 1 ? 'device' : `device-${n}`;
}
