/**
 * Live memory for tests that prove streaming: heap + ArrayBuffers right after a forced full GC.
 * Raw RSS is mostly garbage between scavenges and swings with machine load, so a check on it
 * either flakes or is too loose to catch buffering; live memory does neither.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// No --expose-gc in the test runner: enable it at run time and fetch gc from a fresh context.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

export function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
