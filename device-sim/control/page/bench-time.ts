/** Times on the tester's bench pages: in UTC (the bench works in UTC; the device's own zone is the Remote UI's business). */

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A signed duration: `+1 d 2 h 3 min 4.250 s`. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  parts.push(`${(rest / 1000).toFixed(3)} s`);
  return sign + parts.join(' ');
}
