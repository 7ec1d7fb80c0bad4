/**
 * The scan unit: a child process of the simulated printer, as a scanner's imaging ASIC is a
 * part apart from the controller that sends mail. It renders the pages (full rasters: hundreds
 * of MB at 600 dpi, which is why it runs in its own process, away from the device's memory),
 * encodes them, and writes the files as frames to stdout (scan-unit-wire.ts).
 *
 * Usage: `node scan-unit.mjs '<ScanUnitRequest as JSON>'` (sim-scanner.ts bundles and starts it).
 *
 * PDF: one page per image, A4 in points, colour and greyscale pages as JPEG (DCTDecode), black
 * and white as a 1-bit DeviceGray image (FlateDecode), as scanners write PDFs. PDFKit writes each
 * object as soon as it is complete, and the unit passes those bytes on before it renders the next
 * page, so it holds one page at a time whatever the page count (pdf-lib, used before, could only
 * write the whole document at the end: about 320 MB for 100 colour pages at 600 dpi). JPEG: one
 * file per page, each sent as soon as it is encoded.
 */
import { once } from 'node:events';
import { deflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import { buildScanFrameHeader, SCAN_FRAME_MAX_PAYLOAD_BYTES, type ScanUnitRequest } from './scan-unit-wire.ts';
import { renderBilevelPage, renderJpegPage, type PageSpec } from './test-page.ts';

/** A4 in PDF points (1/72 in). */
const A4_PT = { width: 595.28, height: 841.89 } as const;

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as ScanUnitRequest;
  // One job and done: libvips' operation cache would only hold rasters we never render twice.
  sharp.cache(false);
  await faultPoint(request, 0);
  const specOf = (page: number): PageSpec => ({ jobId: request.jobId, page, pages: request.pages, dpi: request.dpi, colour: request.colour, wallMs: request.wallMs });
  if (request.format === 'jpeg') {
    for (let page = 1; page <= request.pages; page++) {
      await sendData(await renderJpegPage(specOf(page)));
      await send(buildScanFrameHeader('file-end'));
      await pageDone(request, page);
    }
    return;
  }
  const scannedAt = new Date(request.wallMs);
  const pdf = new PDFDocument({
    autoFirstPage: false,
    // No default font: a scan has none, and PDFKit would otherwise load Helvetica's metrics.
    font: null as unknown as string,
    // Same request, same bytes: PDFKit derives the file ID from these, dates included.
    info: { Title: `Scan ${request.jobId}`, Creator: 'MFP simulator scan unit', Producer: 'PDFKit', CreationDate: scannedAt, ModDate: scannedAt },
  });
  const ended = once(pdf, 'end');
  for (let page = 1; page <= request.pages; page++) {
    await addPage(pdf, specOf(page));
    // The image is written; the page's content stream follows when the next page opens (or at end).
    await passOn(pdf);
    await pageDone(request, page);
  }
  pdf.end();
  await passOn(pdf);
  await ended;
  await send(buildScanFrameHeader('file-end'));
}

async function addPage(pdf: PDFKit.PDFDocument, spec: PageSpec): Promise<void> {
  pdf.addPage({ size: [A4_PT.width, A4_PT.height], margin: 0 });
  if (spec.colour !== 'black-and-white') {
    pdf.image(Buffer.from(await renderJpegPage(spec)), 0, 0, { width: A4_PT.width, height: A4_PT.height });
    return;
  }
  // PDFKit embeds JPEG and PNG only, so the 1-bit image is a raw XObject (a filter of its own: not deflated twice).
  const { width, height, bits } = await renderBilevelPage(spec);
  const image = pdf.ref({ Type: 'XObject', Subtype: 'Image', Width: width, Height: height, ColorSpace: 'DeviceGray', BitsPerComponent: 1, Filter: 'FlateDecode' });
  image.end(deflateSync(bits));
  (pdf.page as unknown as { xobjects: Record<string, PDFKit.PDFKitReference> }).xobjects.Scan = image;
  // PDFKit's pages start with the y axis flipped (origin top left), so the image's unit square is flipped back.
  pdf.addContent(`q ${A4_PT.width} 0 0 ${-A4_PT.height} 0 ${A4_PT.height} cm /Scan Do Q`);
}

/** Sends what PDFKit has written so far (it writes synchronously into its readable side). */
async function passOn(pdf: PDFKit.PDFDocument): Promise<void> {
  for (let chunk = pdf.read() as Buffer | null; chunk !== null; chunk = pdf.read() as Buffer | null) await sendData(chunk);
}

async function pageDone(request: ScanUnitRequest, page: number): Promise<void> {
  // Collect now (scanUnitCommand starts the unit with --expose-gc): this page's rasters go before the next one's come.
  (globalThis as { gc?: () => void }).gc?.();
  await send(buildScanFrameHeader('page'));
  await faultPoint(request, page);
}

/** The tester's faults, once `pages` pages are in (0: before the first). */
async function faultPoint(request: ScanUnitRequest, pages: number): Promise<void> {
  if (request.killAfterPages === pages) process.kill(process.pid, 'SIGKILL');
  if (request.jamAfterPages === pages) {
    await send(buildScanFrameHeader('jam'));
    process.exit(0);
  }
  if (request.stallAfterPages === pages) {
    // Silent and alive, as a unit whose feeder motor hangs: the device's watchdog ends it.
    setInterval(() => {}, 60_000);
    await new Promise<never>(() => {});
  }
}

/** Bytes of the current file, in frames of at most SCAN_FRAME_MAX_PAYLOAD_BYTES. */
async function sendData(bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; at += SCAN_FRAME_MAX_PAYLOAD_BYTES) {
    const payload = bytes.subarray(at, Math.min(bytes.length, at + SCAN_FRAME_MAX_PAYLOAD_BYTES));
    await send(buildScanFrameHeader('data', payload.length));
    await send(payload);
  }
}

/** Writes with backpressure: waits for the device to take the bytes when the pipe is full. */
function send(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
