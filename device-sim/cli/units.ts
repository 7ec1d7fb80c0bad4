/**
 * Numbers as a tester types them on the command line: durations (`10m`, `+2h`, `-30s`, `1500ms`,
 * `1d`) and sizes (`2MB` = 2,000,000 bytes, `2MiB` = 2,097,152, `512k`). A plain number is taken
 * in the field's own unit. Each parser throws an Error saying what it wanted.
 */

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1_000_000,
  mb: 1_000_000,
  g: 1_000_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

function scaled(text: string, units: Readonly<Record<string, number>>, plainUnit: number, what: string): number {
  const m = /^([+-]?\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = m ? (m[2] === '' ? plainUnit : units[m[2]!.toLowerCase()]) : undefined;
  if (!m || factor === undefined) throw new Error(`not ${what}: ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * factor);
}

/** A duration in ms; a plain number is ms. */
export function durationMs(text: string): number {
  return scaled(text, DURATION_MS, 1, 'a duration such as 10m, +2h, -30s or 1500ms');
}

/** A duration in whole seconds; a plain number is seconds. */
export function durationS(text: string): number {
  return Math.round(scaled(text, DURATION_MS, 1000, 'a duration such as 90, 90s or 15m') / 1000);
}

/** A size in bytes; a plain number is bytes. */
export function sizeBytes(text: string): number {
  return scaled(text, SIZE_BYTES, 1, 'a size such as 2MB, 512k or 1MiB');
}
