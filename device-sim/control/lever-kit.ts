/**
 * The parts every lever is made of (levers.ts holds the table): what a lever acts on (`Bench`),
 * what pulling one gives back (`LeverOutcome`), and how a lever says no (`LeverError`, with the
 * HTTP status the control API answers with).
 *
 * A lever is either a lasting change of the world (a *fault*: it stays until undone, is listed in
 * `GET /sim/api/state` and `GET /sim/api/faults`, and carries its own undo), or a momentary
 * *action* (a power cycle, approving a user code, advancing virtual time): something that happens
 * once and leaves nothing to take back.
 */
import type { z } from 'zod';
import type { RunningCloud } from '../cloud/cloud.ts';
import type { SimNetwork } from '../hal/sim-network.ts';
import type { TimeSource } from '../hal/time-source.ts';
import type { WorldClock } from '../hal/world-clock.ts';
import type { SimPrinter } from '../printer.ts';
import type { SimRandom } from '../sim-random.ts';

/** The simulated world the levers move. */
export interface Bench {
  /** Every printer of the world, device 1 first (a printer lever's `device` n is `printers[n - 1]`). */
  readonly printers: readonly SimPrinter[];
  readonly cloud: RunningCloud;
  readonly network: SimNetwork;
  /** The time line everything runs on (virtual with --virtual-time). */
  readonly time: TimeSource;
  /** What the emulated servers believe the time is. */
  readonly world: WorldClock;
  readonly random: SimRandom;
}

/** The groups, in the order the control page and `sim levers` show them. */
export const LEVER_GROUPS = {
  network: 'Network',
  dns: 'DNS',
  smtp: 'SMTP servers',
  tls: 'TLS of the emulated servers',
  identity: 'Identity services',
  clock: 'Clocks and time',
  power: 'Power',
  scanner: 'Scanner and spool',
  random: 'Randomness',
} as const;
export type LeverGroup = keyof typeof LEVER_GROUPS;

/** A lasting change, as the fault list shows it and with the way back. */
export interface FaultMade {
  readonly kind: 'fault';
  /** What the fault acts on (a host, a server, an endpoint), for the list. */
  readonly target: string;
  /** One sentence: what the world does now. */
  readonly sentence: string;
  /** Details the list shows beside the sentence (counters, the library's own view). */
  detail?(): unknown;
  /** False once the fault has run its course (limited to N connections, a one-shot cut fired). */
  active?(): boolean;
  undo(): void | Promise<void>;
}

/** A momentary action: what happened. */
export interface ActionDone {
  readonly kind: 'action';
  readonly sentence: string;
  readonly result?: unknown;
}

export type LeverOutcome = FaultMade | ActionDone;

export interface Lever<S extends z.ZodType = z.ZodType> {
  readonly group: LeverGroup;
  /** What it does, one line (the page's form title, `sim levers`, docs/testing.md). */
  readonly summary: string;
  /** `fault`: lasts until undone; `action`: happens once. */
  readonly makes: LeverOutcome['kind'];
  readonly args: S;
  /** Arguments that work on a freshly started simulator (docs, help, the page's placeholder). */
  readonly example: z.input<S>;
  apply(bench: Bench, args: z.output<S>): LeverOutcome | Promise<LeverOutcome>;
  /** How `npm run sim -- …` spells it, where the generic `--field value` form is not enough. */
  readonly cli?: LeverCli;
}

/**
 * A lever's command line. Every top-level argument is a flag `--kebab-name value` anyway (numbers
 * with units: 10m, 2MB); this adds the command words, positional arguments and flags of its own.
 */
export interface LeverCli {
  /** The words after `sim` (default: the lever's name split at the dot). */
  readonly words?: readonly string[];
  /** Arguments given in order, without a flag. */
  readonly positional?: readonly string[];
  /** Flags that fill nested or combined arguments. */
  readonly flags?: Readonly<Record<string, CliFlag>>;
}

export interface CliFlag {
  readonly help: string;
  /** `string`: takes a value (repeatable when `multiple`); `boolean`: present or not. */
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** Sets the arguments from the flag's value(s); throws an Error naming the flag when it cannot. */
  set(args: Record<string, unknown>, value: string | boolean | string[]): void;
}

/** Declares one lever with its argument types tied to its schema. */
export function lever<S extends z.ZodType>(definition: Lever<S>): Lever<S> {
  return definition;
}

export type LeverRefusal = 'not-found' | 'conflict' | 'invalid';

/** A lever refused after validation: a target that does not exist (404) or a state that forbids it (409). */
export class LeverError extends Error {
  constructor(
    readonly refusal: LeverRefusal,
    message: string,
    /** The argument it is about, when there is one. */
    readonly field?: string,
    /** A more precise `error` for the API's answer than the refusal (`powered-off`, `real-time`). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'LeverError';
  }
}

/** The value of a library lever's result, or its refusal as a LeverError. */
export function leverValue<T>(result: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string; readonly field: string; readonly message: string }): T {
  if (result.ok) return result.value;
  throw new LeverError(result.problem === 'not-found' ? 'not-found' : result.problem === 'invalid' ? 'invalid' : 'conflict', result.message, result.field);
}
