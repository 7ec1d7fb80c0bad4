/**
 * Device times as an admin reads them: `YYYY-MM-DD HH:MM:SS` in the device's time zone (not the
 * browser's), durations in days/hours/minutes. Intl only; no tz database of our own.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = {
      hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    };
    try {
      f = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
    } catch {
      f = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** `YYYY-MM-DDTHH:MM:SS` on a wall clock in `timeZone` (the form of a datetime-local input). */
export function toLocalInput(wallMs: number, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(wallMs)) parts[p.type] = p.value;
  const year = (parts['year'] ?? '').padStart(4, '0');
  return `${year}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}:${parts['second']}`;
}

/** `YYYY-MM-DD HH:MM:SS` in `timeZone`. */
export function formatWall(wallMs: number, timeZone: string): string {
  return toLocalInput(wallMs, timeZone).replace('T', ' ');
}

/** 93784 → `1 d 02:03:04`. */
export function formatUptime(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS));
  const days = Math.floor(s / 86_400);
  const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return days > 0 ? `${days} d ${hms}` : hms;
}

/** A signed clock step: `+1 h 0 min 5 s`, `-2 d 3 h`. */
export function formatDelta(deltaMs: number): string {
  const sign = deltaMs < 0 ? '-' : '+';
  let s = Math.round(Math.abs(deltaMs) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['min', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s} s`);
  return sign + parts.join(' ');
}
