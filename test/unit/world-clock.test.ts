/**
 * The world clock (device-sim/hal/world-clock.ts) against the device's RTC on one time source,
 * its lever schema, the virtual time source's timer order and look-ahead, and advanceUntil over
 * timers alone (the sockets are in test/integration/world-clock.test.ts).
 */
import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { check } from '../../device-sim/cloud/input-problems.ts';
import { advanceUntil } from '../../device-sim/hal/advance-until.ts';
import { SimClock } from '../../device-sim/hal/sim-clock.ts';
import { settleIo, startedSince, startMark, trackIo } from '../../device-sim/hal/settle-io.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { describeWorldClock, formatDurationMs, WorldClock, worldClockActionSchema, WORLD_CLOCK_DRIFT_MAX_PPM } from '../../device-sim/hal/world-clock.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';

const START = Date.UTC(2026, 10, 22, 12);
const HOUR_MS = 3_600_000;

describe('the world clock', () => {
  it('runs with the time source until moved, and moving it leaves the device clock alone', () => {
    const source = new VirtualTimeSource(START);
    const world = new WorldClock(source);
    const device = new SimClock(source);
    const changes: unknown[] = [];
    device.onWallChange((e) => changes.push(e));
    expect(world.view()).toEqual({ nowMs: START, offsetMs: 0, driftPpm: 0, sentence: "The servers' clock runs with the simulator's time." });

    world.jump(2 * HOUR_MS);
    source.advance(60_000);
    expect(world.nowMs()).toBe(START + 2 * HOUR_MS + 60_000);
    expect(device.wallNowMs()).toBe(START + 60_000);
    expect(changes).toEqual([]);
    expect(world.view()).toMatchObject({ offsetMs: 2 * HOUR_MS, sentence: "The servers' clock is 2 h ahead of the simulator's time." });

    world.set(START - 90_000);
    expect(world.view()).toMatchObject({ nowMs: START - 90_000, offsetMs: -150_000, sentence: "The servers' clock is 2 min 30 s behind the simulator's time." });
    expect(world.reset()).toMatchObject({ nowMs: START + 60_000, offsetMs: 0, driftPpm: 0 });
  });

  it('drifts from the moment the rate is set; a new rate or a set keeps what drifted so far', () => {
    const source = new VirtualTimeSource(START);
    const world = new WorldClock(source);
    source.advance(HOUR_MS);
    world.setDriftPpm(1000); // 3.6 s an hour fast
    source.advance(HOUR_MS);
    expect(world.nowMs()).toBe(START + 2 * HOUR_MS + 3600);
    world.setDriftPpm(-500);
    source.advance(HOUR_MS);
    expect(world.view()).toMatchObject({ offsetMs: 3600 - 1800, driftPpm: -500, sentence: "The servers' clock is 1.8 s ahead of the simulator's time and runs 500 ppm slow." });
    world.jump(-1800);
    expect(world.view().offsetMs).toBe(0);
    expect(world.reset().nowMs).toBe(source.hostNowMs());
    source.advance(HOUR_MS);
    expect(world.nowMs()).toBe(source.hostNowMs());
  });

  it("schedules on the time source, whatever the world clock's offset or drift", () => {
    const source = new VirtualTimeSource(START);
    const world = new WorldClock(source);
    world.jump(-HOUR_MS);
    world.setDriftPpm(WORLD_CLOCK_DRIFT_MAX_PPM);
    const fired: number[] = [];
    world.schedule(30_000, () => fired.push(source.monoNowMs()));
    const handle = world.timers.setTimeout(() => fired.push(-1), 10_000);
    world.timers.clearTimeout(handle);
    source.advance(29_999);
    expect(fired).toEqual([]);
    source.advance(1);
    expect(fired).toEqual([30_000]);
  });

  it('applies the actions its schema lets through, and the schema names the field of a bad one', () => {
    const world = new WorldClock(new VirtualTimeSource(START));
    const apply = (input: unknown) => {
      const checked = check(worldClockActionSchema, input);
      return checked.ok ? world.apply(checked.value) : checked.problems;
    };
    expect(apply({ action: 'set', worldMs: START + 5000 })).toMatchObject({ offsetMs: 5000 });
    expect(apply({ action: 'jump', deltaMs: -5000 })).toMatchObject({ offsetMs: 0 });
    expect(apply({ action: 'drift', ppm: 20 })).toMatchObject({ driftPpm: 20 });
    expect(apply({ action: 'reset' })).toMatchObject({ driftPpm: 0 });
    const problems = [
      { action: 'set', worldMs: -1 },
      { action: 'set', worldMs: 1.5 },
      { action: 'set', worldMs: '2027-01-01' },
      { action: 'jump', deltaMs: 1e15 },
      { action: 'drift', ppm: WORLD_CLOCK_DRIFT_MAX_PPM + 1 },
      { action: 'reset', extra: 1 },
    ].map(apply);
    for (const p of problems) expect(Array.isArray(p), JSON.stringify(p)).toBe(true);
    const messages = problems.flatMap((p) => (Array.isArray(p) ? p.map((f) => `${f.path}: ${f.message}`) : []));
    expect(messages.slice(0, 5).map((m) => m.split(':')[0])).toEqual(['worldMs', 'worldMs', 'worldMs', 'deltaMs', 'ppm']);
    for (const m of messages.slice(0, 5)) expect(m).toMatch(/^(\w+): \1: /);
    expect(apply({ action: 'warp' })).toEqual([expect.objectContaining({ path: 'action' })]);
  });

  it('words offsets and rates for the tester', () => {
    expect(formatDurationMs(250)).toBe('250 ms');
    expect(formatDurationMs(1500)).toBe('1.5 s');
    expect(formatDurationMs(7_380_000)).toBe('2 h 3 min');
    expect(formatDurationMs(90_061_000)).toBe('1 d 1 h 1 min 1 s');
    expect(describeWorldClock(-86_400_000, 100)).toBe("The servers' clock is 1 d behind the simulator's time and runs 100 ppm fast.");
  });
});

describe('virtual time with many timers', () => {
  it('fires a thousand timers in due order, ties in scheduling order, cancelled ones never', () => {
    const source = new VirtualTimeSource(START);
    const random = new SimRandom('world-clock-heap').stream('timers');
    const expected: { dueMs: number; seq: number }[] = [];
    const fired: { dueMs: number; seq: number }[] = [];
    for (let seq = 0; seq < 1000; seq++) {
      const dueMs = random.nextUint32() % 500;
      const handle = source.schedule(dueMs, () => fired.push({ dueMs, seq }));
      if (seq % 7 === 0) handle.cancel();
      else expected.push({ dueMs, seq });
    }
    expect(source.pendingTimers).toBe(expected.length);
    source.advance(499);
    expected.sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq);
    expect(fired).toEqual(expected);
    expect(source.pendingTimers).toBe(0);
  });

  it('says how long until the next live timer, skipping cancelled ones', () => {
    const source = new VirtualTimeSource(START);
    expect(source.nextDueInMs()).toBeUndefined();
    const early = source.schedule(10, () => {});
    source.schedule(40, () => {});
    expect(source.nextDueInMs()).toBe(10);
    early.cancel();
    early.cancel(); // twice: counted once
    expect(source.pendingTimers).toBe(1);
    expect(source.nextDueInMs()).toBe(40);
    source.advance(15);
    expect(source.nextDueInMs()).toBe(25);
  });
});

describe('advanceUntil over timers alone', () => {
  it('goes timer to timer and stops at the one after which the predicate holds', async () => {
    const source = new VirtualTimeSource(START);
    let ticks = 0;
    const tick = () => {
      ticks++;
      source.schedule(60_000, tick);
    };
    source.schedule(60_000, tick);
    const result = await advanceUntil(source, () => ticks === 3, { boundMs: HOUR_MS });
    expect(result).toEqual({ met: true, advancedMs: 180_000, steps: 3 });
  });

  it('reports not met at the bound, and `stepMs` caps every step', async () => {
    const source = new VirtualTimeSource(START);
    const result = await advanceUntil(source, () => false, { boundMs: 10_000, stepMs: 3000 });
    expect(result).toEqual({ met: false, advancedMs: 10_000, steps: 4 });
    expect(source.monoNowMs()).toBe(10_000);
  });

  it('costs no time when the predicate already holds, and waits for async work between steps', async () => {
    const source = new VirtualTimeSource(START);
    expect(await advanceUntil(source, () => true, { boundMs: HOUR_MS })).toEqual({ met: true, advancedMs: 0, steps: 0 });
    // The timer starts thread-pool work (a digest); the predicate sees its result after the step.
    let digested = false;
    source.schedule(5000, () => void crypto.subtle.digest('SHA-256', new Uint8Array(1 << 20)).then(() => (digested = true)));
    source.schedule(6000, () => {});
    const result = await advanceUntil(source, () => digested, { boundMs: HOUR_MS });
    expect(result).toEqual({ met: true, advancedMs: 5000, steps: 1 });
    expect((await settleIo()).settled).toBe(true);
  });

  it('settles after a step only when its timers started something: a day of clock watches costs one event-loop turn a step', async () => {
    const source = new VirtualTimeSource(START);
    let looks = 0;
    const watch = () => {
      looks++;
      source.schedule(60_000, watch);
    };
    source.schedule(60_000, watch);
    let immediates = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'Immediate' && immediates++) }).enable();
    try {
      const result = await advanceUntil(source, () => false, { boundMs: 24 * HOUR_MS });
      expect(result.steps).toBe(1440);
    } finally {
      hook.disable();
    }
    expect(looks).toBe(1440);
    // One settle before the first step (three quiet turns and a few more), then one turn for each
    // quiet step (bytes may have moved: quietTurn), where a settle would take three or more.
    expect(immediates).toBeLessThan(1440 + 20);
  });

  it('settles after a step whose timer only settled a promise: what awaited it runs before the next step', async () => {
    const source = new VirtualTimeSource(START);
    let release!: () => void;
    let done = false;
    void (async () => {
      await new Promise<void>((resolve) => (release = resolve));
      await crypto.subtle.digest('SHA-256', new Uint8Array(1 << 20));
      done = true;
    })();
    source.schedule(5000, () => release());
    source.schedule(6000, () => {});
    expect(await advanceUntil(source, () => done, { boundMs: HOUR_MS })).toEqual({ met: true, advancedMs: 5000, steps: 1 });
  });

  it('tells code that started nothing from code that started a promise, an immediate or a crypto job', async () => {
    await trackIo(async () => {
      let mark = startMark();
      let sum = 0;
      for (let i = 0; i < 100; i++) sum += i;
      expect(sum).toBe(4950);
      expect(startedSince(mark)).toBe(false);
      let settle!: () => void;
      const waiting = new Promise<void>((resolve) => (settle = resolve));
      for (const start of [() => void Promise.resolve(), () => void setImmediate(() => {}), () => void crypto.subtle.digest('SHA-256', new Uint8Array(8)), () => settle()]) {
        mark = startMark();
        start();
        expect(startedSince(mark)).toBe(true);
      }
      await waiting;
      await settleIo();
    });
  });

  it('refuses a bound or a step that is not a duration', () => {
    const source = new VirtualTimeSource(START);
    expect(() => advanceUntil(source, () => true, { boundMs: -1 })).toThrow(/boundMs/);
    expect(() => advanceUntil(source, () => true, { boundMs: 10, stepMs: 0 })).toThrow(/stepMs/);
  });
});

describe('a jump of the world clock on a running host clock', () => {
  it('moves the offset by exactly the jump, however far the host clock runs between its readings', () => {
    // A host clock that moves 0.7 ms at every reading, as a busy real clock does between two reads.
    let hostMs = Date.UTC(2026, 11, 7, 12, 0, 0);
    const running = { hostNowMs: () => (hostMs += 0.7), monoNowMs: () => hostMs, schedule: () => ({ cancel: () => {} }) };
    const world = new WorldClock(running);
    expect(world.jump(600_000).offsetMs).toBe(600_000);
    expect(world.jump(-1).offsetMs).toBe(599_999);
  });
});
