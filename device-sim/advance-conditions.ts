/**
 * What a test or a scenario waits for while virtual time is advanced (hal/advance-until.ts),
 * read from the simulated printer the way the tester would see it: the device's events
 * (`GET /sim/api/events`) and the job status as the panel phrases it (`Device.panelJobs`, the
 * device's own view of every job: the panel API shows only anonymous jobs and the logged-in
 * operator's, and the tester waits for any).
 *
 *   const seen = deviceEventSeen(sim.printer, { code: 'send-job-delivered' });
 *   await advanceUntil(source, seen, { boundMs: HOUR_MS });
 *   await advanceUntil(source, panelJobInPhase(sim.printer, { jobId, phases: ['delivered', 'failed'] }), { boundMs: HOUR_MS });
 *
 * Both answer false while the printer is off. Event numbers start again at each power-on, so an
 * event predicate made before a power cycle looks at the new run from its first event on.
 */
import type { DeviceEvent, EventCode } from '../firmware/events.ts';
import type { LogLevel } from '../firmware/hal/log.ts';
import type { PanelJobPhase, PanelJobView } from '../firmware/web/api-types.ts';
import type { SimPrinter } from './printer.ts';

export interface DeviceEventMatch {
  readonly code?: EventCode;
  readonly level?: LogLevel;
  /** Fields the event must carry with these values (e.g. `{ provider: 'microsoft' }`). */
  readonly fields?: Readonly<Record<string, string | number | boolean>>;
  /** Only events after this number; default: after the newest one when the predicate is made. */
  readonly afterSeq?: number;
}

/** The printer as these predicates read it. */
type Printer = Pick<SimPrinter, 'device'>;

/** The first event that matches, or undefined (also while the printer is off). */
export function findDeviceEvent(printer: Printer, match: DeviceEventMatch & { readonly afterSeq: number }): DeviceEvent | undefined {
  const device = printer.device;
  if (!device) return undefined;
  return device.events.since(match.afterSeq).find(
    (e) =>
      (match.code === undefined || e.code === match.code) &&
      (match.level === undefined || e.level === match.level) &&
      Object.entries(match.fields ?? {}).every(([name, value]) => e.fields[name] === value),
  );
}

/** True once the device has recorded an event that matches (see DeviceEventMatch). */
export function deviceEventSeen(printer: Printer, match: DeviceEventMatch): () => boolean {
  const bootedDevice = printer.device;
  const afterSeq = match.afterSeq ?? bootedDevice?.events.since().at(-1)?.seq ?? 0;
  // After a power cycle: that boot's events (the ones before its first are earlier boots', kept in NVRAM).
  return () => findDeviceEvent(printer, { ...match, afterSeq: printer.device === bootedDevice ? afterSeq : (printer.device?.events.bootFirstSeq ?? 1) - 1 }) !== undefined;
}

/** The panel's view of a job (the newest when `jobId` is not given), whoever scanned it, or undefined. */
export function panelJob(printer: Printer, jobId?: string): PanelJobView | undefined {
  const views = printer.device?.panelJobs;
  return jobId === undefined ? views?.list()[0] : views?.get(jobId);
}

/** True once the job (the newest when `jobId` is not given) is in one of `phases`, as the panel shows it. */
export function panelJobInPhase(printer: Printer, target: { readonly jobId?: string; readonly phases: PanelJobPhase | readonly PanelJobPhase[] }): () => Promise<boolean> {
  const phases: readonly PanelJobPhase[] = typeof target.phases === 'string' ? [target.phases] : target.phases;
  return () => {
    const job = panelJob(printer, target.jobId);
    return Promise.resolve(job !== undefined && phases.includes(job.phase));
  };
}
