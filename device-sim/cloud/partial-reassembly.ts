/**
 * Joining RFC 2046 §5.2.2 message/partial parts back into the message they carry, as a mail
 * program does (§5.2.2.1), for the emulated mailbox: the parts' bodies are concatenated in
 * `number` order; the new header takes part 1's outer fields except Content-*, Subject,
 * Message-ID, Encrypted and MIME-Version, then those fields from the enclosed message.
 */

export interface PartialInfo {
  readonly id: string;
  readonly number: number;
  readonly total: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const ENCLOSED_FIELDS = /^(content-[a-z0-9-]*|subject|message-id|encrypted|mime-version)$/i;

/** The message/partial parameters of a raw message, or undefined when it is not a part. */
export function partialInfo(raw: Buffer): PartialInfo | undefined {
  const { header } = split(raw);
  const contentType = fields(header).find((f) => f.name.toLowerCase() === 'content-type')?.value.replace(/\r\n[ \t]+/g, ' ');
  if (!contentType || !/^\s*message\/partial\s*;/i.test(contentType)) return undefined;
  const param = (name: string) => new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(contentType);
  const id = param('id');
  const number = Number(param('number')?.[2] ?? param('number')?.[1]);
  const total = Number(param('total')?.[2] ?? param('total')?.[1]);
  if (!id || !Number.isSafeInteger(number) || number < 1) return undefined;
  return { id: id[1] ?? id[2]!, number, total: Number.isSafeInteger(total) && total >= 1 ? total : 0 };
}

export type Reassembly = { readonly ok: true; readonly raw: Buffer } | { readonly ok: false; readonly reason: string };

/** Join the parts (any order). Every part 1…total of one id must be there, once. */
export function reassemble(parts: readonly Buffer[]): Reassembly {
  const infos = parts.map((raw) => ({ raw, info: partialInfo(raw) }));
  if (infos.some((p) => p.info === undefined)) return { ok: false, reason: 'not every message is a message/partial part' };
  const id = infos[0]?.info!.id;
  if (infos.some((p) => p.info!.id !== id)) return { ok: false, reason: 'the parts belong to different messages' };
  const total = infos.map((p) => p.info!.total).find((t) => t > 0);
  if (total === undefined) return { ok: false, reason: 'no part says how many parts there are (total=)' };
  const sorted = [...infos].sort((a, b) => a.info!.number - b.info!.number);
  if (sorted.length !== total || sorted.some((p, i) => p.info!.number !== i + 1)) {
    return { ok: false, reason: `have parts ${sorted.map((p) => p.info!.number).join(', ')} of ${total}` };
  }
  const enclosed = Buffer.concat(sorted.map((p) => split(p.raw).body));
  const inner = split(enclosed);
  const outer = fields(split(sorted[0]!.raw).header).filter((f) => !ENCLOSED_FIELDS.test(f.name));
  const innerKept = fields(inner.header).filter((f) => ENCLOSED_FIELDS.test(f.name));
  const header = [...outer, ...innerKept].map((f) => `${f.name}:${f.value}\r\n`).join('');
  return { ok: true, raw: Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from('\r\n'), inner.body]) };
}

function split(raw: Buffer): { header: string; body: Buffer } {
  const at = raw.indexOf(HEADER_END);
  if (at < 0) return { header: raw.toString('latin1'), body: Buffer.alloc(0) };
  return { header: raw.subarray(0, at + 2).toString('latin1'), body: raw.subarray(at + 4) };
}

/** Header fields with their folded values kept as they are (name, value after the colon). */
function fields(header: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of header.split(/\r\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out.push({ name: line.slice(0, colon), value: line.slice(colon + 1) });
  }
  return out;
}
