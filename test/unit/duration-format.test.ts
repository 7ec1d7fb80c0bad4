/**
 * One wording of durations and clock skews (firmware/clock/duration.ts), used by the device's
 * messages and the Remote UI alike: a skew of 100 days reads "100 d", not "8640000 s".
 */
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../firmware/clock/duration.ts';
import { skewSentence } from '../../firmware/clock/server-time.ts';
import { formatDelta, formatSize } from '../../remote-ui/src/time-format.ts';

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [0.4, '0 s'],
    [59, '59 s'],
    [60, '1 min'],
    [3605, '1 h 5 s'],
    [93_784, '1 d 2 h 3 min 4 s'],
    [8_640_000, '100 d'],
    [-7200, '2 h'],
  ])('%d s → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('words a skew of 100 days in days in the device’s sentence', () => {
    expect(skewSentence({ offsetS: 8_640_000, direction: 'ahead', source: 'login.microsoftonline.com (HTTP Date)' })).toMatch(/^The device clock is 100 d ahead of login/);
  });

  it('signs a clock step', () => {
    expect(formatDelta(-(2 * 86_400 + 3 * 3600) * 1000)).toBe('-2 d 3 h');
    expect(formatDelta(3_605_000)).toBe('+1 h 5 s');
  });
});

describe('formatSize', () => {
  it('labels decimal megabytes and kilobytes as MB and kB', () => {
    expect(formatSize(10_485_760)).toBe('10.5 MB');
    expect(formatSize(1_000_000)).toBe('1.0 MB');
    expect(formatSize(999_499)).toBe('999 kB');
    expect(formatSize(10)).toBe('1 kB');
  });
});
