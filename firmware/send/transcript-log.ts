/**
 * The last SMTP transcripts, for the Remote UI (view and download) and the job log. Bounded in
 * count; each transcript is itself bounded (firmware/smtp/transcript.ts) and already redacted.
 */
import { TRANSCRIPTS_KEPT } from '../defaults.ts';
import type { Random } from '../hal/random.ts';
import type { DeviceCode } from '../device-codes.ts';
import { toHex } from '../encoding.ts';

export interface TranscriptRecord {
  readonly id: string;
  readonly kind: 'check' | 'test' | 'send';
  readonly startedWallMs: number;
  readonly server: string;
  readonly ok: boolean;
  readonly code?: DeviceCode;
  readonly text: string;
}

export class TranscriptLog {
  private readonly records: TranscriptRecord[] = [];

  constructor(private readonly random: Random) {}

  add(record: Omit<TranscriptRecord, 'id'>): TranscriptRecord {
    const full = { ...record, id: toHex(this.random.bytes(8)) };
    this.records.unshift(full);
    this.records.length = Math.min(this.records.length, TRANSCRIPTS_KEPT);
    return full;
  }

  list(): Omit<TranscriptRecord, 'text'>[] {
    return this.records.map(({ text: _text, ...summary }) => summary);
  }

  get(id: string): TranscriptRecord | undefined {
    return this.records.find((r) => r.id === id);
  }
}
