/**
 * Device events: what the firmware noticed that an admin or tester should see (a record reset
 * to factory values, the clock being changed, a failed login, an account locked). The audit
 * trail: written to the HAL log, shown by the Remote UI and the simulator, and kept in NVRAM
 * (record `events/log`) so that it survives a power cycle.
 *
 * Bounded: the newest DEVICE_EVENTS_MAX events, the oldest dropped first; failed logins may fill
 * at most DEVICE_EVENTS_LOGIN_FAILED_MAX of them (a flood of guesses drops older guesses, not the
 * rest of the trail); every text is one line of bounded length with control characters shown
 * as escapes (`printable`), so the record stays far below NVRAM_RECORD_MAX_BYTES.
 *
 * Writes are coalesced: one save of the whole log is in flight at a time, and every event
 * recorded meanwhile goes into the one save that follows it. A burst of events costs two writes,
 * not one per event, and never waits for NVRAM (`record` is synchronous).
 *
 * What survives a power cut: each save is one atomic replace of the record (Storage.replace,
 * through the record's NVRAM turn), so the log after a cut is the last complete save, never a
 * mix. An event is kept once a save that began after it has completed; the events recorded
 * during the last save in flight, or after it, are lost with the power. That is at most the
 * events of one NVRAM write's duration (a few ms; more only during a burst). Nothing is written
 * after the power off (`stop`). Sequence numbers go on across power cycles; `bootFirstSeq` is
 * the first of this boot.
 */
import * as z from 'zod/mini';
import { DEVICE_EVENT_FIELD_MAX_CHARS, DEVICE_EVENT_MESSAGE_MAX_CHARS, DEVICE_EVENTS_LOGIN_FAILED_MAX, DEVICE_EVENTS_MAX, NVRAM_RECORD_MAX_BYTES } from './defaults.ts';
import type { Clock } from './hal/clock.ts';
import type { Log, LogLevel } from './hal/log.ts';
import type { Nvram, RecordSpec } from './nvram/nvram.ts';

/** Every event the device records, by code. */
export const EVENT_CODES = [
  'boot',
  'nvram-record-reset',
  'nvram-write-failed',
  'clock-changed',
  'account-locked',
  // A login refused for a wrong user name or password (web/login-throttle.ts), and an administrator's unlock
  'login-failed',
  'account-unlocked',
  'login-succeeded',
  'panel-logged-out',
  'password-changed',
  'account-created',
  'account-updated',
  'account-deleted',
  'settings-changed',
  'oauth-registered',
  'oauth-refreshed',
  'oauth-voided',
  // A refresh token the device gave up, revoked at the provider (RFC 7009), or not
  'oauth-revoked',
  'oauth-revoke-failed',
  // The device's own key pair for app-only sign-in, replaced by an admin (firmware/pki/app-credential.ts)
  'oauth-app-key-replaced',
  'clock-skew',
  'send-job-delivered',
  'send-job-failed',
  'secret-unreadable',
  // The device key (firmware/nvram/prepare-device-key.ts)
  'device-key-moved',
  'device-key-lost',
  'internal-error',
  // PKI: the device CA store (firmware/pki/ca-store.ts)
  'ca-certificate-imported',
  'ca-certificate-removed',
  'ca-store-restored',
  'ca-store-entry-dropped',
  // The address book (firmware/send/address-book.ts)
  'address-book-entry-added',
  'address-book-entry-changed',
  'address-book-entry-deleted',
] as const;
export type EventCode = (typeof EVENT_CODES)[number];

export interface DeviceEvent {
  readonly seq: number;
  readonly code: EventCode;
  readonly level: LogLevel;
  readonly message: string;
  readonly wallMs: number;
  readonly monoMs: number;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

type EventFields = Record<string, string | number | boolean>;

interface EventLog {
  /** The newest sequence number given, so that numbering goes on after a power cycle. */
  readonly lastSeq: number;
  readonly events: DeviceEvent[];
}

const eventSchema = z.object({
  seq: z.int().check(z.minimum(1)),
  code: z.enum(EVENT_CODES),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string().check(z.maxLength(DEVICE_EVENT_MESSAGE_MAX_CHARS)),
  wallMs: z.number(),
  monoMs: z.number(),
  fields: z.record(z.string(), z.union([z.string().check(z.maxLength(DEVICE_EVENT_FIELD_MAX_CHARS)), z.number(), z.boolean()])),
});

export const EVENT_LOG_RECORD: RecordSpec<EventLog> = {
  name: 'events/log',
  version: 1,
  schema: z.object({ lastSeq: z.int().check(z.minimum(0)), events: z.array(eventSchema).check(z.maxLength(DEVICE_EVENTS_MAX)) }),
  factory: () => ({ lastSeq: 0, events: [] }),
};

/**
 * `text` as one line of at most `maxChars` characters: control characters (C0, DEL, C1) and the
 * characters that reorder or break a line (bidi overrides, line separators) shown as `\uXXXX`, so
 * a user name typed by an attacker cannot forge a log line or hide itself.
 */
export function printable(text: string, maxChars: number): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const hidden = cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x61c || cp === 0x200e || cp === 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
    out += hidden ? `\\u${cp.toString(16).padStart(4, '0')}` : ch;
    if (out.length > maxChars) return `${out.slice(0, maxChars - 1)}…`;
  }
  return out;
}

export class DeviceEvents {
  #ring: DeviceEvent[] = [];
  #seq = 0;
  #bootFirstSeq = 1;
  private readonly listeners = new Set<(event: DeviceEvent) => void>();
  /** Where the log is kept; undefined until `restore` (and in tests of a lone store). */
  #nvram: Nvram | undefined;
  /** The save in flight, and whether events were recorded since it began. */
  #saving: Promise<void> | undefined;
  #dirty = false;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  record(code: EventCode, level: LogLevel, message: string, fields: EventFields = {}): DeviceEvent {
    const bounded: EventFields = {};
    for (const [k, v] of Object.entries(fields)) bounded[k] = typeof v === 'string' ? printable(v, DEVICE_EVENT_FIELD_MAX_CHARS) : v;
    const event: DeviceEvent = {
      seq: ++this.#seq,
      code,
      level,
      message: printable(message, DEVICE_EVENT_MESSAGE_MAX_CHARS),
      wallMs: this.clock.wallNowMs(),
      monoMs: this.clock.monoNowMs(),
      fields: bounded,
    };
    this.#append(event);
    this.log.write(level, 'event', `${code}: ${event.message}`, bounded);
    for (const listener of this.listeners) listener(event);
    this.#save();
    return event;
  }

  /** Events after `afterSeq`, oldest first (earlier boots' too, as far as NVRAM kept them). */
  since(afterSeq = 0): DeviceEvent[] {
    return this.#ring.filter((e) => e.seq > afterSeq);
  }

  /** The sequence number of this boot's first event: the ones before it are from earlier boots. */
  get bootFirstSeq(): number {
    return this.#bootFirstSeq;
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Power-on: read the log NVRAM kept, then keep it there. The events recorded so far in this
   * boot (before NVRAM could be read) follow the stored ones, numbered on from them; call this
   * before anyone reads or subscribes, as the numbers change.
   */
  async restore(nvram: Nvram): Promise<void> {
    const stored = await nvram.load(EVENT_LOG_RECORD);
    const thisBoot = this.#ring;
    this.#ring = [...stored.events];
    this.#seq = Math.max(stored.lastSeq, stored.events.at(-1)?.seq ?? 0);
    this.#bootFirstSeq = this.#seq + 1;
    for (const e of thisBoot) this.#append({ ...e, seq: ++this.#seq });
    this.#nvram = nvram;
    this.#save();
  }

  /** Resolves when every event recorded so far is in NVRAM (or a save failed): tests, and before a planned power off. */
  async persisted(): Promise<void> {
    while (this.#saving) await this.#saving;
  }

  /** Power off: nothing more is written (the events not saved yet are lost, as with the power). */
  stop(): void {
    this.#stopped = true;
  }

  #append(event: DeviceEvent): void {
    this.#ring.push(event);
    if (event.code === 'login-failed' && this.#ring.filter((e) => e.code === 'login-failed').length > DEVICE_EVENTS_LOGIN_FAILED_MAX) {
      this.#ring.splice(this.#ring.findIndex((e) => e.code === 'login-failed'), 1);
    }
    if (this.#ring.length > DEVICE_EVENTS_MAX) this.#ring.shift();
  }

  /** Ask for a save: starts one when none is in flight; else the one in flight is followed by one more. */
  #save(): void {
    if (!this.#nvram || this.#stopped) return;
    this.#dirty = true;
    this.#saving ??= this.#saveLoop(this.#nvram).finally(() => (this.#saving = undefined));
  }

  async #saveLoop(nvram: Nvram): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      let events = [...this.#ring];
      // The texts are bounded, so this only trims a log of unusually long events.
      while (events.length > 1 && JSON.stringify(events).length > NVRAM_RECORD_MAX_BYTES / 2) events = events.slice(Math.ceil(events.length / 4));
      try {
        await nvram.save(EVENT_LOG_RECORD, { lastSeq: this.#seq, events });
      } catch (e) {
        // Not an event (that would ask for another save of a failing record): the HAL log only.
        // The log stays unsaved; the next event tries again.
        this.#dirty = true;
        if (!this.#stopped) this.log.write('error', 'event', 'The event log could not be saved to NVRAM', { detail: String(e) });
        return;
      }
    }
  }
}
