/**
 * How an SMTP bench sink (smtp-sink.ts, smtp-sink-minimal.ts) tells the bench what it received:
 * one JSON object per stdout line.
 *
 *   {"event":"listening","port":N}
 *   {"event":"message","from":…,"bytes":…,"sizeExceeded":…,"connectToEndMs":…,"cpuMs":…,"attachment":{"bytes":…,"sha256":…}?}
 *   {"event":"error","detail":…}
 *
 * `bytes` is the message after dot-unstuffing, up to and including the CRLF before the final
 * ".". `cpuMs` is the sink's CPU time (user + system) from the connection to the end of DATA:
 * when it is close to the sender's wall time, the sink, not the sender, set the pace.
 *
 * A message up to VERIFY_MAX_BYTES is kept and parsed with mailparser after the 250 has gone
 * out; its first attachment's size and SHA-256 are reported so the bench can compare them with
 * the file. A larger one is only counted: hashing 130 MB in the sink would make it the bottleneck.
 */
import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';

/** Messages up to this size are kept and their attachment checked, bytes. */
export const VERIFY_MAX_BYTES = 4 * 1024 * 1024;

export interface SinkMessageFacts {
  readonly from: string;
  readonly bytes: number;
  readonly sizeExceeded: boolean;
  readonly connectToEndMs: number;
  readonly cpuMs: number;
}

export function emitSinkEvent(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Report a received message; `kept` is the whole (unstuffed) message when it was small enough to keep. */
export function reportMessage(facts: SinkMessageFacts, kept: Buffer | undefined): void {
  const base = { event: 'message', ...facts };
  if (kept === undefined) {
    emitSinkEvent(base);
    return;
  }
  void simpleParser(kept).then(
    (mail) => {
      const att = mail.attachments[0];
      emitSinkEvent({ ...base, attachment: att === undefined ? null : { bytes: att.content.length, sha256: createHash('sha256').update(att.content).digest('hex') } });
    },
    (err: unknown) => emitSinkEvent({ ...base, attachment: null, parseError: String(err) }),
  );
}
