import { describe, expect, it } from 'vitest';
import { parseGreetingDate, SkewTracker } from '../../firmware/clock/server-time.ts';
import { CLOCK_SKEW_TOLERANCE_MS } from '../../firmware/defaults.ts';

describe('the time in an SMTP greeting', () => {
  it('reads Office 365’s banner (protocols.md C.5)', () => {
    const banner = '220 BN0PR04CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sun, 23 Nov 2025 11:12:20 +0000 [08DE2A6028D26C22]';
    expect(parseGreetingDate(banner)).toBe(Date.UTC(2025, 10, 23, 11, 12, 20));
  });

  it('applies the zone offset', () => {
    expect(parseGreetingDate('220 mx ESMTP ready at Sun, 23 Nov 2025 12:12:20 +0100')).toBe(Date.UTC(2025, 10, 23, 11, 12, 20));
    expect(parseGreetingDate('220 mx ESMTP 23 Nov 2025 06:12:20 -0500')).toBe(Date.UTC(2025, 10, 23, 11, 12, 20));
  });

  it('finds nothing where there is no strict date-time', () => {
    for (const greeting of [
      '220 smtp.gmail.com ESMTP a640c23a62f3a-b7a2 - gsmtp',
      '220 mail.example.com ESMTP Postfix',
      '220 mx ready at 31 Feb 2025 10:00:00 +0000', // no such day
      '220 mx ready at 23 Foo 2025 10:00:00 +0000',
      '220 mx ready at 23 Nov 2025 25:00:00 +0000',
      '220 mx ready at 23 Nov 2025 10:00:00 GMT', // obsolete zone names are not trusted
      '220 mx 1234 23 Nov 2025 10:00:00 +0000x',
    ]) {
      expect(parseGreetingDate(greeting), greeting).toBeUndefined();
    }
  });
});

describe('SkewTracker', () => {
  it('reports a skew beyond tolerance with its direction, and a crossing once per episode', () => {
    const t = new SkewTracker();
    expect(t.note('a', 1000).crossed).toBe(false);
    expect(t.skewed).toBeUndefined();
    const over = t.note('smtp.office365.com (SMTP greeting)', -(CLOCK_SKEW_TOLERANCE_MS + 61_000));
    expect(over.crossed).toBe(true);
    expect(t.skewed).toEqual({ offsetS: CLOCK_SKEW_TOLERANCE_MS / 1000 + 61, direction: 'behind', source: 'smtp.office365.com (SMTP greeting)' });
    expect(t.note('b', CLOCK_SKEW_TOLERANCE_MS + 1000).crossed).toBe(false); // still skewed: no new episode
    expect(t.note('b', 0).crossed).toBe(false);
    expect(t.skewed).toBeUndefined();
    expect(t.note('b', CLOCK_SKEW_TOLERANCE_MS + 1000).crossed).toBe(true);
  });
});
