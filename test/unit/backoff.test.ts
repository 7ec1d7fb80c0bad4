import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../firmware/hal/backoff.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';

const STEPS = { firstMs: 60_000, maxMs: 900_000 };

describe('backoff with jitter', () => {
  it('doubles each step up to the cap, each wait within ±20 % of its step', () => {
    const random = new SimRandom('backoff').stream('test');
    for (const [attempt, step] of [[1, 60_000], [2, 120_000], [3, 240_000], [5, 900_000], [40, 900_000]] as const) {
      for (let i = 0; i < 200; i++) {
        const wait = backoffMs(attempt, STEPS, random);
        expect(wait).toBeGreaterThanOrEqual(step * 0.8);
        expect(wait).toBeLessThanOrEqual(step * 1.2);
      }
    }
  });

  it('spreads devices that failed together instead of bringing them back in lockstep', () => {
    const waits = Array.from({ length: 20 }, (_, device) => backoffMs(1, STEPS, new SimRandom(`device-${device}`).stream('send')));
    expect(new Set(waits).size).toBeGreaterThan(15);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThan(10_000);
  });

  it('is the same for the same seed (a scenario replays exactly)', () => {
    expect(backoffMs(2, STEPS, new SimRandom('seed-7').stream('send'))).toBe(backoffMs(2, STEPS, new SimRandom('seed-7').stream('send')));
  });
});
