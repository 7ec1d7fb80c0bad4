import { describe, expect, it } from 'vitest';
import { RTC_FACTORY_WALL_MS } from '../../firmware/defaults.ts';
import type { WallChangeEvent } from '../../firmware/hal/clock.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';

const START = Date.UTC(2026, 10, 22, 12);

describe('virtual time', () => {
  it('fires due timers in due order, ties in scheduling order, and only when advanced', () => {
    const source = new VirtualTimeSource(START);
    const fired: string[] = [];
    source.schedule(300, () => fired.push('c@300'));
    source.schedule(100, () => fired.push('a@100'));
    source.schedule(100, () => fired.push('b@100'));
    expect(fired).toEqual([]);
    source.advance(99);
    expect(fired).toEqual([]);
    source.advance(1);
    expect(fired).toEqual(['a@100', 'b@100']);
    source.advance(1000);
    expect(fired).toEqual(['a@100', 'b@100', 'c@300']);
    expect(source.monoNowMs()).toBe(1100);
  });

  it('runs timers scheduled by a firing timer within the same advance, at their own due time', () => {
    const source = new VirtualTimeSource(START);
    const seen: number[] = [];
    source.schedule(10, () => {
      seen.push(source.monoNowMs());
      source.schedule(10, () => seen.push(source.monoNowMs()));
    });
    source.advance(25);
    expect(seen).toEqual([10, 20]);
  });

  it('does not fire cancelled timers', () => {
    const source = new VirtualTimeSource(START);
    let fired = false;
    source.schedule(5, () => (fired = true)).cancel();
    source.advance(10);
    expect(fired).toBe(false);
    expect(source.pendingTimers).toBe(0);
  });

  it('refuses to go backwards', () => {
    expect(() => new VirtualTimeSource(START).advance(-1)).toThrow(RangeError);
  });
});

describe('simulated RTC', () => {
  const setup = () => {
    const source = new VirtualTimeSource(START);
    const clock = new SimClock(source);
    const events: WallChangeEvent[] = [];
    clock.onWallChange((e) => events.push(e));
    return { source, clock, events };
  };

  it('reads host time plus offset, and wall and monotonic advance together', () => {
    const { source, clock } = setup();
    expect(clock.wallNowMs()).toBe(START);
    source.advance(60_000);
    expect(clock.wallNowMs()).toBe(START + 60_000);
    expect(clock.monoNowMs()).toBe(60_000);
  });

  it('jumps forward and back, announcing each change, while the monotonic clock never jumps', () => {
    const { source, clock, events } = setup();
    clock.jump(3_600_000);
    expect(clock.wallNowMs()).toBe(START + 3_600_000);
    source.advance(1000);
    clock.jump(-86_400_000);
    expect(clock.wallNowMs()).toBe(START + 3_600_000 + 1000 - 86_400_000);
    expect(clock.monoNowMs()).toBe(1000);
    expect(events.map((e) => [e.reason, e.toWallMs - e.fromWallMs])).toEqual([
      ['tester-set', 3_600_000],
      ['tester-set', -86_400_000],
    ]);
  });

  it('drifts at the set rate: +100 ppm gains 8.64 s a day; the change of rate is announced, the drift itself is not', () => {
    const { source, clock, events } = setup();
    clock.setDriftPpm(100);
    source.advance(86_400_000);
    expect(clock.wallNowMs() - (START + 86_400_000)).toBe(8640);
    expect(events.map((e) => e.reason)).toEqual(['drift-changed']);
    // A new rate starts from the drift accumulated so far.
    clock.setDriftPpm(-100);
    source.advance(86_400_000);
    expect(clock.wallNowMs() - (START + 2 * 86_400_000)).toBe(0);
  });

  it('restarts at the factory date on battery loss and stops drifting', () => {
    const { source, clock, events } = setup();
    clock.setDriftPpm(500);
    source.advance(5000);
    clock.batteryLoss();
    expect(clock.wallNowMs()).toBe(RTC_FACTORY_WALL_MS);
    source.advance(1000);
    expect(clock.wallNowMs()).toBe(RTC_FACTORY_WALL_MS + 1000);
    expect(events.at(-1)).toMatchObject({ reason: 'battery-loss', toWallMs: RTC_FACTORY_WALL_MS });
  });

  it('keeps its setting across a power cycle through state()', () => {
    const { source, clock } = setup();
    clock.setWallMs(Date.UTC(2030, 0, 1), 'admin-set');
    clock.setDriftPpm(50);
    source.advance(1_000_000);
    const reborn = new SimClock(source, clock.state());
    expect(reborn.wallNowMs()).toBe(clock.wallNowMs());
    source.advance(1_000_000);
    expect(reborn.wallNowMs()).toBe(clock.wallNowMs());
  });

  it('refuses absurd drift rates and non-finite times', () => {
    const { clock } = setup();
    expect(() => clock.setDriftPpm(1e9)).toThrow(RangeError);
    expect(() => clock.setWallMs(Number.NaN, 'admin-set')).toThrow(RangeError);
  });

  it('cancels every firmware timer at power-off', () => {
    const { source, clock } = setup();
    let fired = 0;
    clock.schedule(100, () => fired++);
    clock.schedule(200, () => fired++);
    clock.powerOff();
    source.advance(1000);
    expect(fired).toBe(0);
  });
});
