/**
 * Divided sending: one composed message as RFC 2046 §5.2.2 message/partial parts, each a mail of
 * its own with "[i/n]" in the subject, that the recipient's mail program joins again.
 *
 * - The parts carry consecutive slices of the whole message (its headers included), cut only at
 *   line ends, so every part is plain 7-bit lines and the slices concatenate to the original
 *   byte for byte. Part 1's slice starts with the original's headers: a joiner takes Subject,
 *   Message-ID, MIME-Version and Content-* from there (§5.2.2.1).
 * - Where to cut is found by streaming the message once (`planCuts`); each part then streams the
 *   message again and keeps its slice, so memory stays flat (the cost is CPU: part i reads i
 *   slices' worth; divided sending is for a handful of parts).
 */
import { toHex } from '../encoding.ts';
import type { Random } from '../hal/random.ts';
import { addressPieces, rfc5322Date, type ComposedMessage, type MailAddress } from './compose.ts';
import { assertHeaderSafe, foldHeader, unstructured } from './header-encoding.ts';

const CR = 0x0d;
const LF = 0x0a;
const encoder = new TextEncoder();

/** Room kept in each part for its own headers, bytes: the slice gets the rest of the limit. */
export const PARTIAL_HEADER_ALLOWANCE_BYTES = 4096;

/**
 * Offsets where the parts start, plus the message's end: [0, c1, …, size]. Each slice ends just
 * after a CRLF and is at most `maxSliceBytes` long (a longer line than that is impossible: the
 * composer's lines are at most 78 octets, and the limit is thousands).
 */
export async function planCuts(message: ComposedMessage, maxSliceBytes: number): Promise<number[]> {
  if (!(maxSliceBytes >= 1000)) throw new RangeError(`a part must hold at least 1000 bytes, not ${maxSliceBytes}`);
  const cuts = [0];
  let offset = 0;
  let lastLineEnd = 0;
  let prev = 0;
  for await (const chunk of message.chunks()) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF && prev === CR) lastLineEnd = offset + i + 1;
      prev = b;
      if (offset + i + 1 - cuts.at(-1)! > maxSliceBytes) {
        if (lastLineEnd <= cuts.at(-1)!) throw new Error('a line longer than a part');
        cuts.push(lastLineEnd);
      }
    }
    offset += chunk.length;
  }
  if (offset !== message.sizeBytes) throw new Error(`the message was ${offset} bytes, not the ${message.sizeBytes} declared`);
  if (cuts.at(-1) !== offset) cuts.push(offset);
  return cuts;
}

export interface PartialSpec {
  readonly from: MailAddress;
  readonly to: readonly MailAddress[];
  readonly cc?: readonly MailAddress[];
  /** The original subject; "[i/n]" is appended. */
  readonly subject: string;
  readonly dateWallMs: number;
  readonly timeZone: string;
  /** The id that ties the parts together (the same in every part). */
  readonly partialId: string;
  readonly number: number;
  readonly total: number;
  /** The slice of the original message: [start, end). */
  readonly start: number;
  readonly end: number;
  /** This part's own Message-ID. */
  readonly messageId: string;
}

/** A unique id for a set of parts: "<random>@<domain>" (RFC 2046 asks only that it be unique). */
export function newPartialId(fromAddress: string, random: Random): string {
  return `${toHex(random.bytes(12))}@${fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'device.invalid'}`;
}

/** Part `spec.number` of `spec.total` of `message`, as a message of its own. */
export function partialPart(message: ComposedMessage, spec: PartialSpec): ComposedMessage {
  if (!(spec.number >= 1 && spec.number <= spec.total && spec.start >= 0 && spec.end > spec.start && spec.end <= message.sizeBytes)) throw new RangeError('bad part');
  assertHeaderSafe('partial id', spec.partialId);
  if (!/^[\x21-\x7e]+$/.test(spec.partialId) || spec.partialId.includes('"')) throw new Error(`invalid partial id ${spec.partialId}`);
  let head = '';
  head += foldHeader('Date', [rfc5322Date(spec.dateWallMs, spec.timeZone)]);
  head += foldHeader('From', addressPieces([spec.from]));
  head += foldHeader('To', addressPieces(spec.to));
  if (spec.cc && spec.cc.length > 0) head += foldHeader('Cc', addressPieces(spec.cc));
  head += foldHeader('Subject', unstructured(`${spec.subject} [${spec.number}/${spec.total}]`));
  head += foldHeader('Message-ID', [spec.messageId]);
  head += 'MIME-Version: 1.0\r\n';
  head += foldHeader('Content-Type', ['message/partial;', `id="${spec.partialId}";`, `number=${spec.number};`, `total=${spec.total}`]);
  head += '\r\n';
  const headBytes = encoder.encode(head);
  return {
    sizeBytes: headBytes.length + (spec.end - spec.start),
    messageId: spec.messageId,
    async *chunks() {
      yield headBytes;
      let offset = 0;
      for await (const chunk of message.chunks()) {
        const from = Math.max(spec.start, offset);
        const to = Math.min(spec.end, offset + chunk.length);
        if (to > from) yield chunk.subarray(from - offset, to - offset);
        offset += chunk.length;
        if (offset >= spec.end) return;
      }
    },
  };
}
