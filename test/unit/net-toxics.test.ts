/**
 * The relay's stages without sockets, driven by virtual time through the injectable timers.
 */
import { describe, expect, it } from 'vitest';
import type { TimerHandle } from '../../firmware/hal/clock.ts';
import { BandwidthStage, ByteGate, LatencyStage, type Piece, type RelayTimers } from '../../device-sim/hal/net-toxics.ts';
import { VirtualTimeSource } from '../../device-sim/hal/time-source.ts';
import { SimRandom } from '../../device-sim/sim-random.ts';

function virtualTimers(): { time: VirtualTimeSource; timers: RelayTimers } {
  const time = new VirtualTimeSource(0);
  return {
    time,
    timers: {
      setTimeout: (callback, ms) => time.schedule(ms, callback),
      clearTimeout: (handle) => (handle as TimerHandle).cancel(),
    },
  };
}

/** What came out of a stage, with the virtual time it came out at. */
function recorder(time: VirtualTimeSource): { out: { atMs: number; piece: string }[]; sink: (piece: Piece) => void } {
  const out: { atMs: number; piece: string }[] = [];
  return {
    out,
    sink: (piece) => out.push({ atMs: time.monoNowMs(), piece: typeof piece === 'string' ? piece : Buffer.from(piece).toString('latin1') }),
  };
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('LatencyStage', () => {
  it('delays every piece by ms, markers included', () => {
    const { time, timers } = virtualTimers();
    const r = recorder(time);
    const stage = new LatencyStage({ ms: 100, jitterMs: 0, random: new SimRandom(1).stream('j'), timers }, r.sink);
    stage.push(bytes('a'));
    time.advance(30);
    stage.push(bytes('b'));
    stage.push('end');
    time.advance(500);
    expect(r.out).toEqual([
      { atMs: 100, piece: 'a' },
      { atMs: 130, piece: 'b' },
      { atMs: 130, piece: 'end' },
    ]);
  });

  it('with jitter keeps the order: a piece whose delay ends first waits for the ones before it', () => {
    const { time, timers } = virtualTimers();
    const r = recorder(time);
    const stage = new LatencyStage({ ms: 50, jitterMs: 50, random: new SimRandom(3).stream('j'), timers }, r.sink);
    const sent = Array.from({ length: 50 }, (_, i) => String(i));
    for (const p of sent) {
      stage.push(bytes(p));
      time.advance(1);
    }
    time.advance(200);
    expect(r.out.map((o) => o.piece)).toEqual(sent);
    const arrivals = r.out.map((o) => o.atMs);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    expect(Math.max(...arrivals)).toBeLessThanOrEqual(49 + 100);
    expect(new Set(arrivals.map((t, i) => t - i)).size).toBeGreaterThan(5); // delays really vary
  });

  it('dispose cancels what is in flight', () => {
    const { time, timers } = virtualTimers();
    const r = recorder(time);
    const stage = new LatencyStage({ ms: 10, jitterMs: 0, random: new SimRandom(1).stream('j'), timers }, r.sink);
    stage.push(bytes('a'));
    stage.dispose();
    stage.push(bytes('b'));
    time.advance(100);
    expect(r.out).toEqual([]);
    expect(time.pendingTimers).toBe(0);
  });
});

describe('BandwidthStage', () => {
  it('lets bytesPerS through in slices of one tick, the first at once', () => {
    const { time, timers } = virtualTimers();
    const r = recorder(time);
    // 1000 B/s and a 20 ms tick: 20-byte slices, one every 20 ms.
    const stage = new BandwidthStage({ bytesPerS: 1000, timers }, r.sink);
    stage.push(new Uint8Array(100));
    stage.push('end');
    time.advance(1000);
    expect(r.out.map((o) => [o.atMs, o.piece === 'end' ? 'end' : o.piece.length])).toEqual([
      [0, 20],
      [20, 20],
      [40, 20],
      [60, 20],
      [80, 20],
      [100, 'end'], // once the last slice's time has passed
    ]);
  });

  it('a rate below one byte per tick still moves one byte at a time', () => {
    const { time, timers } = virtualTimers();
    const r = recorder(time);
    const stage = new BandwidthStage({ bytesPerS: 10, timers }, r.sink);
    stage.push(bytes('abc'));
    time.advance(250);
    expect(r.out).toEqual([
      { atMs: 0, piece: 'a' },
      { atMs: 100, piece: 'b' },
      { atMs: 200, piece: 'c' },
    ]);
  });
});

describe('ByteGate', () => {
  it('passes up to the lowest limit, cuts the chunk that crosses it, then passes nothing', () => {
    const gate = new ByteGate([
      { afterBytes: 10, tag: 'reset' },
      { afterBytes: 5, tag: 'stall' },
    ]);
    expect(gate.pass(bytes('abc'))).toEqual({ forward: bytes('abc'), tripped: undefined });
    const crossing = gate.pass(bytes('defgh'));
    expect(Buffer.from(crossing.forward).toString()).toBe('de');
    expect(crossing.tripped).toBe('stall');
    expect(gate.passed).toBe(5);
    expect(gate.pass(bytes('x')).forward.byteLength).toBe(0);
  });

  it('exactly N bytes do not trip it; the next byte does; 0 trips on the first byte', () => {
    const gate = new ByteGate([{ afterBytes: 3, tag: 'r' }]);
    expect(gate.pass(bytes('abc')).tripped).toBeUndefined();
    expect(gate.pass(bytes('d'))).toEqual({ forward: new Uint8Array(0), tripped: 'r' });
    expect(new ByteGate([{ afterBytes: 0, tag: 'r' }]).pass(bytes('a')).tripped).toBe('r');
    expect(new ByteGate([]).pass(bytes('abc')).forward.byteLength).toBe(3);
  });
});
