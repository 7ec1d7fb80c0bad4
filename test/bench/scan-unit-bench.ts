/**
 * The scan unit's memory for `make bench`: the simulator's scan unit process (device-sim/scanner)
 * writing a colour PDF at 300 dpi of 1 page and of 30 pages (about 0.9 MB a page), its output
 * read and dropped as fast as it comes. The unit should hold one page at a time, so its peak
 * RSS should not grow with the page count (scanUnitCommand says how it is kept flat).
 *
 * - scan_unit_pdf_1_page_peak_rss_mb, scan_unit_pdf_30_pages_peak_rss_mb: the unit's own peak
 *   RSS (VmHWM, read at its exit by a hook loaded with --import; see peakRssKiB for why not
 *   maxRSS).
 * - scan_unit_rss_growth_1_to_30_pages_mb: the difference.
 */
import { spawn } from 'node:child_process';
import type { ScanUnitRequest } from '../../device-sim/scanner/scan-unit-wire.ts';
import { scanUnitCommand } from '../../device-sim/scanner/scan-unit-script.ts';
import { benchLine } from './bench-line.ts';

const MIB = 1024 * 1024;
/** Loaded into the unit with --import: prints the process's VmHWM on stderr as it exits. */
const REPORT_PEAK_RSS = `data:text/javascript,${encodeURIComponent(
  "import { readFileSync } from 'node:fs'; process.on('exit', () => process.stderr.write('VmHWM ' + /^VmHWM:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));",
)}`;

/** One scan in a fresh unit; returns its peak RSS (KiB), the bytes it wrote and its wall time. */
async function runUnit(pages: number): Promise<{ peakKiB: number; bytes: number; wallMs: number }> {
  const request: ScanUnitRequest = { jobId: `bench-${pages}`, pages, colour: 'colour', dpi: 300, format: 'pdf', wallMs: Date.UTC(2026, 0, 1) };
  const started = performance.now();
  const { args, env } = await scanUnitCommand(request, ['--import', REPORT_PEAK_RSS]);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (bytes += d.length));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((ok) => child.once('close', ok));
  const peak = /^VmHWM (\d+)$/m.exec(stderr);
  if (code !== 0 || !peak) throw new Error(`the scan unit (${pages} pages) ended with ${code}: ${stderr}`);
  return { peakKiB: Number(peak[1]), bytes, wallMs: performance.now() - started };
}

export async function scanUnitFigures(): Promise<void> {
  const one = await runUnit(1);
  const many = await runUnit(30);
  process.stderr.write(
    `scan unit bench: 1 page ${(one.bytes / MIB).toFixed(1)} MiB in ${Math.round(one.wallMs)} ms, peak ${(one.peakKiB / 1024).toFixed(1)} MiB; ` +
      `30 pages ${(many.bytes / MIB).toFixed(1)} MiB in ${Math.round(many.wallMs)} ms, peak ${(many.peakKiB / 1024).toFixed(1)} MiB\n`,
  );
  benchLine('scan_unit_pdf_1_page_peak_rss_mb', one.peakKiB / 1024, 'MiB');
  benchLine('scan_unit_pdf_30_pages_peak_rss_mb', many.peakKiB / 1024, 'MiB');
  benchLine('scan_unit_rss_growth_1_to_30_pages_mb', (many.peakKiB - one.peakKiB) / 1024, 'MiB');
}
