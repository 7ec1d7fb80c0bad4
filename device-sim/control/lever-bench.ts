/**
 * The one dispatch of the tester's levers (levers.ts): pull a lever by name with arguments that
 * are checked at the door, keep the faults it made with their undo, list and clear them. The
 * control API, the page, the CLI and scenarios all go through here, one pull at a time (a pull
 * waits for the one before it, so a power cycle and a fault never interleave).
 *
 *   const levers = new LeverBench(bench, () => world.nowMs());
 *   await levers.pull('net.fault', { target: 'smtp.gmail.com', fault: 'refuse' });  // → fault f-1
 *   levers.faults();            // what is in force, with a sentence each
 *   await levers.clear('f-1');  // its undo
 *   await levers.clearAll();    // every fault undone, and each part of the world back to normal
 */
import { z } from 'zod';
import { check, InvalidInputError, type FieldProblem } from '../cloud/input-problems.ts';
import { PrinterFaultArgumentError } from '../printer-faults.ts';
import { LEVER_GROUPS, LeverError, type Bench, type Lever, type LeverGroup, type LeverOutcome } from './lever-kit.ts';
import { LEVERS, LEVER_NAMES, type LeverName } from './levers.ts';
import type { FaultView, LeverInfo, LeverPull } from './sim-state.ts';

/** Pulls remembered for the state and the page, newest last. */
const HISTORY_MAX = 200;

export type PullAnswer =
  | { readonly ok: true; readonly pull: LeverPull }
  | { readonly ok: false; readonly status: 400 | 404 | 409; readonly error: string; readonly message: string; readonly fields?: readonly FieldProblem[] };

interface Fault {
  readonly id: string;
  readonly lever: LeverName;
  readonly args: unknown;
  readonly sinceMs: number;
  readonly made: Extract<LeverOutcome, { kind: 'fault' }>;
}

export class LeverBench {
  readonly #faults = new Map<string, Fault>();
  readonly #history: LeverPull[] = [];
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bench: Bench,
    /** The world's clock, for the times the fault list shows. */
    private readonly nowMs: () => number,
    /** The world's own "back to normal" for each part, after every fault's undo (clearAll). */
    private readonly resetWorld: () => void | Promise<void> = () => undefined,
  ) {}

  /** Every lever with its JSON Schema, group by group. */
  catalogue(): LeverInfo[] {
    return LEVER_NAMES.map((name) => {
      const l: Lever = LEVERS[name];
      return { name, group: l.group, groupTitle: LEVER_GROUPS[l.group], summary: l.summary, makes: l.makes, schema: z.toJSONSchema(l.args, { io: 'input', unrepresentable: 'any' }), example: l.example };
    }).sort((a, b) => groupOrder(a.group) - groupOrder(b.group));
  }

  /** Pull `name` with `input`: validated first (400 naming each field); refused as not found (404) or not now (409). */
  pull(name: string, input: unknown): Promise<PullAnswer> {
    return this.#serial(() => this.#pull(name, input));
  }

  /** The faults in force, oldest first. */
  faults(): FaultView[] {
    return [...this.#faults.values()].map((f) => this.#view(f));
  }

  /** The latest pulls, oldest first. */
  history(): readonly LeverPull[] {
    return [...this.#history];
  }

  /** Undo one fault; false when there is none with that id. */
  clear(id: string): Promise<boolean> {
    return this.#serial(async () => {
      const fault = this.#faults.get(id);
      if (!fault) return false;
      this.#faults.delete(id);
      await fault.made.undo();
      this.#remember({ atMs: this.nowMs(), lever: fault.lever, args: fault.args, sentence: `Cleared: ${fault.made.sentence}` });
      return true;
    });
  }

  /** Undo every fault, newest first, then put each part of the world back to normal. */
  clearAll(): Promise<number> {
    return this.#serial(async () => {
      const all = [...this.#faults.values()].reverse();
      this.#faults.clear();
      for (const fault of all) await fault.made.undo();
      await this.resetWorld();
      this.#remember({ atMs: this.nowMs(), lever: 'clear', args: {}, sentence: `Every fault cleared (${all.length}).` });
      return all.length;
    });
  }

  async #pull(name: string, input: unknown): Promise<PullAnswer> {
    if (!Object.hasOwn(LEVERS, name)) {
      return { ok: false, status: 404, error: 'no-such-lever', message: `There is no lever ${name}: GET /sim/api/levers lists them.` };
    }
    const leverName = name as LeverName;
    const l: Lever = LEVERS[leverName];
    const args = check(l.args, input ?? {});
    if (!args.ok) return { ok: false, status: 400, error: 'invalid', message: `${name}: ${args.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, fields: args.problems };
    let outcome: LeverOutcome;
    try {
      outcome = await l.apply(this.bench, args.value);
    } catch (e) {
      if (e instanceof InvalidInputError) return { ok: false, status: 400, error: 'invalid', message: `${name}: ${e.message}`, fields: e.problems };
      if (e instanceof PrinterFaultArgumentError) return { ok: false, status: 400, error: 'invalid', message: `${name}: ${e.message}`, fields: [{ path: e.field, message: e.message }] };
      if (e instanceof LeverError) {
        const status = e.refusal === 'not-found' ? 404 : e.refusal === 'invalid' ? 400 : 409;
        return { ok: false, status, error: e.code ?? e.refusal, message: e.message, ...(e.field !== undefined ? { fields: [{ path: e.field, message: e.message }] } : {}) };
      }
      throw e;
    }
    const atMs = this.nowMs();
    if (outcome.kind === 'action') {
      const pull: LeverPull = { atMs, lever: leverName, args: input, sentence: outcome.sentence, ...(outcome.result !== undefined ? { result: outcome.result } : {}) };
      this.#remember(pull);
      return { ok: true, pull };
    }
    const fault: Fault = { id: `f-${this.#nextId++}`, lever: leverName, args: input, sinceMs: atMs, made: outcome };
    this.#faults.set(fault.id, fault);
    const pull: LeverPull = { atMs, lever: leverName, args: input, sentence: outcome.sentence, fault: this.#view(fault) };
    this.#remember(pull);
    return { ok: true, pull };
  }

  #view(f: Fault): FaultView {
    const detail = f.made.detail?.();
    return {
      id: f.id,
      lever: f.lever,
      args: f.args,
      target: f.made.target,
      sentence: f.made.sentence,
      sinceMs: f.sinceMs,
      active: f.made.active?.() ?? true,
      ...(detail !== undefined ? { detail } : {}),
    };
  }

  #remember(pull: LeverPull): void {
    this.#history.push(pull);
    if (this.#history.length > HISTORY_MAX) this.#history.splice(0, this.#history.length - HISTORY_MAX);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function groupOrder(group: LeverGroup): number {
  return Object.keys(LEVER_GROUPS).indexOf(group);
}
