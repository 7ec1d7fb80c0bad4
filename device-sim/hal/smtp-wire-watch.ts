/**
 * Watches one connection of the device as the SMTP conversation it carries, from the device's
 * own writes and the replies it receives (plaintext: the Net port's side of TLS), so that the
 * tester's bench can cut the power at an SMTP step without the firmware knowing.
 *
 * It reports:
 * - `command`: a command line the device wrote (its verb upper-cased: EHLO, STARTTLS, AUTH, MAIL,
 *   RCPT, DATA, RSET, QUIT …; the lines of an AUTH exchange after the first are not commands);
 * - `message-data`: the first bytes of a message, written after the server's 354 to DATA
 *   (RFC 5321 §4.1.1.4);
 * - `final-dot`: the end-of-data sequence CRLF "." CRLF, however the writes split it (the CRLF of
 *   the DATA command line counts as its first CRLF for an empty message, §4.1.1.4).
 *
 * Pipelined commands (RFC 2920) end with DATA, so a 354 after a DATA line is DATA's reply
 * whatever came before it. STARTTLS (RFC 3207) starts the conversation again.
 * Deliberately not done: BDAT/CHUNKING (RFC 3030; the firmware's client does not use it).
 */

export type SmtpWireEvent = { readonly kind: 'command'; readonly verb: string } | { readonly kind: 'message-data' } | { readonly kind: 'final-dot' };

/** The verbs reported as commands (an AUTH continuation line, base64, is none of them). */
const VERBS = new Set(['EHLO', 'HELO', 'STARTTLS', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'RSET', 'QUIT', 'NOOP', 'VRFY']);
/** Longer lines are not SMTP commands (RFC 5321 §4.5.3.1.4: 512 octets); what is kept of one is capped. */
const LINE_MAX = 1024;
const END_OF_DATA = Buffer.from('\r\n.\r\n', 'latin1');

export class SmtpWireWatch {
  #mode: 'command' | 'data' = 'command';
  /** The device's partial command line. */
  #line = '';
  /** The server's partial reply line. */
  #reply = '';
  /** DATA was written and its reply has not come yet. */
  #dataAsked = false;
  /** The last bytes of the message (at most 4), to find an end-of-data sequence split across writes. */
  #tail: Buffer = Buffer.alloc(0);
  #messageStarted = false;

  /** The device wrote `bytes`; returns what they did, in order. */
  clientWrote(bytes: Uint8Array): SmtpWireEvent[] {
    const events: SmtpWireEvent[] = [];
    let rest = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (rest.length > 0) {
      if (this.#mode === 'data') {
        if (!this.#messageStarted) {
          this.#messageStarted = true;
          events.push({ kind: 'message-data' });
        }
        const end = this.#endOfData(rest);
        if (end === undefined) {
          this.#tail = Buffer.concat([this.#tail, rest.subarray(Math.max(0, rest.length - 4))]).subarray(-4);
          return events;
        }
        events.push({ kind: 'final-dot' });
        this.#mode = 'command';
        this.#tail = Buffer.alloc(0);
        rest = rest.subarray(end);
        continue;
      }
      const newline = rest.indexOf(0x0a);
      const part = rest.subarray(0, newline < 0 ? rest.length : newline + 1).toString('latin1');
      rest = rest.subarray(part.length);
      this.#line = (this.#line + part).slice(0, LINE_MAX);
      if (newline < 0) continue;
      const line = this.#line.replace(/\r?\n$/, '');
      this.#line = '';
      const verb = /^([A-Za-z]+)(?: |$)/.exec(line)?.[1]?.toUpperCase();
      if (verb === undefined || !VERBS.has(verb)) continue;
      events.push({ kind: 'command', verb });
      this.#dataAsked = verb === 'DATA' && line.length === 4;
      if (this.#dataAsked) this.#reply = '';
    }
    return events;
  }

  /** The device received `bytes` from the server. */
  serverSent(bytes: Uint8Array): void {
    if (!this.#dataAsked) return;
    let text = this.#reply + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n')) {
      const line = text.slice(0, newline).replace(/\r$/, '');
      text = text.slice(newline + 1);
      // Only a last reply line (code, then space or nothing) ends a reply (§4.2.1).
      if (!/^\d{3}(?: |$)/.test(line)) continue;
      if (line.startsWith('354')) {
        this.#dataAsked = false;
        this.#mode = 'data';
        this.#messageStarted = false;
        // The DATA line's own CRLF: an empty message is ended by "." CRLF alone.
        this.#tail = Buffer.from('\r\n', 'latin1');
        text = '';
        break;
      }
    }
    this.#reply = text.slice(-LINE_MAX);
  }

  /** TLS started on the connection (STARTTLS): the conversation begins again (RFC 3207 §4.2). */
  tlsStarted(): void {
    this.#mode = 'command';
    this.#line = '';
    this.#reply = '';
    this.#dataAsked = false;
    this.#tail = Buffer.alloc(0);
  }

  /** Where in `chunk` the end-of-data sequence ends (the index after it), looking across the tail. */
  #endOfData(chunk: Buffer): number | undefined {
    const head = Buffer.concat([this.#tail, chunk.subarray(0, 4)]);
    const inHead = head.indexOf(END_OF_DATA);
    if (inHead >= 0) return inHead + END_OF_DATA.length - this.#tail.length;
    const inChunk = chunk.indexOf(END_OF_DATA);
    return inChunk < 0 ? undefined : inChunk + END_OF_DATA.length;
  }
}
