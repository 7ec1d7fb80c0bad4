/**
 * What happened in a scenario's world, in order: the steps the engine reports, the levers pulled
 * and cleared, and what the world did on its own, observed after each action and each step of
 * time (world-observer.ts): device events, panel job phases, faults firing.
 *
 * Every entry carries two times. `atMs` is the time line since the world started: under virtual
 * time it moves only when the scenario advances it, so a run with the same seed gives the same
 * values. `worldMs` is the world clock (what the emulated servers believe, ms since the epoch):
 * it starts at the host's date, so it differs from run to run; `withoutWallClock` leaves it out
 * for comparing two runs. Details hold only what replays (ids drawn from the seed, codes, phases),
 * never a device's wall-clock reading.
 */

export type TimelineKind =
  /** A step the engine reported (`ScenarioWorld.note`). */
  | 'step'
  /** A lever pulled (its sentence), or a refusal of one. */
  | 'lever'
  /** Faults cleared. */
  | 'clear'
  /** A device event (firmware/events.ts). */
  | 'event'
  /** A panel job's phase changed. */
  | 'job'
  /** A fault fired: a network fault on a connection, an SMTP rule or an Exchange Online limit answering, a power cut. */
  | 'fault';

export interface TimelineEntry {
  /** 1, 2, … in the order recorded. */
  readonly seq: number;
  /** The time line since the world started, ms (virtual time under virtual time). */
  readonly atMs: number;
  /** The world clock, ms since the epoch: a wall-clock field (see the file header). */
  readonly worldMs: number;
  /** The printer it is about, 1-based; absent for the cloud and the engine's own steps. */
  readonly device?: number;
  readonly kind: TimelineKind;
  /** One sentence. */
  readonly what: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type NewTimelineEntry = Omit<TimelineEntry, 'seq' | 'atMs' | 'worldMs'>;

/** Entries kept; a scenario that runs longer keeps its newest (and says how many went). */
export const TIMELINE_MAX_ENTRIES = 20_000;

export class Timeline {
  readonly #entries: TimelineEntry[] = [];
  #seq = 0;
  #dropped = 0;

  constructor(private readonly now: () => { readonly atMs: number; readonly worldMs: number }) {}

  record(entry: NewTimelineEntry): TimelineEntry {
    const recorded: TimelineEntry = { seq: ++this.#seq, ...this.now(), ...entry };
    this.#entries.push(recorded);
    if (this.#entries.length > TIMELINE_MAX_ENTRIES) {
      this.#entries.shift();
      this.#dropped++;
    }
    return recorded;
  }

  entries(): readonly TimelineEntry[] {
    return [...this.#entries];
  }

  /** Entries left out at the front beyond TIMELINE_MAX_ENTRIES. */
  get dropped(): number {
    return this.#dropped;
  }
}

/** The entries as two runs of the same seed must agree on: without the world clock's date. */
export function withoutWallClock(entries: readonly TimelineEntry[]): Omit<TimelineEntry, 'worldMs'>[] {
  return entries.map(({ worldMs: _worldMs, ...rest }) => rest);
}
