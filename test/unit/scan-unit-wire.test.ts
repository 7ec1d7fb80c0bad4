/** The frames from the scan unit to the device, cut at every possible place in the pipe. */
import { describe, expect, it } from 'vitest';
import { buildScanFrameHeader, ScanFrameParser, SCAN_FRAME_MAX_PAYLOAD_BYTES, type ScanFrameEvent } from '../../device-sim/scanner/scan-unit-wire.ts';
import { splitAt } from '../support/bytes.ts';

/** Events with the data of each file joined, so that different cuts compare equal. */
function summarise(events: ScanFrameEvent[]): (string | number[])[] {
  const out: (string | number[])[] = [];
  let data: number[] | undefined;
  for (const e of events) {
    if (e.kind === 'data') {
      data ??= [];
      data.push(...e.bytes);
    } else {
      if (data) out.push(data);
      data = undefined;
      out.push(e.kind);
    }
  }
  if (data) out.push(data);
  return out;
}

describe('scan unit wire', () => {
  const stream = Buffer.concat([
    buildScanFrameHeader('page'),
    buildScanFrameHeader('data', 3),
    new Uint8Array([1, 2, 3]),
    buildScanFrameHeader('data', 2),
    new Uint8Array([4, 5]),
    buildScanFrameHeader('file-end'),
    buildScanFrameHeader('file-end'),
    buildScanFrameHeader('page'),
  ]);
  const expected = ['page', [1, 2, 3, 4, 5], 'file-end', 'file-end', 'page'];

  it('gives the same events however the pipe cuts the stream', () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const parser = new ScanFrameParser();
        const events = splitAt(stream, [a, b]).flatMap((part) => parser.push(part));
        parser.end();
        expect(summarise(events), `cut at ${a}, ${b}`).toEqual(expected);
      }
    }
  });

  it('refuses frames the unit must not send, and a stream that ends inside a frame', () => {
    const bad: [Uint8Array, RegExp][] = [
      [new Uint8Array([0x58, 0, 0, 0, 0]), /unknown frame type 88/],
      [new Uint8Array([0x50, 0, 0, 0, 1]), /payload of 1 bytes on a frame of type 80/],
      [new Uint8Array([0x44, 0, 0, 0, 0]), /data frame of 0 bytes/],
      [new Uint8Array([0x44, 0x7f, 0, 0, 0]), /data frame of 2130706432 bytes/],
    ];
    for (const [bytes, error] of bad) expect(() => new ScanFrameParser().push(bytes)).toThrow(error);
    const parser = new ScanFrameParser();
    parser.push(buildScanFrameHeader('data', 4));
    expect(() => parser.end()).toThrow('ended inside a frame');
    expect(() => buildScanFrameHeader('data', SCAN_FRAME_MAX_PAYLOAD_BYTES + 1)).toThrow(/over/);
  });
});
