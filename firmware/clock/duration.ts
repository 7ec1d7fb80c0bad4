/**
 * A length of time as an administrator reads it: `100 d`, `2 h 5 min`, `40 s`. The one wording of
 * durations and clock skews, in the device's messages and in the Remote UI alike; a skew of 100
 * days is not "8640000 s".
 */

const UNITS = [
  ['d', 86_400],
  ['h', 3600],
  ['min', 60],
  ['s', 1],
] as const;

/** `seconds` (rounded, sign dropped) in days, hours, minutes and seconds, zero units left out: 93784 → `1 d 2 h 3 min 4 s`. */
export function formatDuration(seconds: number): string {
  let s = Math.round(Math.abs(seconds));
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (s >= size) parts.push(`${Math.floor(s / size)} ${unit}`);
    s %= size;
  }
  return parts.join(' ') || '0 s';
}
