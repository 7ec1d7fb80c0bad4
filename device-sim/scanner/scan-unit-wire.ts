/**
 * The wire between the device and the scan unit (a child process). The request goes in as one
 * JSON argument. The unit's stdout carries the scanned files and the page progress as frames,
 * so one pipe keeps them in order (a page is reported after the bytes written before it, and
 * several JPEG files need boundaries anyway); stderr carries the reason when it fails.
 *
 * A frame is a 5-byte header, a type byte and a u32 big-endian payload length, then the
 * payload: `D` bytes of the current file, `E` end of the current file (the next `D` starts the
 * next spool name), `P` one more page scanned, `J` the paper jammed (the unit stops; nothing
 * more follows). Only `D` has a payload.
 */

import type { ScanRequest } from '../../firmware/hal/scanner.ts';

/** The firmware's request less the spool names (the device side owns the spool). */
export type ScanUnitRequest = Omit<ScanRequest, 'spoolNames'> & {
  /** Tester's fault: the unit kills itself (SIGKILL) after reporting this many pages. */
  readonly killAfterPages?: number;
  /** Tester's fault: the unit falls silent (sends nothing more, does not exit) after this many pages. */
  readonly stallAfterPages?: number;
  /** Tester's fault: the paper jams after this many pages; the unit says so (`J`) and exits. */
  readonly jamAfterPages?: number;
};

export type ScanFrameEvent = { readonly kind: 'data'; readonly bytes: Uint8Array } | { readonly kind: 'file-end' } | { readonly kind: 'page' } | { readonly kind: 'jam' };

const HEADER_BYTES = 5;
const TYPE_DATA = 0x44; // 'D'
const TYPE_FILE_END = 0x45; // 'E'
const TYPE_PAGE = 0x50; // 'P'
const TYPE_JAM = 0x4a; // 'J'
/** Largest `D` payload the unit sends at once (the parent never needs more than one chunk in hand). */
export const SCAN_FRAME_MAX_PAYLOAD_BYTES = 256 * 1024;

export function buildScanFrameHeader(kind: ScanFrameEvent['kind'], payloadBytes = 0): Uint8Array {
  if (kind !== 'data' && payloadBytes !== 0) throw new Error(`a ${kind} frame has no payload`);
  if (payloadBytes > SCAN_FRAME_MAX_PAYLOAD_BYTES) throw new Error(`frame payload of ${payloadBytes} bytes is over ${SCAN_FRAME_MAX_PAYLOAD_BYTES}`);
  const header = new Uint8Array(HEADER_BYTES);
  header[0] = kind === 'data' ? TYPE_DATA : kind === 'file-end' ? TYPE_FILE_END : kind === 'jam' ? TYPE_JAM : TYPE_PAGE;
  new DataView(header.buffer).setUint32(1, payloadBytes);
  return header;
}

/**
 * Parses the unit's stream as it arrives. `data` events are views into the pushed chunk (no
 * copy): they are valid as long as the chunk is.
 */
export class ScanFrameParser {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerHave = 0;
  /** Bytes of the current `D` payload still to come. */
  private payloadLeft = 0;

  push(chunk: Uint8Array): ScanFrameEvent[] {
    const events: ScanFrameEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - at);
        events.push({ kind: 'data', bytes: chunk.subarray(at, at + take) });
        this.payloadLeft -= take;
        at += take;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerHave, chunk.length - at);
      this.header.set(chunk.subarray(at, at + take), this.headerHave);
      this.headerHave += take;
      at += take;
      if (this.headerHave === HEADER_BYTES) {
        this.headerHave = 0;
        const event = this.onHeader();
        if (event) events.push(event);
      }
    }
    return events;
  }

  /** The stream ended: throws if it stopped inside a frame. */
  end(): void {
    if (this.headerHave > 0 || this.payloadLeft > 0) throw new Error('the scan unit stream ended inside a frame');
  }

  private onHeader(): ScanFrameEvent | undefined {
    const type = this.header[0];
    const length = new DataView(this.header.buffer).getUint32(1);
    if (type === TYPE_DATA) {
      if (length === 0 || length > SCAN_FRAME_MAX_PAYLOAD_BYTES) throw new Error(`scan unit sent a data frame of ${length} bytes`);
      this.payloadLeft = length;
      return undefined;
    }
    if (length !== 0) throw new Error(`scan unit sent a payload of ${length} bytes on a frame of type ${type}`);
    if (type === TYPE_FILE_END) return { kind: 'file-end' };
    if (type === TYPE_PAGE) return { kind: 'page' };
    if (type === TYPE_JAM) return { kind: 'jam' };
    throw new Error(`scan unit sent an unknown frame type ${type}`);
  }
}
