/** Byte helpers for tests that feed parsers and encoders input split at arbitrary points. */

/** `data` cut at the given offsets (taken modulo its length + 1, deduplicated, in order). */
export function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(data.subarray(last, p));
    last = p;
  }
  parts.push(data.subarray(last));
  return parts;
}
