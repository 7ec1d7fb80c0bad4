import { describe, expect, it } from 'vitest';
import { formatLocal, parseLocal, zoneOffsetMs } from '../../firmware/clock/local-time.ts';
import { isKnownTimeZone } from '../../firmware/settings/fields.ts';

describe('local civil time in the device time zone', () => {
  const cases: [string, string, number][] = [
    ['UTC', '2026-11-22T10:00:00', Date.UTC(2026, 10, 22, 10)],
    ['Europe/Berlin', '2026-07-01T12:00:00', Date.UTC(2026, 6, 1, 10)], // CEST, +2
    ['Europe/Berlin', '2026-12-01T12:00:00', Date.UTC(2026, 11, 1, 11)], // CET, +1
    ['America/New_York', '2026-01-15T07:30:00', Date.UTC(2026, 0, 15, 12, 30)],
    ['Asia/Kolkata', '2026-05-05T05:05:05', Date.UTC(2026, 4, 4, 23, 35, 5)],
  ];
  for (const [zone, local, wall] of cases) {
    it(`${local} in ${zone} is ${new Date(wall).toISOString()} and back`, () => {
      expect(parseLocal(local, zone)).toEqual({ ok: true, wallMs: wall });
      expect(formatLocal(wall, zone)).toBe(local);
    });
  }

  it('uses the later offset inside a spring-forward gap', () => {
    // 2026-03-29 02:30 does not exist in Berlin (clocks go 02:00 → 03:00).
    const r = parseLocal('2026-03-29T02:30:00', 'Europe/Berlin');
    expect(r.ok).toBe(true);
    if (r.ok) expect(formatLocal(r.wallMs, 'Europe/Berlin')).toMatch(/^2026-03-29T0[13]:30:00$/);
  });

  it('knows offsets with fractions of an hour', () => {
    expect(zoneOffsetMs(Date.UTC(2026, 0, 1), 'Asia/Kathmandu')).toBe((5 * 60 + 45) * 60_000);
  });

  it('refuses dates that do not exist and malformed text', () => {
    for (const bad of ['2026-02-29T00:00:00', '2026-13-01T00:00:00', '2026-01-01T24:00:00', '2026-1-1T0:0', '1999-12-31T23:59:59', '']) {
      expect(parseLocal(bad, 'UTC').ok, bad).toBe(false);
    }
  });

  it('knows real time zones only', () => {
    expect(isKnownTimeZone('Europe/Berlin')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
    expect(isKnownTimeZone('')).toBe(false);
  });
});
