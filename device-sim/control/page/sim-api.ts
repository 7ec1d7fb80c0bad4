/**
 * The simulator control API as the bench pages see it (device-sim/control/control-api.ts).
 * The shapes live in ../sim-state.ts (types only), shared with the server.
 */

export type { SimEvent, SimState } from '../sim-state.ts';

export type SimResult<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly message: string };

export type SimMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One call to the control API: GET without a body, POST with one, unless `method` says otherwise. */
export async function simRequest<T>(path: string, body?: unknown, method: SimMethod = body === undefined ? 'GET' : 'POST'): Promise<SimResult<T>> {
  try {
    const response = await fetch(path, body === undefined ? { method } : { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const data: unknown = await response.json().catch(() => undefined);
    if (response.ok) return { ok: true, data: data as T };
    const error = data as { message?: string; fields?: { path: string; message: string }[] } | undefined;
    const fields = (error?.fields ?? []).map((f) => `${f.path}: ${f.message}`);
    return { ok: false, message: [error?.message ?? `The simulator answered HTTP ${response.status}.`, ...fields].join(' ') };
  } catch {
    return { ok: false, message: 'The simulator does not answer. Is device-sim/main.ts running?' };
  }
}

/** `YYYY-MM-DD HH:MM:SS` in UTC (the bench works in UTC; the device's own zone is the Remote UI's business). */
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
