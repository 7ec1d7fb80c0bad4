/**
 * The SMTP transcripts the device keeps (firmware/send/transcript-log.ts): send jobs' in NVRAM
 * across power cycles, bounded in count and bytes with the oldest removed first; the others in
 * RAM only. A power cycle is a new TranscriptLog opened on the same (or a snapshot of the) NVRAM.
 */
import { describe, expect, it } from 'vitest';
import { TRANSCRIPTS_KEPT, TRANSCRIPTS_STORED_MAX, TRANSCRIPTS_STORED_MAX_BYTES } from '../../firmware/defaults.ts';
import { DeviceEvents } from '../../firmware/events.ts';
import { Nvram } from '../../firmware/nvram/nvram.ts';
import { TranscriptLog } from '../../firmware/send/transcript-log.ts';
import { consoleLog, nodeRandom } from '../../device-sim/hal/node-basics.ts';
import { MemoryStorage, memoryHal, snapshotOf } from '../support/memory-hal.ts';

function open(storage: MemoryStorage) {
  const events = new DeviceEvents(memoryHal().clock, consoleLog('silent'));
  return TranscriptLog.open(new Nvram(storage, events), storage, nodeRandom, events).then((log) => ({ log, events }));
}

const sent = (n: number, text = `+0.000s S: 220 smtp.example.com ESMTP\n+0.100s S: 250 2.0.0 OK queued as ${n}`) =>
  ({ kind: 'send', startedWallMs: 1_800_000_000_000 + n, server: 'smtp.example.com:587', ok: true, text }) as const;

const stored = (storage: MemoryStorage) => [...storage.records.keys()].filter((n) => n.startsWith('transcripts/'));

describe('the transcripts of send jobs', () => {
  it('are kept in NVRAM and read back after a power cycle; checks and test e-mails are not', async () => {
    const storage = new MemoryStorage();
    const { log } = await open(storage);
    const job = log.add(sent(1));
    const check = log.add({ kind: 'check', startedWallMs: 1, server: 'smtp.example.com:587', ok: false, code: '#806', text: 'S: 535 5.7.8 no' });
    await log.persisted();
    expect(stored(storage)).toEqual([`transcripts/${job.id}`]);

    const { log: after } = await open(snapshotOf(storage));
    expect(after.has(job.id)).toBe(true);
    expect(await after.read(job.id)).toEqual(job);
    expect(after.has(check.id)).toBe(false);
    expect(await after.read(check.id)).toBeUndefined();
    // An id that is not one of ours never becomes a record name.
    expect(await after.read('../settings/email')).toBeUndefined();
  });

  it(`are bounded to ${TRANSCRIPTS_STORED_MAX}: the oldest is removed first, and a power cycle keeps the order`, async () => {
    const storage = new MemoryStorage();
    const { log } = await open(storage);
    const ids = Array.from({ length: TRANSCRIPTS_STORED_MAX }, (_, n) => log.add(sent(n)).id);
    await log.persisted();
    expect(stored(storage)).toHaveLength(TRANSCRIPTS_STORED_MAX);

    const { log: after } = await open(snapshotOf(storage));
    const newest = after.add(sent(TRANSCRIPTS_STORED_MAX));
    await after.persisted();
    expect(after.has(ids[0]!)).toBe(false);
    expect(await after.read(ids[0]!)).toBeUndefined();
    expect(after.has(ids[1]!)).toBe(true);
    expect(after.has(newest.id)).toBe(true);
    expect(stored(storage)).toHaveLength(TRANSCRIPTS_STORED_MAX);
  });

  it(`are bounded to ${TRANSCRIPTS_STORED_MAX_BYTES} bytes of text in all`, async () => {
    const storage = new MemoryStorage();
    const { log } = await open(storage);
    const big = 'S: 250 '.padEnd(60_000, 'x');
    const count = Math.ceil(TRANSCRIPTS_STORED_MAX_BYTES / 60_000) + 3;
    const ids = Array.from({ length: count }, (_, n) => log.add(sent(n, big)).id);
    await log.persisted();
    const kept = ids.filter((id) => log.has(id) && stored(storage).includes(`transcripts/${id}`));
    expect(kept.length * 60_000).toBeLessThanOrEqual(TRANSCRIPTS_STORED_MAX_BYTES);
    expect(kept).toEqual(ids.slice(ids.length - kept.length));
    // RAM still has the last few of every kind.
    expect(log.list()).toHaveLength(TRANSCRIPTS_KEPT);
  });

  it('an unreadable record is set aside at power-on, with an event, and reads as not kept', async () => {
    const storage = new MemoryStorage();
    const { log } = await open(storage);
    const job = log.add(sent(1));
    await log.persisted();
    storage.records.set(`transcripts/${job.id}`, new TextEncoder().encode('{"record":"transcripts/'));
    const { log: after, events } = await open(storage);
    expect(after.has(job.id)).toBe(false);
    expect(stored(storage)).toEqual([]);
    expect(events.since().map((e) => e.code)).toContain('nvram-record-reset');
  });
});
