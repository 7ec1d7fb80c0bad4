/**
 * Device times as an admin reads them: `YYYY-MM-DD HH:MM:SS` in the device's time zone (not the
 * browser's), durations in days, hours, minutes and seconds (the device's own formatter, so its
 * messages and the pages word them alike), sizes in decimal units. Intl only; no tz database of our own.
 */
import { formatDuration } from '../../firmware/clock/duration.ts';

export { formatDuration };

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

/** A signed clock step: `+1 h 5 s`, `-2 d 3 h`. */
export function formatDelta(deltaMs: number): string {
  return (deltaMs < 0 ? '-' : '+') + formatDuration(deltaMs / 1000);
}

/** Bytes as printers label them, in decimal units: `850 kB`, `12.4 MB` (1 MB = 1,000,000 bytes). */
export function formatSize(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}
