/**
 * Wall time <-> local civil time in the device's time zone, with Intl only (no tz database of our
 * own). The admin enters and reads local time; the RTC keeps UTC.
 */

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * One formatter per zone, made on first use: building an Intl.DateTimeFormat is the expensive
 * part (the first one loads ICU's zone and calendar data, ~9 MiB of RSS in Node 20).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of `timeZone` from UTC at `wallMs`, ms (positive east of Greenwich). */
export function zoneOffsetMs(wallMs: number, timeZone: string): number {
  // The factory zone needs no tz data: a device left at UTC never loads ICU's.
  if (timeZone === 'UTC') return 0;
  const parts = formatterFor(timeZone).formatToParts(wallMs);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - (wallMs - (((wallMs % 1000) + 1000) % 1000));
}

/** `YYYY-MM-DDTHH:MM:SS` as seen on a wall clock in `timeZone`. */
export function formatLocal(wallMs: number, timeZone: string): string {
  const local = new Date(wallMs + zoneOffsetMs(wallMs, timeZone));
  return local.toISOString().slice(0, 19);
}

export type ParseLocalResult = { ok: true; wallMs: number } | { ok: false; message: string };

/**
 * `YYYY-MM-DDTHH:MM[:SS]` in `timeZone` → wall ms. In a DST gap the later offset is used; in a
 * repeated hour, the first occurrence.
 */
export function parseLocal(text: string, timeZone: string): ParseLocalResult {
  const m = LOCAL.exec(text);
  if (!m) return { ok: false, message: 'Use the form YYYY-MM-DDTHH:MM:SS.' };
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number, number, number, number, number, number,
  ];
  if (year < 2000 || year > 2099) return { ok: false, message: 'The year must be between 2000 and 2099.' };
  const naive = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(naive);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, message: 'That date or time does not exist.' };
  }
  // Two passes settle the offset around DST transitions.
  let wallMs = naive - zoneOffsetMs(naive, timeZone);
  wallMs = naive - zoneOffsetMs(wallMs, timeZone);
  return { ok: true, wallMs };
}
