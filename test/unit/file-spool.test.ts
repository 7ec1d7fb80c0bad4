/**
 * The scan spool on files (device-sim/hal/file-spool.ts): streams in and out with bounded memory,
 * refuses what does not fit, and survives power cuts without showing half a file.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSpool, SpoolFullError, type SpoolWriteStage } from '../../device-sim/hal/file-spool.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spool-'));
  dirs.push(dir);
  return dir;
}

/** `size` bytes that differ from chunk to chunk (so a misplaced chunk shows). */
function pattern(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function writeAll(spool: FileSpool, name: string, bytes: Uint8Array, chunkBytes: number): Promise<number> {
  const writer = await spool.create(name);
  for (let at = 0; at < bytes.length; at += chunkBytes) await writer.write(bytes.subarray(at, at + chunkBytes));
  return writer.commit();
}

/** The cut happens at the `count`-th time `stage` is reached. */
function powerCutAt(stage: SpoolWriteStage, count = 1) {
  let seen = 0;
  return {
    onWriteStage(_name: string, reached: SpoolWriteStage) {
      if (reached === stage && ++seen === count) throw new Error(`power cut at ${stage}`);
    },
  };
}

describe('FileSpool', () => {
  it('round-trips a multi-MiB file in small chunks, lending one reused buffer to the reader', async () => {
    const spool = await FileSpool.open(await freshDir());
    const data = pattern(5 * MiB + 123);
    expect(await writeAll(spool, 'job-1.pdf', data, 64 * KiB + 7)).toBe(data.length);
    expect(await spool.size('job-1.pdf')).toBe(data.length);
    expect(await spool.list()).toEqual(['job-1.pdf']);

    const chunkBytes = 4 * KiB;
    const back = new Uint8Array(data.length);
    const buffers = new Set<ArrayBufferLike>();
    let at = 0;
    let chunks = 0;
    for await (const chunk of spool.read('job-1.pdf', chunkBytes)) {
      expect(chunk.length).toBeLessThanOrEqual(chunkBytes);
      buffers.add(chunk.buffer);
      back.set(chunk, at);
      at += chunk.length;
      chunks++;
    }
    expect(at).toBe(data.length);
    expect(Buffer.compare(back, data)).toBe(0);
    expect(chunks).toBe(Math.ceil(data.length / chunkBytes));
    // Memory does not grow with the file: every chunk is a view of one buffer of chunkBytes.
    expect(buffers.size).toBe(1);
    expect([...buffers][0]!.byteLength).toBe(chunkBytes);

    // Read again (a retry re-reads the file) and as a bigger chunk size.
    let total = 0;
    for await (const chunk of spool.read('job-1.pdf', MiB)) total += chunk.length;
    expect(total).toBe(data.length);
  });

  it('reads from a byte offset (a resumed upload), and nothing from the end on', async () => {
    const spool = await FileSpool.open(await freshDir());
    const data = pattern(MiB + 5);
    await writeAll(spool, 'job-9.pdf', data, 64 * KiB);
    const from = async (start: number) => {
      const parts: Buffer[] = [];
      for await (const chunk of spool.read('job-9.pdf', 100_000, start)) parts.push(Buffer.from(chunk));
      return Buffer.concat(parts);
    };
    expect(Buffer.compare(await from(700_001), data.subarray(700_001))).toBe(0);
    expect((await from(data.length)).length).toBe(0);
    await expect(from(-1)).rejects.toThrow(/start must be a whole number/);
  });

  it('refuses a write and a new file that would go past the capacity, with a SpoolFullError', async () => {
    const dir = await freshDir();
    const spool = await FileSpool.open(dir, { capacityBytes: 100 * KiB });
    await writeAll(spool, 'a.pdf', pattern(60 * KiB), 16 * KiB);
    expect(await spool.freeBytes()).toBe(40 * KiB);

    // Open files count too: two writers share what is left.
    const b = await spool.create('b.pdf');
    const c = await spool.create('c.pdf');
    await b.write(pattern(25 * KiB));
    await c.write(pattern(10 * KiB));
    expect(await spool.freeBytes()).toBe(5 * KiB);
    const refused = await b.write(pattern(6 * KiB)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpoolFullError);
    expect(refused).toMatchObject({ code: 'spool-full', message: expect.stringMatching(/scan storage is full: b\.pdf needs 6144 more bytes, 5120 of 102400 are free/) });
    await b.abort();
    expect(await spool.freeBytes()).toBe(30 * KiB);
    await c.write(pattern(30 * KiB));
    expect(await spool.freeBytes()).toBe(0);
    await expect(spool.create('d.pdf')).rejects.toBeInstanceOf(SpoolFullError);
    await c.commit();
    expect(await spool.list()).toEqual(['a.pdf', 'c.pdf']);
    expect((await readdir(join(dir, 'spool'))).sort()).toEqual(['a.pdf', 'c.pdf']);

    // The next power-on counts what is on disk; removing a file frees its room.
    const again = await FileSpool.open(dir, { capacityBytes: 100 * KiB });
    expect(await again.freeBytes()).toBe(0);
    await again.remove('a.pdf');
    expect(await again.freeBytes()).toBe(60 * KiB);
    expect(await again.list()).toEqual(['c.pdf']);
  });

  for (const [stage, count] of [
    ['chunk-written', 2],
    ['temp-synced', 1],
  ] as const) {
    it(`shows no file after a power cut at ${stage}, and sweeps the temp at the next power-on`, async () => {
      const dir = await freshDir();
      const spool = await FileSpool.open(dir, { faults: powerCutAt(stage, count) });
      const writer = await spool.create('job-2.pdf');
      const cut = async () => {
        for (let i = 0; i < 3; i++) await writer.write(pattern(10 * KiB, i));
        await writer.commit();
      };
      await expect(cut()).rejects.toThrow(`power cut at ${stage}`);
      expect(await spool.list()).toEqual([]);
      expect(await spool.size('job-2.pdf')).toBeUndefined();
      expect((await readdir(join(dir, 'spool'))).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);

      const afterPowerOn = await FileSpool.open(dir);
      expect(await readdir(join(dir, 'spool'))).toEqual([]);
      expect(await afterPowerOn.list()).toEqual([]);
      expect(await afterPowerOn.freeBytes()).toBeGreaterThan(0);
      // The name is free again: the scan can be redone.
      expect(await writeAll(afterPowerOn, 'job-2.pdf', pattern(1000), 100)).toBe(1000);
    });
  }

  it('keeps a file whole when the power is cut right after the rename', async () => {
    const dir = await freshDir();
    const spool = await FileSpool.open(dir, { faults: powerCutAt('renamed') });
    const data = pattern(50 * KiB);
    await expect(writeAll(spool, 'job-3.jpg', data, 8 * KiB)).rejects.toThrow('power cut at renamed');
    const afterPowerOn = await FileSpool.open(dir);
    expect(await afterPowerOn.list()).toEqual(['job-3.jpg']);
    expect(Buffer.compare(await readFile(afterPowerOn.pathOf('job-3.jpg')), data)).toBe(0);
  });

  it('throws away an aborted file and its temp', async () => {
    const dir = await freshDir();
    const spool = await FileSpool.open(dir);
    const writer = await spool.create('job-4.pdf');
    await writer.write(pattern(KiB));
    await writer.abort();
    await writer.abort();
    expect(await readdir(join(dir, 'spool'))).toEqual([]);
    await expect(writer.write(pattern(1))).rejects.toThrow('spool file job-4.pdf is aborted');
  });

  it('refuses bad names, an existing name, and reading an absent file', async () => {
    const spool = await FileSpool.open(await freshDir());
    for (const bad of ['', '../escape', 'a/b', 'Job.pdf', 'job.tar.gz', '.hidden', 'job.', 'job 1.pdf', 'job-1.pdf.tmp']) {
      await expect(spool.create(bad), bad).rejects.toThrow(/invalid spool file name/);
    }
    await expect(async () => {
      for await (const chunk of spool.read('../../etc/passwd', 16)) void chunk;
    }).rejects.toThrow(/invalid spool file name/);
    await expect(async () => {
      for await (const chunk of spool.read('absent.pdf', 16)) void chunk;
    }).rejects.toThrow('no spool file absent.pdf');

    await writeAll(spool, 'job-5.pdf', pattern(10), 10);
    await expect(spool.create('job-5.pdf')).rejects.toThrow('spool file job-5.pdf exists');
    const open = await spool.create('job-6.pdf');
    await expect(spool.create('job-6.pdf')).rejects.toThrow('spool file job-6.pdf exists');
    await open.abort();
    expect(await spool.size('absent.pdf')).toBeUndefined();
    await spool.remove('absent.pdf');
  });
});
