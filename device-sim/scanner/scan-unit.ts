/**
 * The scan unit: a child process of the simulated printer, as a scanner's imaging ASIC is a
 * part apart from the controller that sends mail. It renders the pages (full rasters: hundreds
 * of MB at 600 dpi, which is why it runs in its own process, away from the device's memory),
 * encodes them, and writes the files as frames to stdout (scan-unit-wire.ts).
 *
 * Usage: `node scan-unit.mjs '<ScanUnitRequest as JSON>'` (sim-scanner.ts bundles and starts it).
 *
 * PDF: one page per image, A4 in points, colour and greyscale pages as JPEG (DCTDecode), black
 * and white as a 1-bit DeviceGray image (FlateDecode), as scanners write PDFs. pdf-lib builds the
 * document in this process and writes it whole at the end (it cannot write a page at a time), so
 * the unit holds the encoded pages of one job, not their rasters. JPEG: one file per page, each
 * sent as soon as it is encoded.
 */
import { deflateSync } from 'node:zlib';
import { concatTransformationMatrix, drawObject, PDFDocument, popGraphicsState, pushGraphicsState } from 'pdf-lib';
import sharp from 'sharp';
import { buildScanFrameHeader, SCAN_FRAME_MAX_PAYLOAD_BYTES, type ScanUnitRequest } from './scan-unit-wire.ts';
import { renderBilevelPage, renderJpegPage, type PageSpec } from './test-page.ts';

/** A4 in PDF points (1/72 in). */
const A4_PT = { width: 595.28, height: 841.89 } as const;

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as ScanUnitRequest;
  // One job and done: libvips' operation cache would only hold rasters we never render twice.
  sharp.cache(false);
  const specOf = (page: number): PageSpec => ({ jobId: request.jobId, page, pages: request.pages, dpi: request.dpi, colour: request.colour, wallMs: request.wallMs });
  if (request.format === 'jpeg') {
    for (let page = 1; page <= request.pages; page++) {
      await sendFile(await renderJpegPage(specOf(page)));
      await pageDone(request, page);
    }
    return;
  }
  const pdf = await PDFDocument.create({ updateMetadata: false });
  const scannedAt = new Date(request.wallMs);
  pdf.setTitle(`Scan ${request.jobId}`);
  pdf.setCreator('MFP simulator scan unit');
  pdf.setProducer('pdf-lib');
  pdf.setCreationDate(scannedAt);
  pdf.setModificationDate(scannedAt);
  for (let page = 1; page <= request.pages; page++) {
    await addPage(pdf, specOf(page));
    await pageDone(request, page);
  }
  await sendFile(await pdf.save({ useObjectStreams: false }));
}

async function addPage(pdf: PDFDocument, spec: PageSpec): Promise<void> {
  const page = pdf.addPage([A4_PT.width, A4_PT.height]);
  if (spec.colour !== 'black-and-white') {
    page.drawImage(await pdf.embedJpg(await renderJpegPage(spec)), { x: 0, y: 0, width: A4_PT.width, height: A4_PT.height });
    return;
  }
  // pdf-lib embeds only JPEG and (8-bit RGB) PNG, so the 1-bit image is a raw XObject.
  const { width, height, bits } = await renderBilevelPage(spec);
  const image = pdf.context.stream(deflateSync(bits), { Type: 'XObject', Subtype: 'Image', Width: width, Height: height, ColorSpace: 'DeviceGray', BitsPerComponent: 1, Filter: 'FlateDecode' });
  const name = page.node.newXObject('Scan', pdf.context.register(image));
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(A4_PT.width, 0, 0, A4_PT.height, 0, 0), drawObject(name), popGraphicsState());
}

async function pageDone(request: ScanUnitRequest, page: number): Promise<void> {
  await send(buildScanFrameHeader('page'));
  if (request.killAfterPages === page) process.kill(process.pid, 'SIGKILL');
}

async function sendFile(bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; at += SCAN_FRAME_MAX_PAYLOAD_BYTES) {
    const payload = bytes.subarray(at, Math.min(bytes.length, at + SCAN_FRAME_MAX_PAYLOAD_BYTES));
    await send(buildScanFrameHeader('data', payload.length));
    await send(payload);
  }
  await send(buildScanFrameHeader('file-end'));
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
