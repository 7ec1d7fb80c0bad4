/**
 * What an emulated mail server heard and said, connection by connection: the server's side of
 * each SMTP conversation, for testers and scenario reports ("the server saw EHLO, AUTH, MAIL FROM
 * in this order").
 *
 * It is smtp-server's own protocol log (its `logger` option, a bunyan-style logger): every
 * command line as the library received it (`C:`), every reply as it was written to the socket,
 * after our personality's rewording (`S:`), the size of each DATA (`C: <n bytes of DATA>`), and
 * the TLS upgrade and the close as `--` lines. Credentials never appear: the library logs the
 * argument of AUTH and every line of an AUTH exchange as `/* secured *\/`. Ids, dates and the
 * provider's diagnostic tails stay as they were sent.
 *
 *   const log = new SmtpServerLog(() => world.nowMs());
 *   new SMTPServer({ …, logger: log.loggerFor('smtp.gmail.com:465') });
 *   log.text();   // "== 1 smtp.gmail.com:465 2026-… \nS: 220 smtp.gmail.com ESMTP …\nC: EHLO …"
 *
 * Bounded: the newest SMTP_LOG_CONNECTIONS connections, each up to SMTP_LOG_LINES lines of at
 * most SMTP_LOG_LINE_CHARS characters (the rest is cut and says so).
 */
import { format } from 'node:util';

/** Connections kept, newest last. */
export const SMTP_LOG_CONNECTIONS = 200;
/** Lines kept per connection (a conversation with a retry or two is some 30). */
export const SMTP_LOG_LINES = 400;
/** Longest line kept, characters (an EHLO reply line, a 5xx with its diagnostic tail, fit). */
export const SMTP_LOG_LINE_CHARS = 2000;

export interface SmtpConnectionLog {
  /** 1, 2, … in the order connections were first heard of, per server. */
  readonly n: number;
  /** "smtp.gmail.com:465": the port the device dialled. */
  readonly listener: string;
  /** World time of the connection's first line, ms since the epoch. */
  readonly openedAtMs: number;
  readonly lines: readonly string[];
  /** Lines left out beyond SMTP_LOG_LINES. */
  readonly linesDropped: number;
}

interface Connection {
  readonly n: number;
  readonly listener: string;
  readonly openedAtMs: number;
  readonly lines: string[];
  linesDropped: number;
}

/** The logger smtp-server is given: a bunyan-style method per level. */
export interface SmtpServerLogger {
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  fatal(...args: unknown[]): void;
}

interface LogEntry {
  readonly tnx?: unknown;
  readonly cid?: unknown;
  readonly cipher?: unknown;
}

export class SmtpServerLog {
  readonly #nowMs: () => number;
  /** By the library's connection id (unique per server process). */
  readonly #connections = new Map<string, Connection>();
  #count = 0;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  /** The logger for one listener's smtp-server. */
  loggerFor(listener: string): SmtpServerLogger {
    const on = (args: unknown[]) => this.#onEntry(listener, args);
    return { trace: () => {}, debug: (...args) => on(args), info: (...args) => on(args), warn: () => {}, error: () => {}, fatal: () => {} };
  }

  /** Every connection kept, oldest first. */
  connections(): SmtpConnectionLog[] {
    return [...this.#connections.values()].map((c) => ({ n: c.n, listener: c.listener, openedAtMs: c.openedAtMs, lines: [...c.lines], linesDropped: c.linesDropped }));
  }

  /** All of it as text: a `== n listener time` heading per connection, then its lines. */
  text(): string {
    return this.connections()
      .map((c) => [`== ${c.n} ${c.listener} ${new Date(c.openedAtMs).toISOString()}`, ...c.lines, ...(c.linesDropped > 0 ? [`-- ${c.linesDropped} more lines not kept`] : [])].join('\n'))
      .join('\n\n');
  }

  clear(): void {
    this.#connections.clear();
  }

  #onEntry(listener: string, args: unknown[]): void {
    const [entry, message, ...rest] = args as [LogEntry | undefined, unknown, ...unknown[]];
    if (typeof entry !== 'object' || entry === null || typeof entry.cid !== 'string' || typeof message !== 'string') return;
    const lines = this.#linesOf(entry, message, rest);
    if (lines.length === 0) return;
    const connection = this.#connection(entry.cid, listener);
    for (const line of lines) {
      if (connection.lines.length >= SMTP_LOG_LINES) connection.linesDropped++;
      else connection.lines.push(line.length > SMTP_LOG_LINE_CHARS ? `${line.slice(0, SMTP_LOG_LINE_CHARS)}… (${line.length} characters)` : line);
    }
  }

  /** The transcript lines of one log entry (most entries are not part of the conversation). */
  #linesOf(entry: LogEntry, message: string, rest: unknown[]): string[] {
    switch (entry.tnx) {
      case 'command':
      case 'data':
        return [format(message, ...rest)];
      case 'send':
        // One entry per reply; a multi-line reply is one payload joined with CRLF.
        return String(rest[0] ?? '')
          .split('\r\n')
          .map((line) => `S: ${line}`);
      case 'starttls':
        return [`-- TLS${typeof entry.cipher === 'string' ? ` ${entry.cipher}` : ''}`];
      case 'close':
        // The library logs a close twice (the socket's event, then the connection's end): keep the last.
        return message.startsWith('Connection closed') ? ['-- closed'] : [];
      default:
        return [];
    }
  }

  #connection(cid: string, listener: string): Connection {
    let connection = this.#connections.get(cid);
    if (!connection) {
      connection = { n: ++this.#count, listener, openedAtMs: this.#nowMs(), lines: [], linesDropped: 0 };
      this.#connections.set(cid, connection);
      if (this.#connections.size > SMTP_LOG_CONNECTIONS) this.#connections.delete(this.#connections.keys().next().value!);
    }
    return connection;
  }
}
