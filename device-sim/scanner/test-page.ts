/**
 * One scanned page of the simulator: an A4 test pattern rendered at the scan resolution and
 * encoded as JPEG, the way a scanner's image pipeline hands pages to its PDF writer.
 *
 * The pattern is an SVG in millimetres (so the layout is the same at every resolution) with
 * large text (page number, job id, device time), colour bars, a grey wedge, gradients, a
 * resolution target and lines of body text; sharp (libvips) rasterises it. A seeded noise tile
 * (paper texture and sensor noise) is laid over it, so JPEG sizes come out like real scans: about
 * 0.3 / 0.9 / 3.2 MB for a colour page at 150 / 300 / 600 dpi (noise grows with the area, edges
 * only with the resolution), a third less for greyscale.
 *
 * Black and white is thresholded from the noise-free page (a scanner's B/W mode drops the paper
 * texture). For a PDF it is a 1-bit image (renderBilevelPage; the unit deflates it), about 20 kB
 * a page at 150 dpi: real scanners use CCITT G4 there, which is smaller still, but no well-kept
 * JavaScript encoder exists, so Flate it is. A JPEG file cannot hold 1 bit, so the JPEG format
 * gets a greyscale JPEG of pure black and white (bigger than that: sharp edges are JPEG's worst
 * case).
 *
 * Same request, same bytes: the noise and the body text come from a PRNG seeded by the job,
 * page and settings; the font is whatever fontconfig finds for "DejaVu Sans" (Debian's base
 * image has it), so bytes are stable on one machine, not promised across font versions.
 */
import sharp, { type Sharp } from 'sharp';
import type { ColourMode, ScanResolution } from '../../firmware/hal/scanner.ts';

export interface PageSpec {
  readonly jobId: string;
  /** 1-based. */
  readonly page: number;
  readonly pages: number;
  readonly dpi: ScanResolution;
  readonly colour: ColourMode;
  readonly wallMs: number;
}

/** A4 (210 × 297 mm) in pixels at 150 dpi; 300 and 600 dpi are exact multiples, as scanners quote them. */
const A4_150_DPI_PX = { width: 1240, height: 1754 } as const;
const A4_MM = { width: 210, height: 297 } as const;
/** Side of the noise tile, px: odd, so its repeats never line up with JPEG's 8 × 8 blocks. */
const NOISE_TILE_PX = 509;
/**
 * Noise amplitudes, ± 8-bit levels: luminance (triangular), and the extra per-channel part of
 * colour (uniform; JPEG's 4:2:0 chroma averages much of it away, so it is set higher).
 */
const LUMA_NOISE_LEVELS = 8;
const CHROMA_NOISE_LEVELS = 16;
/** Grey level at and above which a black-and-white pixel is white. */
const BILEVEL_THRESHOLD = 140;
/** A scanner's "normal" quality; with the noise above, a 300 dpi colour page comes out near 0.9 MB. */
const JPEG_QUALITY = 70;
/** Lines of body text: enough to look like a letter, few enough that noise (∝ area) outweighs edges (∝ dpi). */
const BODY_TEXT_LINES = 10;

export function pagePixels(dpi: ScanResolution): { width: number; height: number } {
  const scale = dpi / 150;
  return { width: A4_150_DPI_PX.width * scale, height: A4_150_DPI_PX.height * scale };
}

/** The page as a JPEG file (baseline, 4:2:0 for colour; one channel for greyscale and B/W). */
export async function renderJpegPage(spec: PageSpec): Promise<Uint8Array> {
  const jpeg = await (await rasterise(spec)).jpeg({ quality: JPEG_QUALITY, chromaSubsampling: '4:2:0' }).toBuffer();
  return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
}

/**
 * A black-and-white page as 1-bit rows, MSB first, each row padded to a whole byte, 1 = white
 * (the sample layout of a PDF DeviceGray image with BitsPerComponent 1).
 */
export async function renderBilevelPage(spec: PageSpec): Promise<{ width: number; height: number; bits: Uint8Array }> {
  const { data, info } = await (await rasterise({ ...spec, colour: 'black-and-white' })).raw().toBuffer({ resolveWithObject: true });
  const rowBytes = Math.ceil(info.width / 8);
  const bits = new Uint8Array(rowBytes * info.height);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x]! >= 128) bits[y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return { width: info.width, height: info.height, bits };
}

/** The page in the requested colour mode, as a sharp pipeline ready to encode. */
async function rasterise(spec: PageSpec): Promise<Sharp> {
  const { width, height } = pagePixels(spec.dpi);
  const random = seededRandom(`${spec.jobId}/${spec.page}/${spec.pages}/${spec.dpi}/${spec.colour}/${spec.wallMs}`);
  const page = sharp(Buffer.from(testPatternSvg(spec, width, height, random)), { limitInputPixels: false }).flatten({ background: '#ffffff' });
  if (spec.colour === 'black-and-white') return page.toColourspace('b-w').threshold(BILEVEL_THRESHOLD, { grayscale: true }).toColourspace('b-w');
  const { data, info } = await (spec.colour === 'greyscale' ? page.toColourspace('b-w') : page).raw().toBuffer({ resolveWithObject: true });
  addNoise(data, info.width, info.channels, random);
  const noisy = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  return spec.colour === 'greyscale' ? noisy.toColourspace('b-w') : noisy;
}

/**
 * Adds a tiled, seeded noise field to an 8-bit raster, in place: paper texture and sensor noise
 * in luminance (the same on every channel of a pixel), plus a per-channel part for colour (sensor
 * noise has chroma too).
 */
function addNoise(raster: Buffer, width: number, channels: number, random: () => number): void {
  const tile = new Int8Array(NOISE_TILE_PX * NOISE_TILE_PX * channels);
  const chroma = channels > 1 ? CHROMA_NOISE_LEVELS : 0;
  for (let i = 0; i < tile.length; i += channels) {
    const luma = (random() + random() - 1) * LUMA_NOISE_LEVELS;
    for (let c = 0; c < channels; c++) tile[i + c] = Math.round(luma + (random() * 2 - 1) * chroma);
  }
  const tileRowBytes = NOISE_TILE_PX * channels;
  for (let at = 0, y = 0; at < raster.length; y++) {
    const tileRow = (y % NOISE_TILE_PX) * tileRowBytes;
    for (let x = 0, t = tileRow; x < width; x++) {
      for (let c = 0; c < channels; c++, at++, t++) {
        const v = raster[at]! + tile[t]!;
        raster[at] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      if (t === tileRow + tileRowBytes) t = tileRow;
    }
  }
}

function testPatternSvg(spec: PageSpec, widthPx: number, heightPx: number, random: () => number): string {
  const time = new Date(spec.wallMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const bars = ['#ffffff', '#ffff00', '#00ffff', '#00ff00', '#ff00ff', '#ff0000', '#0000ff', '#000000'];
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${A4_MM.width} ${A4_MM.height}">`,
    `<defs>`,
    `<linearGradient id="hue" x1="0" x2="1" y1="0" y2="0">${['#ff0000', '#ffff00', '#00ff00', '#00ffff', '#0000ff', '#ff00ff', '#ff0000'].map((c, i) => `<stop offset="${i / 6}" stop-color="${c}"/>`).join('')}</linearGradient>`,
    `<linearGradient id="grey" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#fff"/></linearGradient>`,
    `<radialGradient id="sky" cx="0.3" cy="0.3" r="0.9"><stop offset="0" stop-color="#fff6c0"/><stop offset="0.5" stop-color="#f08a24"/><stop offset="1" stop-color="#1d2b6b"/></radialGradient>`,
    `<clipPath id="photo"><rect x="110" y="114" width="90" height="70"/></clipPath>`,
    `</defs>`,
    `<rect width="210" height="297" fill="#fbfaf6"/>`,
    `<g font-family="DejaVu Sans, sans-serif" fill="#000">`,
    `<text x="10" y="24" font-size="13" font-weight="bold">Page ${spec.page} of ${spec.pages}</text>`,
    `<text x="10" y="34" font-size="6">Job ${escapeXml(spec.jobId)}</text>`,
    `<text x="10" y="42" font-size="6">${time}</text>`,
    `<text x="200" y="42" font-size="4" text-anchor="end">${spec.dpi} dpi ${spec.colour}</text>`,
    `</g>`,
  );
  bars.forEach((c, i) => parts.push(`<rect x="${10 + i * 23.75}" y="48" width="23.75" height="24" fill="${c}" stroke="#000" stroke-width="0.2"/>`));
  for (let i = 0; i <= 10; i++) {
    const v = Math.round((255 * i) / 10);
    parts.push(`<rect x="${10 + i * (190 / 11)}" y="75" width="${190 / 11}" height="10" fill="rgb(${v},${v},${v})"/>`);
  }
  parts.push(`<rect x="10" y="88" width="190" height="12" fill="url(#hue)"/>`, `<rect x="10" y="102" width="190" height="8" fill="url(#grey)"/>`);
  // Resolution target: groups of line pairs from 1 mm down to 0.1 mm.
  let x = 10;
  for (const w of [1, 0.6, 0.4, 0.25, 0.17, 0.12, 0.1]) {
    for (let i = 0; i < 5; i++) parts.push(`<rect x="${(x + i * 2 * w).toFixed(3)}" y="114" width="${w}" height="22" fill="#000"/>`);
    x += 10 * w + 3;
  }
  // Siemens star.
  for (let i = 0; i < 36; i++) {
    const a0 = (i * 2 * Math.PI) / 36;
    const a1 = a0 + Math.PI / 36;
    parts.push(`<path d="M 75 160 L ${(75 + 22 * Math.cos(a0)).toFixed(3)} ${(160 + 22 * Math.sin(a0)).toFixed(3)} L ${(75 + 22 * Math.cos(a1)).toFixed(3)} ${(160 + 22 * Math.sin(a1)).toFixed(3)} Z" fill="#000"/>`);
  }
  // A "photo": gradients and overlapping translucent discs.
  parts.push(`<g clip-path="url(#photo)"><rect x="110" y="114" width="90" height="70" fill="url(#sky)"/>`);
  for (let i = 0; i < 40; i++) {
    const cx = 110 + random() * 90;
    const cy = 114 + random() * 70;
    const hue = Math.floor(random() * 360);
    parts.push(`<circle cx="${cx.toFixed(2)}" cy="${cy.toFixed(2)}" r="${(2 + random() * 10).toFixed(2)}" fill="hsl(${hue},70%,50%)" fill-opacity="0.45"/>`);
  }
  parts.push(`</g><rect x="10" y="114" width="190" height="70" fill="none" stroke="#000" stroke-width="0.3"/>`);
  // Body text: seeded pseudo-words, like a typed letter.
  parts.push(`<g font-family="DejaVu Sans, sans-serif" font-size="3.2" fill="#1a1a1a">`);
  for (let line = 0; line < BODY_TEXT_LINES; line++) {
    parts.push(`<text x="10" y="${194 + line * 4.2}">${pseudoLine(random, 88)}</text>`);
  }
  parts.push(`</g></svg>`);
  return parts.join('');
}

function pseudoLine(random: () => number, chars: number): string {
  const letters = 'etaoinshrdlucmfwypvbgkqjxz';
  let out = '';
  while (out.length < chars) {
    const len = 1 + Math.floor(random() * 9);
    let word = '';
    for (let i = 0; i < len; i++) word += letters[Math.floor(random() * random() * letters.length)];
    out += (out ? ' ' : '') + word;
  }
  return out.slice(0, chars);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** mulberry32 seeded with FNV-1a of `seed`: small, fast, and the same on every run. */
function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  let state = h >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
