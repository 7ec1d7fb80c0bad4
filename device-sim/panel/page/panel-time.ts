/**
 * Device time as the panel shows it: in the device's time zone (from the simulator's state), with
 * "UTC" said when that is the zone; a zone the browser does not know falls back to UTC.
 */

/** The status bar's clock: `22 Nov 2025, 14:05`. */
export function formatClock(wallMs: number, timeZone: string): string {
  return format(wallMs, timeZone, { day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A time today or soon (a job's next attempt, its start): `14:05:30`, with the day when not today. */
export function formatJobTime(wallMs: number, nowWallMs: number, timeZone: string): string {
  const day = (ms: number) => format(ms, timeZone, { day: '2-digit', month: 'short' });
  const time = format(wallMs, timeZone, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return day(wallMs) === day(nowWallMs) ? time : `${day(wallMs)} ${time}`;
}

function format(wallMs: number, timeZone: string, options: Intl.DateTimeFormatOptions): string {
  try {
    const text = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', ...options }).format(wallMs);
    return timeZone === 'UTC' && options.hour ? `${text} UTC` : text;
  } catch {
    return timeZone === 'UTC' ? new Date(wallMs).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : format(wallMs, 'UTC', options);
  }
}
