/**
 * The simulated scanner (device-sim/scanner) with its real scan unit process, writing into a
 * real file spool: the files are parsed back as a mail recipient's software would read them.
 * Mostly 150 dpi to stay fast; one 300 dpi page for the growth with resolution.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream } from 'pdf-lib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ColourMode, ScanFormat, ScanRequest, ScanResolution } from '../../firmware/hal/scanner.ts';
import type { Spool } from '../../firmware/hal/spool.ts';
import { FileSpool } from '../../device-sim/hal/file-spool.ts';
import { SimScanner } from '../../device-sim/scanner/sim-scanner.ts';

const WALL_MS = Date.UTC(2025, 4, 6, 9, 30, 0);
const A4_PT = { width: 595.28, height: 841.89 };

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshSpool(capacityBytes?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'scan-'));
  dirs.push(dir);
  const spool = await FileSpool.open(dir, capacityBytes === undefined ? {} : { capacityBytes });
  return { spool, spoolDir: join(dir, 'spool') };
}

function request(overrides: Partial<ScanRequest> & { format: ScanFormat }): ScanRequest {
  const pages = overrides.pages ?? 1;
  const jobId = overrides.jobId ?? 'job-0001';
  const spoolNames = overrides.format === 'pdf' ? [`${jobId}.pdf`] : Array.from({ length: pages }, (_, i) => `${jobId}-${i + 1}.jpg`);
  return { jobId, pages, colour: 'colour', dpi: 150, wallMs: WALL_MS, spoolNames, ...overrides };
}

async function readWhole(spool: FileSpool, name: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of spool.read(name, 64 * 1024)) parts.push(chunk.slice());
  return Buffer.concat(parts);
}

/** Width, height and component count from a JPEG's start-of-frame segment. */
function jpegFrame(bytes: Uint8Array): { width: number; height: number; components: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`no marker at ${at}`);
    const marker = bytes[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) return { height: view.getUint16(at + 5), width: view.getUint16(at + 7), components: bytes[at + 9]! };
    at += 2 + view.getUint16(at + 2);
  }
  throw new Error('no start-of-frame segment');
}

/** Each page's images, as the dictionaries of their XObjects. */
async function pdfPages(bytes: Uint8Array) {
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
  return pdf.getPages().map((page) => {
    const xobjects = page.node.Resources()?.lookup(PDFName.of('XObject'), PDFDict);
    const images = (xobjects?.entries() ?? []).map(([, ref]) => {
      const image = pdf.context.lookup(ref);
      if (!(image instanceof PDFRawStream)) throw new Error(`XObject ${String(ref)} is not a stream`);
      return image.dict;
    });
    const num = (dict: PDFDict, key: string) => dict.lookup(PDFName.of(key), PDFNumber).asNumber();
    return {
      size: page.getSize(),
      images: images.map((dict) => ({
        subtype: dict.get(PDFName.of('Subtype'))?.toString(),
        filter: dict.get(PDFName.of('Filter'))?.toString(),
        width: num(dict, 'Width'),
        height: num(dict, 'Height'),
        bitsPerComponent: num(dict, 'BitsPerComponent'),
      })),
    };
  });
}

/** The spool, counting the bytes written into it as they arrive. */
function countingSpool(spool: Spool): { spool: Spool; written: () => number } {
  let written = 0;
  const counting: Spool = {
    create: async (name) => {
      const writer = await spool.create(name);
      return {
        write: (bytes) => ((written += bytes.length), writer.write(bytes)),
        commit: () => writer.commit(),
        abort: () => writer.abort(),
      };
    },
    read: (name, chunkBytes, startByte) => spool.read(name, chunkBytes, startByte),
    size: (name) => spool.size(name),
    remove: (name) => spool.remove(name),
    list: () => spool.list(),
    freeBytes: () => spool.freeBytes(),
  };
  return { spool: counting, written: () => written };
}

/**
 * How dark the top quarter and the bottom tenth of a PDF's first page are (0 white to 255 black),
 * rendered by poppler's pdftoppm at 10 dpi. The test page has its title, colour bars and grey wedge
 * at the top and blank paper at the bottom, so a page drawn upside down shows at once.
 */
async function topAndBottomDarkness(file: string): Promise<{ top: number; bottom: number }> {
  const { stdout } = await promisify(execFile)('pdftoppm', ['-r', '10', '-gray', '-f', '1', '-l', '1', file], { encoding: 'buffer' });
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(stdout.subarray(0, 32).toString('latin1'));
  if (!header) throw new Error('pdftoppm did not write a PGM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  const pixels = stdout.subarray(header[0].length);
  const darkness = (fromRow: number, toRow: number) => {
    let sum = 0;
    for (let i = fromRow * width; i < toRow * width; i++) sum += 255 - pixels[i]!;
    return sum / ((toRow - fromRow) * width);
  };
  return { top: darkness(0, Math.floor(height / 4)), bottom: darkness(height - Math.floor(height / 10), height) };
}

async function scanOnePage(format: ScanFormat, colour: ColourMode, dpi: ScanResolution): Promise<number> {
  const { spool } = await freshSpool();
  const result = await new SimScanner().scan(request({ format, colour, dpi }), spool);
  if (!result.ok) throw new Error(result.detail);
  return result.files[0]!.sizeBytes;
}

describe('the simulated scanner', () => {
  it('scans 3 pages into one A4 PDF with one JPEG image per page, reporting each page', async () => {
    const { spool } = await freshSpool();
    const progress: [number, number][] = [];
    const result = await new SimScanner().scan(request({ format: 'pdf', pages: 3 }), spool, (done, total) => progress.push([done, total]));
    expect(result).toEqual({ ok: true, files: [{ spoolName: 'job-0001.pdf', sizeBytes: expect.any(Number) }] });
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const bytes = await readWhole(spool, 'job-0001.pdf');
    expect(bytes.length).toBe(result.ok && result.files[0]!.sizeBytes);
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');
    const pages = await pdfPages(bytes);
    expect(pages).toHaveLength(3);
    for (const page of pages) {
      expect(page.size.width).toBeCloseTo(A4_PT.width, 1);
      expect(page.size.height).toBeCloseTo(A4_PT.height, 1);
      expect(page.images).toEqual([{ subtype: '/Image', filter: '/DCTDecode', width: 1240, height: 1754, bitsPerComponent: 8 }]);
    }
    expect(await spool.list()).toEqual(['job-0001.pdf']);
  });

  it('writes each PDF page into the spool before it scans the next, into a file qpdf finds sound, the right way up', async () => {
    for (const colour of ['colour', 'black-and-white'] as const) {
      const { spool: fileSpool, spoolDir } = await freshSpool();
      const { spool, written } = countingSpool(fileSpool);
      const writtenAtPage: number[] = [];
      const result = await new SimScanner().scan(request({ format: 'pdf', pages: 3, colour }), spool, () => writtenAtPage.push(written()));
      if (!result.ok) throw new Error(result.detail);
      const total = result.files[0]!.sizeBytes;
      // Page n's image is in the spool when page n is reported: the unit does not hold the document.
      expect(writtenAtPage[0]).toBeGreaterThan(total / 5);
      expect(writtenAtPage[1]).toBeGreaterThan(writtenAtPage[0]! + total / 5);
      expect(writtenAtPage[2]).toBeGreaterThan(writtenAtPage[1]! + total / 5);
      expect(written()).toBe(total);
      // qpdf: a strict structural check (cross-reference offsets, stream lengths, page tree), and the images' filters decode.
      const file = join(spoolDir, 'job-0001.pdf');
      const check = await promisify(execFile)('qpdf', ['--check', file]);
      expect(check.stdout).toMatch(/No syntax or stream encoding errors found/);
      const images = await promisify(execFile)('qpdf', ['--show-pages', '--with-images', file]);
      expect(images.stdout.match(/^page \d+:/gm)).toHaveLength(3);
      const { top, bottom } = await topAndBottomDarkness(file);
      process.stdout.write(`${colour} page rendered: top ${top.toFixed(1)}, bottom ${bottom.toFixed(1)}\n`);
      expect(top).toBeGreaterThan(bottom + 30);
    }
  });

  it('scans 3 pages as 3 JPEG files of the A4 pixel size, one channel for greyscale', async () => {
    const { spool } = await freshSpool();
    const result = await new SimScanner().scan(request({ format: 'jpeg', pages: 3, colour: 'greyscale' }), spool);
    if (!result.ok) throw new Error(result.detail);
    expect(result.files.map((f) => f.spoolName)).toEqual(['job-0001-1.jpg', 'job-0001-2.jpg', 'job-0001-3.jpg']);
    for (const file of result.files) {
      const bytes = await readWhole(spool, file.spoolName);
      expect(bytes.length).toBe(file.sizeBytes);
      expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
      expect([...bytes.subarray(-2)]).toEqual([0xff, 0xd9]);
      expect(jpegFrame(bytes)).toEqual({ width: 1240, height: 1754, components: 1 });
    }
  });

  it('makes files that grow with resolution and colour, like a real scanner’s', async () => {
    const colour150 = await scanOnePage('pdf', 'colour', 150);
    const greyscale150 = await scanOnePage('pdf', 'greyscale', 150);
    const bw150 = await scanOnePage('pdf', 'black-and-white', 150);
    const colour300 = await scanOnePage('jpeg', 'colour', 300);
    expect(colour150).toBeGreaterThan(150_000);
    expect(colour300).toBeGreaterThan(2.5 * colour150);
    expect(colour300).toBeGreaterThan(300_000);
    expect(colour300).toBeLessThan(1_500_000);
    expect(colour150).toBeGreaterThan(1.2 * greyscale150);
    expect(greyscale150).toBeGreaterThan(4 * bw150);
  });

  it('puts black and white in the PDF as a 1-bit image, and in a JPEG file as one channel', async () => {
    const { spool } = await freshSpool();
    const scanner = new SimScanner();
    const pdf = await scanner.scan(request({ format: 'pdf', colour: 'black-and-white' }), spool);
    if (!pdf.ok) throw new Error(pdf.detail);
    const [page] = await pdfPages(await readWhole(spool, 'job-0001.pdf'));
    expect(page!.images).toEqual([{ subtype: '/Image', filter: '/FlateDecode', width: 1240, height: 1754, bitsPerComponent: 1 }]);
    const jpeg = await scanner.scan(request({ format: 'jpeg', colour: 'black-and-white' }), spool);
    if (!jpeg.ok) throw new Error(jpeg.detail);
    expect(jpegFrame(await readWhole(spool, 'job-0001-1.jpg'))).toEqual({ width: 1240, height: 1754, components: 1 });
  });

  it('gives the same bytes for the same request, and other bytes for another job', async () => {
    const { spool } = await freshSpool();
    const scanner = new SimScanner();
    const scans = [
      request({ format: 'pdf', pages: 2, spoolNames: ['first.pdf'] }),
      request({ format: 'pdf', pages: 2, spoolNames: ['second.pdf'] }),
      request({ format: 'pdf', pages: 2, spoolNames: ['other.pdf'], jobId: 'job-0002' }),
    ];
    for (const scan of scans) expect((await scanner.scan(scan, spool)).ok).toBe(true);
    const [first, second, other] = await Promise.all(['first.pdf', 'second.pdf', 'other.pdf'].map((name) => readWhole(spool, name)));
    expect(Buffer.compare(first!, second!)).toBe(0);
    expect(Buffer.compare(first!, other!)).not.toBe(0);
  });

  it('answers a full spool with spool-full and leaves nothing behind (PDF)', async () => {
    const { spool, spoolDir } = await freshSpool(100_000);
    const result = await new SimScanner().scan(request({ format: 'pdf', pages: 3 }), spool);
    expect(result).toMatchObject({ ok: false, kind: 'spool-full', detail: expect.stringMatching(/scan storage is full/) });
    expect(await readdir(spoolDir)).toEqual([]);
    expect(await spool.freeBytes()).toBe(100_000);

    const filler = await spool.create('filler.pdf');
    await filler.write(new Uint8Array(100_000));
    await filler.commit();
    expect(await new SimScanner().scan(request({ format: 'pdf' }), spool)).toEqual({ ok: false, kind: 'spool-full', detail: 'the scan storage is full' });
    expect(await readdir(spoolDir)).toEqual(['filler.pdf']);
  });

  it('throws away the pages already written when a later page does not fit (JPEG)', async () => {
    // Room for about two greyscale pages of ~200 kB: pages 1 and 2 are in, page 3 is refused.
    const { spool, spoolDir } = await freshSpool(500_000);
    const progress: number[] = [];
    const result = await new SimScanner().scan(request({ format: 'jpeg', pages: 3, colour: 'greyscale' }), spool, (done) => progress.push(done));
    expect(result).toMatchObject({ ok: false, kind: 'spool-full' });
    expect(progress).toEqual([1, 2]);
    expect(await readdir(spoolDir)).toEqual([]);
    expect(await spool.freeBytes()).toBe(500_000);
  });

  it('answers a scan unit that dies mid-job with scanner-error and leaves nothing behind', async () => {
    const { spool, spoolDir } = await freshSpool();
    const progress: number[] = [];
    const result = await new SimScanner({ faults: { killUnitAfterPages: 1 } }).scan(request({ format: 'jpeg', pages: 3 }), spool, (done) => progress.push(done));
    expect(result).toEqual({ ok: false, kind: 'scanner-error', detail: 'the scan unit was killed by SIGKILL' });
    expect(progress).toEqual([1]);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('stops a scan unit that stalls', async () => {
    const { spool, spoolDir } = await freshSpool();
    const result = await new SimScanner({ stallTimeoutMs: 20 }).scan(request({ format: 'pdf' }), spool);
    expect(result).toEqual({ ok: false, kind: 'scanner-error', detail: 'the scan unit sent nothing for 20 ms and was stopped' });
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('refuses a request it cannot serve without touching the spool, and never overwrites a file', async () => {
    const { spool } = await freshSpool();
    const scanner = new SimScanner();
    expect(await scanner.scan(request({ format: 'jpeg', pages: 2, spoolNames: ['one.jpg'] }), spool)).toEqual({
      ok: false,
      kind: 'scanner-error',
      detail: 'a jpeg scan of 2 pages needs 2 spool names, got 1',
    });
    expect(await scanner.scan(request({ format: 'pdf', pages: 0 }), spool)).toMatchObject({ ok: false, detail: 'a scan needs at least one page, got 0' });

    const kept = await spool.create('taken.pdf');
    await kept.write(new Uint8Array([1, 2, 3]));
    await kept.commit();
    expect(await scanner.scan(request({ format: 'pdf', spoolNames: ['taken.pdf'] }), spool)).toEqual({ ok: false, kind: 'scanner-error', detail: 'spool file taken.pdf exists' });
    expect(await spool.size('taken.pdf')).toBe(3);
  });
});
