/**
 * Microsoft Graph sending figures for `make bench`:
 *
 * - graph_100mb_wall_ratio_vs_smtp: a 100 MiB scan, whole in the spool, from its job being queued
 *   to "delivered" through the emulated Graph (a draft, an upload session of ranged PUTs to
 *   outlook.office.com, send), divided by the same scan over STARTTLS + XOAUTH2 to the emulated
 *   Office 365, measured in the same run (each twice, alternating; the faster of each). Goal <= 1.0: Graph carries the file as it is, SMTP in
 *   base64 (4/3 of it) through the dot-stuffing DATA stream.
 * - graph_rss_growth_1_to_100mb_mb: the device process's peak RSS with a 100 MiB Graph job less
 *   with a 1 MiB one (a fresh process each). Goal <= 16.
 *
 * Each run is a fresh device process registered with the device code flow at the emulated Entra
 * ID (scan-bench.ts runScanJob).
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { benchLine } from './bench-line.ts';
import { buildScanDevice, runScanJob, type JobFigure } from './scan-bench.ts';

export async function graphFigures(): Promise<void> {
  const bundle = await buildScanDevice('graph-scan-device.mjs');
  try {
    // SMTP and Graph alternate, twice each, and the faster of each counts: on a shared machine the
    // load changes within a run, and the lower figure is the one less disturbed by it.
    const smtp: JobFigure[] = [];
    const large: JobFigure[] = [];
    for (let round = 0; round < 2; round++) {
      smtp.push(await runScanJob(bundle, 100, 'smtp'));
      large.push(await runScanJob(bundle, 100, 'graph'));
    }
    const small = await runScanJob(bundle, 1, 'graph');
    const fastest = (runs: JobFigure[]) => Math.min(...runs.map((r) => r.wallMs));
    const peak = Math.max(...large.map((r) => r.maxRssKiB));
    process.stderr.write(
      `graph bench: SMTP 100 MiB ${smtp.map((r) => Math.round(r.wallMs)).join(', ')} ms; Graph 100 MiB ${large.map((r) => Math.round(r.wallMs)).join(', ')} ms, peak ${(peak / 1024).toFixed(1)} MiB; Graph 1 MiB ${(small.maxRssKiB / 1024).toFixed(1)} MiB\n`,
    );
    benchLine('graph_100mb_wall_ratio_vs_smtp', fastest(large) / fastest(smtp), 'ratio', 2);
    benchLine('graph_rss_growth_1_to_100mb_mb', (peak - small.maxRssKiB) / 1024, 'MiB');
  } finally {
    await rm(bundle, { force: true });
  }
}

// `npx tsx test/bench/graph-bench.ts`: these two figures alone.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { default: useTemporaryKeyStore } = await import('../support/temporary-key-store.ts');
  const removeKeyStore = await useTemporaryKeyStore();
  try {
    await graphFigures();
  } finally {
    await removeKeyStore();
  }
}
