/**
 * A tiny authoritative DNS server on loopback UDP for tests (RFC 1035 §4): it answers A and AAAA
 * queries for the names it is given, NOERROR with no answer for another type of a known name, and
 * NXDOMAIN for every other name. It counts the queries per name, so a test can tell which server
 * the device asked. One question per message, no compression in what it reads, no TCP, no EDNS
 * (an OPT record in the query's additional section is ignored, which RFC 6891 §7 allows).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

export class TestDnsServer {
  /** Lower-case name without trailing dot → its addresses. */
  readonly #records = new Map<string, string[]>();
  readonly #queries = new Map<string, number>();
  #socket: Socket | undefined;
  port = 0;

  /** Answer `name` with `addresses` (IPv4 and IPv6 literals), replacing what it had. */
  set(name: string, ...addresses: string[]): this {
    this.#records.set(normalize(name), addresses);
    return this;
  }

  /** How many queries (any type) asked for `name`. */
  queries(name: string): number {
    return this.#queries.get(normalize(name)) ?? 0;
  }

  /** All queries, any name. */
  get totalQueries(): number {
    return [...this.#queries.values()].reduce((a, b) => a + b, 0);
  }

  /** `127.0.0.1:<port>`: the form the device's Network settings take. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#onMessage(socket, msg, rinfo));
    await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', () => ok()));
    this.port = socket.address().port;
    return this;
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((ok) => socket.close(() => ok()));
  }

  #onMessage(socket: Socket, msg: Buffer, rinfo: RemoteInfo): void {
    const reply = this.#answer(msg);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  }

  #answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    if (flags & 0x8000) return undefined; // a response, not a query
    const question = readQuestion(msg, 12);
    const rd = flags & 0x0100;
    const header = (rcode: number, answers: number) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(id, 0);
      h.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | rcode, 2); // QR, AA, RD as asked, RA
      h.writeUInt16BE(question ? 1 : 0, 4);
      h.writeUInt16BE(answers, 6);
      return h;
    };
    if (!question || msg.readUInt16BE(4) !== 1) return header(RCODE_FORMERR, 0);
    const { name, type, klass, end } = question;
    this.#queries.set(name, (this.#queries.get(name) ?? 0) + 1);
    const questionBytes = msg.subarray(12, end);
    if (((flags >> 11) & 0xf) !== 0 || klass !== CLASS_IN) return Buffer.concat([header(RCODE_NOTIMP, 0), questionBytes]);
    const addresses = this.#records.get(name);
    if (addresses === undefined) return Buffer.concat([header(RCODE_NXDOMAIN, 0), questionBytes]);
    const family = type === TYPE_A ? 4 : type === TYPE_AAAA ? 6 : 0;
    const records = addresses.filter((a) => isIP(a) === family).map((a) => answerRecord(type, a));
    return Buffer.concat([header(0, records.length), questionBytes, ...records]);
  }
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The question at `offset`: labels (no compression pointers in a question), type, class. */
function readQuestion(msg: Buffer, offset: number): { name: string; type: number; klass: number; end: number } | undefined {
  const labels: string[] = [];
  let at = offset;
  for (;;) {
    if (at >= msg.length) return undefined;
    const length = msg[at]!;
    at++;
    if (length === 0) break;
    if (length > 63 || at + length > msg.length) return undefined;
    labels.push(msg.subarray(at, at + length).toString('latin1'));
    at += length;
  }
  if (at + 4 > msg.length) return undefined;
  return { name: normalize(labels.join('.')), type: msg.readUInt16BE(at), klass: msg.readUInt16BE(at + 2), end: at + 4 };
}

/** One answer: the name as a pointer to the question (offset 12), TTL 0 so nothing is cached. */
function answerRecord(type: number, address: string): Buffer {
  const rdata = type === TYPE_A ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  const r = Buffer.alloc(12);
  r.writeUInt16BE(0xc00c, 0);
  r.writeUInt16BE(type, 2);
  r.writeUInt16BE(CLASS_IN, 4);
  r.writeUInt32BE(0, 6);
  r.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([r, rdata]);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array.from({ length: 8 - h.length - t.length }, () => 0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
