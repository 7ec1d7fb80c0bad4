/**
 * Device events: what the firmware noticed that an admin or tester should see (a record reset
 * to factory values, the clock being changed, an account locked). Kept in a bounded ring in RAM,
 * written to the HAL log, and shown by the Remote UI and the simulator.
 */
import { DEVICE_EVENTS_MAX } from './defaults.ts';
import type { Clock } from './hal/clock.ts';
import type { Log, LogLevel } from './hal/log.ts';

/** Every event the device records, by code. */
export const EVENT_CODES = [
  'boot',
  'nvram-record-reset',
  'nvram-write-failed',
  'clock-changed',
  'account-locked',
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

export class DeviceEvents {
  private readonly ring: DeviceEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<(event: DeviceEvent) => void>();

  constructor(
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  record(code: EventCode, level: LogLevel, message: string, fields: Record<string, string | number | boolean> = {}): DeviceEvent {
    const event: DeviceEvent = {
      seq: ++this.seq,
      code,
      level,
      message,
      wallMs: this.clock.wallNowMs(),
      monoMs: this.clock.monoNowMs(),
      fields,
    };
    this.ring.push(event);
    if (this.ring.length > DEVICE_EVENTS_MAX) this.ring.shift();
    this.log.write(level, 'event', `${code}: ${message}`, fields);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events after `afterSeq`, oldest first. */
  since(afterSeq = 0): DeviceEvent[] {
    return this.ring.filter((e) => e.seq > afterSeq);
  }

  subscribe(listener: (event: DeviceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
