/**
 * A strict DER reader (ITU-T X.690 §8.1 and §10) for what the device reads from the network:
 * certificates (x509.ts) and the shapes of uploaded keys (cert-info.ts).
 *
 * - Without building a tree: `parseDer` checks one element and every element inside it (and that
 *   nothing trails it); a `DerCursor` then walks the elements inside a constructed one, in order.
 * - Identifiers: one octet (tag numbers 0–30). X.509 uses no higher tag numbers, so the long form
 *   is refused rather than read.
 * - Lengths: definite and minimal only (§10.1): the short form below 128, the long form with at
 *   most 4 length octets, no leading zero octet and never for a value below 128. The BER
 *   indefinite form (0x80) is refused, and so is every length that runs past its parent.
 * - Nesting is bounded (PKI_DER_MAX_DEPTH): a cursor inside a cursor counts one level.
 * - Values: INTEGER minimal (§8.3.2), BOOLEAN 0x00 or 0xFF (§11.1), BIT STRING with at most
 *   7 unused bits that are all zero (§11.2), OBJECT IDENTIFIER with minimal subidentifiers (§8.19).
 *
 * Every problem is a `DerError`, thrown inside the reader and caught by whoever started reading
 * (x509.ts turns it into a refusal value): a fault deep in a certificate unwinds in one place
 * instead of every read returning a result. `kind` says whether the bytes are not DER at all
 * (`not-der`: BER forms, non-minimal encodings) or simply not what was expected (`malformed`).
 *
 * Deliberately not done: tag numbers above 30, lengths above 2^32, REAL, constructed strings
 * (they are BER, not DER), and any schema language: the callers read the structure they expect.
 */
import { PKI_DER_MAX_DEPTH } from '../defaults.ts';

/** Identifier octets X.509 uses (class and constructed bit included). */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** `[n]` context-specific, primitive (IMPLICIT over a primitive type). */
export const contextPrimitive = (n: number): number => 0x80 | n;
/** `[n]` context-specific, constructed (EXPLICIT, or IMPLICIT over a constructed type). */
export const contextConstructed = (n: number): number => 0xa0 | n;

export type DerErrorKind = 'not-der' | 'malformed';

export class DerError extends Error {
  constructor(
    readonly kind: DerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** One element: its identifier octet and where its encoding and its value lie in `bytes`. */
export interface Tlv {
  readonly tag: number;
  readonly bytes: Uint8Array;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first value octet. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
  /** Nesting level of this element (the outermost is 0). */
  readonly depth: number;
}

/** The whole encoding of an element (identifier, length and value); a view, not a copy. */
export function encodingOf(tlv: Tlv): Uint8Array {
  return tlv.bytes.subarray(tlv.start, tlv.end);
}

/** The value octets of an element; a view, not a copy. */
export function valueOf(tlv: Tlv): Uint8Array {
  return tlv.bytes.subarray(tlv.valueStart, tlv.end);
}

const malformed = (message: string): DerError => new DerError('malformed', message);
const notDer = (message: string): DerError => new DerError('not-der', message);

/** Read one element at `offset`, which must end by `limit`. */
function readTlv(bytes: Uint8Array, offset: number, limit: number, depth: number): Tlv {
  if (depth > PKI_DER_MAX_DEPTH) throw malformed(`nested deeper than ${PKI_DER_MAX_DEPTH} levels`);
  if (offset + 2 > limit) throw malformed('truncated');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('a tag number above 30 (not used in X.509)');
  // [UNIVERSAL 0] is BER's end-of-contents marker: it never stands for a value in DER.
  if (tag === 0x00) throw notDer('an end-of-contents marker (BER, not DER)');
  const first = bytes[offset + 1]!;
  let length: number;
  let valueStart: number;
  if (first < 0x80) {
    length = first;
    valueStart = offset + 2;
  } else {
    const octets = first & 0x7f;
    if (octets === 0) throw notDer('an indefinite length (BER, not DER)');
    if (octets > 4) throw malformed('a length of more than 4 octets');
    if (offset + 2 + octets > limit) throw malformed('truncated');
    if (bytes[offset + 2] === 0) throw notDer('a length with a leading zero octet');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[offset + 2 + i]!;
    if (length < 0x80) throw notDer('a long-form length below 128');
    valueStart = offset + 2 + octets;
  }
  const end = valueStart + length;
  if (end > limit) throw malformed('truncated: a length runs past its end');
  if (tag === TAG.null && length !== 0) throw notDer('a NULL with content');
  return { tag, bytes, start: offset, valueStart, end, depth };
}

export type DerParse = { readonly ok: true; readonly tlv: Tlv } | { readonly ok: false; readonly kind: DerErrorKind; readonly reason: string };

/**
 * The single element that `bytes` holds, with every element inside it checked (lengths, nesting);
 * trailing bytes are refused. Never throws.
 */
export function parseDer(bytes: Uint8Array): DerParse {
  try {
    const tlv = readTlv(bytes, 0, bytes.length, 0);
    const trailing = bytes.length - tlv.end;
    if (trailing > 0) throw malformed(`${trailing} byte${trailing === 1 ? '' : 's'} of trailing data`);
    checkAll(tlv);
    return { ok: true, tlv };
  } catch (e) {
    if (e instanceof DerError) return { ok: false, kind: e.kind, reason: e.message };
    throw e;
  }
}

/** Walk every element below `tlv` (depth-first, without recursion), reading each one's encoding. */
function checkAll(tlv: Tlv): void {
  const stack: DerCursor[] = [];
  if (tlv.tag & 0x20) stack.push(new DerCursor(tlv));
  while (stack.length > 0) {
    const cursor = stack[stack.length - 1]!;
    if (cursor.done) {
      stack.pop();
      continue;
    }
    const child = cursor.next();
    if (child.tag & 0x20) stack.push(new DerCursor(child));
  }
}

/** The elements inside a constructed element, read in order. */
export class DerCursor {
  #offset: number;
  readonly #end: number;
  readonly #bytes: Uint8Array;
  readonly #depth: number;

  constructor(parent: Tlv) {
    if ((parent.tag & 0x20) === 0) throw malformed('a primitive element where a constructed one belongs');
    this.#bytes = parent.bytes;
    this.#offset = parent.valueStart;
    this.#end = parent.end;
    this.#depth = parent.depth + 1;
  }

  get done(): boolean {
    return this.#offset >= this.#end;
  }

  /** The identifier octet of the next element, without reading it; undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#offset];
  }

  /** The next element, whatever it is. */
  next(): Tlv {
    if (this.done) throw malformed('an element is missing');
    const tlv = readTlv(this.#bytes, this.#offset, this.#end, this.#depth);
    this.#offset = tlv.end;
    return tlv;
  }

  /** The next element, which must have identifier `tag`; `what` names it in the error. */
  expect(tag: number, what: string): Tlv {
    if (this.peekTag() !== tag) throw malformed(`${what} is missing or of the wrong type`);
    return this.next();
  }

  /** The next element if it has identifier `tag` (an OPTIONAL or DEFAULT field), else undefined. */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  /** Nothing may follow: `what` names the enclosing structure in the error. */
  finish(what: string): void {
    if (!this.done) throw malformed(`unexpected data at the end of ${what}`);
  }
}

/** Cursor over `tlv`, which must be a SEQUENCE (or `tag`). */
export function sequence(tlv: Tlv, what: string, tag: number = TAG.sequence): DerCursor {
  if (tlv.tag !== tag) throw malformed(`${what} is not a ${tag === TAG.sequence ? 'SEQUENCE' : 'constructed element'}`);
  return new DerCursor(tlv);
}

// --- values ---------------------------------------------------------------------------------------

/** INTEGER value octets (two's complement, big-endian), checked minimal (X.690 §8.3.2). */
export function integerBytes(tlv: Tlv, what: string): Uint8Array {
  if (tlv.tag !== TAG.integer) throw malformed(`${what} is not an INTEGER`);
  const value = valueOf(tlv);
  if (value.length === 0) throw malformed(`${what} is an empty INTEGER`);
  if (value.length > 1 && ((value[0] === 0x00 && value[1]! < 0x80) || (value[0] === 0xff && value[1]! >= 0x80))) {
    throw notDer(`${what} is not minimally encoded`);
  }
  return value;
}

/** A small non-negative INTEGER as a number (versions, path lengths, salt lengths). */
export function smallUnsigned(tlv: Tlv, what: string): number {
  const value = integerBytes(tlv, what);
  if (value[0]! >= 0x80) throw malformed(`${what} is negative`);
  if (value.length > 6) throw malformed(`${what} is too large`);
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}

/** BOOLEAN: 0xFF or 0x00 only (X.690 §11.1). */
export function booleanValue(tlv: Tlv, what: string): boolean {
  if (tlv.tag !== TAG.boolean) throw malformed(`${what} is not a BOOLEAN`);
  const value = valueOf(tlv);
  if (value.length !== 1) throw malformed(`${what} is not one octet`);
  if (value[0] === 0xff) return true;
  if (value[0] === 0x00) return false;
  throw notDer(`${what} is a BOOLEAN other than 0x00 or 0xFF`);
}

/** BIT STRING: the bits, after the unused-bits octet; at most 7 unused bits, all zero (X.690 §11.2.1). */
export function bitStringBytes(tlv: Tlv, what: string, tag: number = TAG.bitString): { readonly bits: Uint8Array; readonly unusedBits: number } {
  if (tlv.tag !== tag) throw malformed(`${what} is not a BIT STRING`);
  const value = valueOf(tlv);
  if (value.length === 0) throw malformed(`${what} is an empty BIT STRING`);
  const unusedBits = value[0]!;
  if (unusedBits > 7 || (value.length === 1 && unusedBits !== 0)) throw malformed(`${what} has a bad unused-bits count`);
  if (unusedBits > 0 && (value[value.length - 1]! & ((1 << unusedBits) - 1)) !== 0) throw notDer(`${what} has unused bits that are not zero`);
  return { bits: value.subarray(1), unusedBits };
}

/** OBJECT IDENTIFIER in dotted form (X.690 §8.19); subidentifiers minimal and below 2^53. */
export function oidText(tlv: Tlv, what: string): string {
  if (tlv.tag !== TAG.oid) throw malformed(`${what} is not an OBJECT IDENTIFIER`);
  const value = valueOf(tlv);
  if (value.length === 0) throw malformed(`${what} is an empty OBJECT IDENTIFIER`);
  const parts: number[] = [];
  let n = 0;
  let fresh = true;
  for (const b of value) {
    if (fresh && b === 0x80) throw notDer(`${what} has a non-minimal subidentifier`);
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER) throw malformed(`${what} has a subidentifier that is too large`);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      parts.push(n);
      n = 0;
    }
  }
  if (!fresh) throw malformed(`${what} ends inside a subidentifier`);
  const first = parts[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}
