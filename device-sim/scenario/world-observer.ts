/**
 * What the world did on its own since the last look, written to a scenario's timeline: each
 * printer's device events and panel job phases, and the faults that fired (network faults on a
 * connection, SMTP rules and Exchange Online's limits answering, power cuts). The scenario world
 * looks after each action and after each step of time.
 *
 * It reads what a tester sees: the events the control API serves (`GET /sim/api/events`, read from
 * the same ring), every job as the panel phrases it (the device's own view, `Device.panelJobs`:
 * the panel API itself shows a caller only anonymous jobs and the logged-in operator's), the
 * bench's view of the mail servers, the network and the printers' faults. Nothing of the
 * firmware beyond those.
 *
 * Order within one look is fixed, so two runs of one seed record the same timeline even when the
 * host interleaves two printers' sockets differently inside a step: first the world's side
 * (network faults, then Office 365's and Gmail's firings, then power cuts device by device: the
 * causes), then device by device its events (in their own order) and its jobs' phases (oldest job
 * first). Every entry of a look carries the time of the look: under virtual time, the end of the
 * step in which it happened.
 *
 * A look after a step of time (`{ afterStep: true }`) reads a printer's job list only when the
 * printer had a job under way at its last read or has logged events since: a day of virtual time
 * is about 1500 steps, and nothing but a user's action (after which the look reads everything)
 * starts a job on a printer that is idle and quiet.
 *
 * Deliberately not done: job phases between two looks (a whole SMTP session can run inside one
 * step of virtual time; the panel shows only where the job is when it is asked), identity
 * services' outages (they keep no firing log), the mail servers' own errors (a TLS handshake the
 * client gave up: the device's events and transcripts say why, and their wording is the TLS
 * library's, not the world's).
 */
import type { DeviceEvent } from '../../firmware/events.ts';
import type { PanelJobView } from '../../firmware/web/api-types.ts';
import type { MailServiceEvent } from '../cloud/mail-servers.ts';
import type { NetFaultView } from '../hal/net-faults.ts';
import type { RunningSimulator } from '../simulator.ts';
import type { SimPrinter } from '../printer.ts';
import type { NewTimelineEntry, Timeline } from './scenario-timeline.ts';

type Device = NonNullable<SimPrinter['device']>;

interface DeviceWatch {
  /** The boot whose events were read last (at a power-on, reading starts at that boot's first event). */
  boot: Device | undefined;
  lastSeq: number;
  /** Each job's phase (and code) as last recorded. */
  readonly jobs: Map<string, string>;
  readonly cutsSeen: Set<string>;
  /** The job list at the last read had a job that is not finished (delivered or failed). */
  busy: boolean;
}

const SERVERS = ['office365', 'gmail'] as const;

export class WorldObserver {
  readonly #devices: DeviceWatch[];
  readonly #serverSeen = new Map<(typeof SERVERS)[number], MailServiceEvent | undefined>();
  readonly #netFired: NewTimelineEntry[] = [];
  #unsubscribe: (() => void) | undefined;
  #looking: Promise<void> = Promise.resolve();

  constructor(
    private readonly sim: RunningSimulator,
    private readonly timeline: Timeline,
  ) {
    this.#devices = sim.printers.map(() => ({ boot: undefined, lastSeq: 0, jobs: new Map(), cutsSeen: new Set(), busy: false }));
    for (const server of SERVERS) this.#serverSeen.set(server, sim.cloud.servers[server].events().at(-1));
    this.#unsubscribe = sim.network.addFaultListener((view, detail) => this.#netFired.push(netFaultEntry(view, detail)));
  }

  /** Record what happened since the last look. Looks run one at a time. */
  look(options: { readonly afterStep?: boolean } = {}): Promise<void> {
    const run = this.#looking.then(() => this.#look(options.afterStep ?? false));
    this.#looking = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  async #look(afterStep: boolean): Promise<void> {
    const record = (entry: NewTimelineEntry) => void this.timeline.record(entry);
    for (const entry of this.#netFired.splice(0)) record(entry);
    for (const server of SERVERS) for (const event of this.#newServerEvents(server)) record(serverEntry(event));
    this.sim.printers.forEach((printer, i) => {
      for (const cut of printer.faults.view().powerCuts.fired) {
        const watch = this.#devices[i]!;
        if (watch.cutsSeen.has(cut.id)) continue;
        watch.cutsSeen.add(cut.id);
        record({ device: i + 1, kind: 'fault', what: `The power was cut at ${cut.at}${cut.firedOn ? ` (${cut.firedOn})` : ''}.`, detail: { cut: cut.id, at: cut.at, nth: cut.nth } });
      }
    });
    for (const [i, printer] of this.sim.printers.entries()) {
      const device = i + 1;
      const watch = this.#devices[i]!;
      const events = this.#newDeviceEvents(printer, watch);
      for (const event of events) record(eventEntry(device, event));
      if (afterStep && !watch.busy && events.length === 0) continue;
      const jobs = panelJobs(printer);
      watch.busy = jobs.some((job) => job.phase !== 'delivered' && job.phase !== 'failed');
      for (const job of jobs) {
        const phase = `${job.phase}${job.code ? ` ${job.code}` : ''}`;
        if (watch.jobs.get(job.id) === phase) continue;
        watch.jobs.set(job.id, phase);
        record(jobEntry(device, job));
      }
    }
  }

  #newDeviceEvents(printer: SimPrinter, watch: DeviceWatch): DeviceEvent[] {
    const boot = printer.device;
    if (!boot) return [];
    if (boot !== watch.boot) {
      watch.boot = boot;
      // The events before this boot's first are earlier boots' (kept in NVRAM): already seen, or from before the watch.
      watch.lastSeq = boot.events.bootFirstSeq - 1;
    }
    const events = boot.events.since(watch.lastSeq);
    if (events.length > 0) watch.lastSeq = events.at(-1)!.seq;
    return events;
  }

  /** The server's firings (rules, faults, Exchange Online's limits) after the last one seen. */
  #newServerEvents(server: (typeof SERVERS)[number]): MailServiceEvent[] {
    const events = this.sim.cloud.servers[server].events();
    const last = this.#serverSeen.get(server);
    // Not found (-1): the last one seen has left the bounded log, so everything there is new.
    const from = last === undefined ? 0 : events.lastIndexOf(last) + 1;
    const fresh = events.slice(from).filter((e) => e.kind !== 'error');
    if (events.length > 0) this.#serverSeen.set(server, events.at(-1));
    return fresh;
  }
}

/** Every job as the panel phrases it, oldest first; none while the printer is off or has no panel. */
function panelJobs(printer: SimPrinter): PanelJobView[] {
  return printer.device?.panelJobs?.list().reverse() ?? [];
}

function eventEntry(device: number, event: DeviceEvent): NewTimelineEntry {
  return { device, kind: 'event', what: `${event.code}: ${event.message}`, detail: { code: event.code, level: event.level, seq: event.seq, fields: event.fields } };
}

function jobEntry(device: number, job: PanelJobView): NewTimelineEntry {
  return {
    device,
    kind: 'job',
    what: `Job ${job.id}: ${job.phase}${job.code ? ` ${job.code}` : ''}. ${job.message}`,
    detail: { jobId: job.id, phase: job.phase, ...(job.code ? { code: job.code } : {}), ...(job.possibleDuplicate ? { possibleDuplicate: true } : {}) },
  };
}

function serverEntry(event: MailServiceEvent): NewTimelineEntry {
  return { kind: 'fault', what: `${event.listener}: ${event.detail}`, detail: { server: event.listener, kind: event.kind, ...(event.rule !== undefined ? { rule: event.rule } : {}) } };
}

function netFaultEntry(view: NetFaultView, detail: string): NewTimelineEntry {
  return { kind: 'fault', what: `${view.target}: ${detail}`, detail: { netFault: view.id, target: view.target, fault: view.spec.kind } };
}
