/**
 * The tester's mailbox (`/mailbox/`), Mailpit-like: every message the emulated Office 365 and
 * Gmail servers accepted, newest first, refreshed every 2 s. Opening one shows its headers, the
 * SMTP envelope and how it was delivered (server, TLS, AUTH, framing), the text body, the
 * attachments with their SHA-256 and a download link, and on demand the raw source.
 *
 * Message content comes from the device under test: it is only ever shown as text (Lit escapes
 * it), never rendered as HTML; raw source and attachments are served by the API as downloads with
 * a sandbox CSP (device-sim/control/mailbox-api.ts).
 */
import { Task, TaskStatus } from '@lit/task';
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiTask, oneAtATime, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { describeError, unwrap, type HttpError } from '../../../remote-ui/src/kit/http-client.ts';
import type { DeliveryInfo, MailboxMessage, MailboxSummary } from '../../cloud/mailbox-types.ts';
import { formatUtc } from '../../control/page/bench-time.ts';
import { attachmentUrl, mailboxApi, rawUrl, readRawHead } from './mailbox-client.ts';
import { benchButtonStyles, benchFrameStyles, benchMessageStyles } from '../../control/page/bench-styles.ts';

const POLL_MS = 2000;
/** The raw box shows at most this much of the source; the "Raw source" link has all of it. */
const RAW_SHOWN_BYTES = 256 * 1024;
/** RFC 5321 §4.5.3.1.6, repeated from cloud-defaults.ts (a Node-side module). */
const SMTP_MAX_LINE_OCTETS = 1000;

const SERVER_NAMES: Readonly<Record<string, string>> = { office365: 'Office 365', gmail: 'Gmail', direct: 'Injected' };

type Notice = { readonly ok: boolean; readonly text: string };

export class SimMailboxPage extends LitElement {
  static override properties = {
    selectedId: { state: true },
    showRaw: { state: true },
    notice: { state: true },
    confirmingDeleteAll: { state: true },
    opened: { state: true },
  };

  declare selectedId: string | undefined;
  declare showRaw: boolean;
  declare notice: Notice | undefined;
  declare confirmingDeleteAll: boolean;
  /** Messages the tester has opened (the others are listed in bold, as unread). */
  declare opened: ReadonlySet<string>;
  /** The list, newest first, read again every POLL_MS. */
  private readonly list = new ApiTask(this, (_, call) => mailboxApi('GET /sim/api/mailbox', call), {
    everyMs: POLL_MS,
    onAnswer: ({ messages }) => {
      const shown = this.detail.value?.id;
      // While a delete is on its way, a list read before it took effect proves nothing.
      if (pending(this.change) || shown === undefined || shown !== this.selectedId || messages.some((m) => m.id === shown)) return;
      this.clearSelection();
      this.notice = { ok: false, text: `Message ${shown} is no longer in the mailbox (deleted, or dropped by the mailbox limits).` };
    },
  });
  /** The open message. */
  private readonly detail = new Task(this, {
    autoRun: false,
    task: async ([id]: readonly [string], { signal }) => unwrap(await mailboxApi('GET /sim/api/mailbox/:id', { params: { id }, signal })),
    onComplete: (message) => {
      this.opened = new Set([...this.opened, message.id]);
      if (this.showRaw) this.loadRaw(message.id);
    },
  });
  /** The head of the open message's raw source, while Show Raw is on. */
  private readonly raw = new Task(this, {
    autoRun: false,
    task: async ([id]: readonly [string]) => ({ id, ...unwrap(await readRawHead(id, RAW_SHOWN_BYTES)) }),
  });
  /** Delete one or all: one at a time, their buttons off meanwhile. */
  private readonly change = oneAtATime(this);
  private readonly onHashChange = (): void => {
    const id = this.idFromHash();
    if (id && id !== this.selectedId) this.select(id);
  };

  constructor() {
    super();
    this.showRaw = false;
    this.confirmingDeleteAll = false;
    this.opened = new Set();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHashChange);
    const id = this.idFromHash();
    if (id) this.select(id);
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHashChange);
    super.disconnectedCallback();
  }

  private idFromHash(): string | undefined {
    const id = decodeURIComponent(window.location.hash.slice(1));
    return id === '' ? undefined : id;
  }

  private select(id: string): void {
    if (id === this.selectedId) return;
    this.selectedId = id;
    this.confirmingDeleteAll = false;
    if (window.location.hash !== `#${id}`) history.replaceState(null, '', `#${encodeURIComponent(id)}`);
    void this.detail.run([id]);
  }

  private clearSelection(): void {
    this.selectedId = undefined;
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }

  private loadRaw(id: string): void {
    if (this.raw.status !== TaskStatus.COMPLETE || this.raw.value?.id !== id) void this.raw.run([id]);
  }

  private toggleRaw(): void {
    this.showRaw = !this.showRaw;
    if (this.showRaw && this.selectedId) this.loadRaw(this.selectedId);
  }

  private deleteSelected(): void {
    const id = this.selectedId;
    if (!id) return;
    const list = this.list.last?.messages ?? [];
    const at = list.findIndex((m) => m.id === id);
    const next = list[at + 1] ?? list[at - 1];
    void this.change.run([
      async () => {
        const result = await mailboxApi('DELETE /sim/api/mailbox/:id', { params: { id } });
        if (!result.ok) {
          this.notice = { ok: false, text: result.error.message };
          return;
        }
        const messages = list.filter((m) => m.id !== id);
        void this.list.set({ total: messages.length, messages }).then(() => this.list.refresh());
        this.notice = { ok: true, text: `Message ${id} deleted.` };
        if (next && at >= 0) this.select(next.id);
        else this.clearSelection();
      },
    ]);
  }

  private deleteEverything(): void {
    void this.change.run([
      async () => {
        const result = await mailboxApi('DELETE /sim/api/mailbox');
        this.confirmingDeleteAll = false;
        if (!result.ok) {
          this.notice = { ok: false, text: result.error.message };
          return;
        }
        const count = this.list.last?.messages.length ?? 0;
        void this.list.set({ total: 0, messages: [] }).then(() => this.list.refresh());
        this.clearSelection();
        this.notice = { ok: true, text: `Deleted all ${count} message${count === 1 ? '' : 's'}.` };
      },
    ]);
  }

  /** Arrow keys move through the list, Enter or Space opens the focused row. */
  private onRowKey(event: KeyboardEvent, index: number): void {
    const list = this.list.last?.messages ?? [];
    let target: number;
    if (event.key === 'ArrowDown') target = Math.min(index + 1, list.length - 1);
    else if (event.key === 'ArrowUp') target = Math.max(index - 1, 0);
    else if (event.key === 'Enter' || event.key === ' ') target = index;
    else return;
    event.preventDefault();
    const message = list[target];
    if (!message) return;
    this.select(message.id);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(message.id)}"]`)?.focus());
  }

  override render(): TemplateResult {
    return html`<header>
        <h1>Device Simulator: Mailbox</h1>
        <nav>
          <a href="/control/">Test Bench</a>
          <a href="/panel/" target="_blank" rel="noopener">Control Panel</a>
        </nav>
      </header>
      ${this.list.failure((e) => html`<p class="msg error" role="alert" data-test="mail-error">${e.message}</p>`)}
      ${this.notice
        ? html`<p class="msg ${this.notice.ok ? 'ok' : 'error'}" role=${this.notice.ok ? 'status' : 'alert'} data-test="mail-notice">
            ${this.notice.text}
            <button type="button" class="link" aria-label="Dismiss" @click=${() => (this.notice = undefined)}>×</button>
          </p>`
        : nothing}
      ${this.renderList()} ${this.renderDetail()}`;
  }

  private renderList(): TemplateResult {
    const list = this.list.last?.messages;
    const totalBytes = (list ?? []).reduce((sum, m) => sum + m.size, 0);
    return html`<section class="list">
      <h2>
        Messages
        ${list
          ? html`<span class="muted" data-test="mail-count">${list.length} message${list.length === 1 ? '' : 's'}, ${formatBytes(totalBytes)} · newest first · refreshed every
              ${POLL_MS / 1000} s</span>`
          : nothing}
        <span class="actions">
          ${this.confirmingDeleteAll
            ? html`<span class="confirm" role="alert">Delete all ${list?.length ?? 0} messages?</span>
                <button type="button" class="small danger" ?disabled=${pending(this.change)} data-test="mail-delete-all-confirm" @click=${() => this.deleteEverything()}>
                  Delete All
                </button>
                <button type="button" class="small" @click=${() => (this.confirmingDeleteAll = false)}>Cancel</button>`
            : html`<button
                type="button"
                class="small"
                ?disabled=${pending(this.change) || !list || list.length === 0}
                data-test="mail-delete-all"
                @click=${() => (this.confirmingDeleteAll = true)}
              >
                Delete All…
              </button>`}
        </span>
      </h2>
      ${!list
        ? html`<p class="muted">${this.list.error ? 'The mailbox cannot be read.' : 'Asking the simulator…'}</p>`
        : list.length === 0
          ? html`<p class="empty" data-test="mail-empty">
              The mailbox is empty.<br />
              <span class="muted">Mail the emulated servers accept (smtp.office365.com, smtp.gmail.com) shows up here within ${POLL_MS / 1000} s.</span>
            </p>`
          : html`<div class="scroll">
              <table class="messages" data-test="mail-list">
                <thead>
                  <tr>
                    <th class="time">Received (UTC)</th>
                    <th class="server">Server</th>
                    <th>From</th>
                    <th>To</th>
                    <th>Subject</th>
                    <th class="num">Size</th>
                    <th class="num att" title="Attachments">Att.</th>
                  </tr>
                </thead>
                <tbody>
                  ${list.map((m, i) => this.renderRow(m, i))}
                </tbody>
              </table>
            </div>`}
    </section>`;
  }

  private renderRow(m: MailboxSummary, index: number): TemplateResult {
    const selected = m.id === this.selectedId;
    const to = m.to.length > 0 ? m.to : m.envelope.rcptTo;
    const from = m.from ?? m.envelope.mailFrom;
    return html`<tr
      data-test="mail-row"
      data-id=${m.id}
      class="${selected ? 'selected' : ''} ${this.opened.has(m.id) ? '' : 'unread'}"
      tabindex="0"
      aria-selected=${selected ? 'true' : 'false'}
      @click=${() => this.select(m.id)}
      @keydown=${(e: KeyboardEvent) => this.onRowKey(e, index)}
    >
      <td class="time">${formatUtc(m.receivedAtMs)}</td>
      <td class="server"><span class="kind ${m.serverKind}">${serverName(m.serverKind)}</span></td>
      <td class="cut" title=${from}>${from || '—'}</td>
      <td class="cut" title=${to.join(', ')}>${to.join(', ') || '—'}</td>
      <td class="cut subject" data-test="mail-subject" title=${m.subject ?? ''}>${m.subject ?? html`<span class="muted">(no subject)</span>`}</td>
      <td class="num" title="${m.size.toLocaleString('en')} octets">${formatBytes(m.size)}</td>
      <td class="num att">${m.attachmentCount > 0 ? m.attachmentCount : ''}</td>
    </tr>`;
  }

  private renderDetail(): unknown {
    const id = this.selectedId;
    if (!id) {
      return this.list.last?.messages.length ? html`<p class="hint muted">Click a message to open it.</p>` : nothing;
    }
    return this.detail.render({
      pending: () => html`<section class="detail"><p class="muted">Opening message ${id}…</p></section>`,
      complete: (m) => this.renderMessage(m),
      error: (e) => html`<section class="detail"><p class="msg error" role="alert" data-test="mail-detail-error">${(e as HttpError).message}</p></section>`,
    });
  }

  private renderMessage(m: MailboxMessage): TemplateResult {
    return html`<section class="detail" data-test="mail-detail" data-id=${m.id}>
      <div class="toolbar">
        <h2 class="subject" data-test="mail-detail-subject">${m.subject ?? html`<span class="muted">(no subject)</span>`}</h2>
        <span class="actions">
          <button type="button" aria-pressed=${this.showRaw ? 'true' : 'false'} data-test="mail-show-raw" @click=${() => this.toggleRaw()}>
            ${this.showRaw ? 'Hide Raw' : 'Show Raw'}
          </button>
          <a class="button" href=${rawUrl(m.id)} target="_blank" rel="noopener" data-test="mail-raw-link">Raw Source</a>
          <button type="button" class="danger" ?disabled=${pending(this.change)} data-test="mail-delete" @click=${() => this.deleteSelected()}>Delete</button>
        </span>
      </div>
      <div class="panes">
        <div>
          <h3>Headers</h3>
          <table class="fields" data-test="mail-headers">
            <tr><th>From</th><td>${m.from ?? '—'}</td></tr>
            <tr><th>To</th><td>${m.to.join(', ') || '—'}</td></tr>
            <tr><th>Cc</th><td>${m.cc.join(', ') || '—'}</td></tr>
            <tr><th>Subject</th><td>${m.subject ?? '—'}</td></tr>
            <tr><th>Date</th><td>${headerValue(m, 'date') ?? '—'}${m.date ? html` <span class="muted">(${formatUtc(Date.parse(m.date))} UTC)</span>` : nothing}</td></tr>
            <tr><th>Message-ID</th><td class="mono">${m.messageId ?? '—'}</td></tr>
          </table>
        </div>
        <div>
          <h3>Envelope and Delivery</h3>
          <table class="fields" data-test="mail-delivery">
            <tr><th>MAIL FROM</th><td class="mono">&lt;${m.envelope.mailFrom}&gt;</td></tr>
            <tr><th>RCPT TO</th><td class="mono">${m.envelope.rcptTo.map((r) => `<${r}>`).join(', ') || '—'}</td></tr>
            <tr><th>Received (UTC)</th><td>${formatUtc(m.receivedAtMs)}</td></tr>
            ${this.renderDelivery(m.delivery)}
            <tr><th>Size</th><td>${formatBytes(m.size)} <span class="muted">(${m.size.toLocaleString('en')} octets${m.spilled ? ', kept in a temp file' : ''})</span></td></tr>
            <tr><th>SHA-256 (raw)</th><td class="mono hash">${m.sha256}</td></tr>
          </table>
        </div>
      </div>
      ${this.showRaw ? this.renderRaw(m) : nothing}
      <h3>Text Body</h3>
      ${m.text !== null
        ? html`<pre class="body" data-test="mail-text">${m.text}</pre>
            ${m.textTruncated ? html`<p class="note">The text is cut short here; the raw source has all of it.</p>` : nothing}`
        : html`<p class="muted" data-test="mail-text">(no text part)</p>`}
      ${m.html !== null
        ? html`<details class="html">
            <summary>HTML part (${m.html.length.toLocaleString('en')} characters${m.htmlTruncated ? ', cut short' : ''}), shown as source, never rendered</summary>
            <pre class="body">${m.html}</pre>
          </details>`
        : nothing}
      <h3>Attachments <span class="muted">(${m.attachments.length})</span></h3>
      ${m.attachments.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table class="attachments">
            <thead>
              <tr><th>#</th><th>Name</th><th>Type</th><th class="num">Size</th><th>SHA-256</th><th></th></tr>
            </thead>
            <tbody>
              ${m.attachments.map(
                (a) => html`<tr data-test="mail-attachment" data-index=${a.index}>
                  <td class="num">${a.index}</td>
                  <td class="name">${a.filename ?? html`<span class="muted">(no name)</span>`}${a.disposition === 'inline' ? html` <span class="tag">inline</span>` : nothing}</td>
                  <td class="mono">${a.contentType}</td>
                  <td class="num" title="${a.size.toLocaleString('en')} octets">${formatBytes(a.size)}</td>
                  <td class="mono hash">${a.sha256}</td>
                  <td><a href=${attachmentUrl(m.id, a.index)} download=${a.filename ?? `attachment-${a.index}`} data-test="mail-attachment-download">Download</a></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
      <details class="all-headers">
        <summary>All header lines (${m.headerLines.length})</summary>
        <pre class="raw">${m.headerLines.map((h) => h.line).join('\n')}</pre>
      </details>
    </section>`;
  }

  private renderDelivery(d: DeliveryInfo): TemplateResult {
    const server = d.server.host ? `${serverName(d.server.kind)} · ${d.server.host}:${d.server.port}` : serverName(d.server.kind);
    const tls = d.tls
      ? [d.tls.protocol ?? 'TLS', d.tls.mode === 'implicit' ? 'implicit TLS' : 'STARTTLS', d.tls.cipher, d.tls.servername ? `SNI ${d.tls.servername}` : 'no SNI'].filter(Boolean).join(' · ')
      : undefined;
    const f = d.framing;
    const framingBad = f !== null && (f.linesOverLimit > 0 || f.bareLf > 0 || f.bareCr > 0);
    return html`<tr><th>Server</th><td data-test="mail-server">${server}</td></tr>
      <tr>
        <th>TLS</th>
        <td data-test="mail-tls">${tls ?? (d.server.kind === 'direct' ? html`<span class="muted">— (added to the mailbox directly, not over SMTP)</span>` : html`<span class="flag">none</span>`)}</td>
      </tr>
      <tr><th>AUTH</th><td>${d.auth ? html`${d.auth.method} as <span class="mono">${d.auth.user}</span>` : '—'}</td></tr>
      ${d.remoteAddress ? html`<tr><th>Client</th><td class="mono">${d.remoteAddress}</td></tr>` : nothing}
      <tr><th>Body</th><td>BODY=${d.bodyType.toUpperCase()}${d.smtpUtf8 ? ' · SMTPUTF8' : ''}</td></tr>
      ${f
        ? html`<tr>
            <th>Framing</th>
            <td class=${framingBad ? 'flag' : ''}>
              longest line ${f.longestLineOctets} octets${f.linesOverLimit > 0 ? ` · ${f.linesOverLimit} over ${SMTP_MAX_LINE_OCTETS}` : ''} · bare LF ${f.bareLf} · bare CR ${f.bareCr} ·
              ${f.eightBit ? '8-bit octets' : '7-bit only'}
            </td>
          </tr>`
        : nothing}`;
  }

  private renderRaw(m: MailboxMessage): unknown {
    const reading = html`<p class="muted">Reading the raw source…</p>`;
    return this.raw.render({
      initial: () => reading,
      pending: () => reading,
      complete: (raw) => (raw.id === m.id ? this.renderRawText(m, raw) : reading),
      error: (e) => html`<p class="msg error" role="alert">${describeError(e as HttpError)}</p>`,
    });
  }

  private renderRawText(m: MailboxMessage, raw: { readonly shownBytes: number; readonly totalBytes: number; readonly text: string }): TemplateResult {
    const cut = raw.shownBytes < raw.totalBytes;
    return html`<h3>Raw Source</h3>
      ${cut
        ? html`<p class="note" data-test="mail-raw-note">
            Showing the first ${formatBytes(raw.shownBytes)} of ${formatBytes(raw.totalBytes)}.
            <a href=${rawUrl(m.id)} target="_blank" rel="noopener">Open the raw source</a> for all of it.
          </p>`
        : nothing}
      <pre class="raw" data-test="mail-raw">${raw.text}</pre>`;
  }

  static override styles = [
    benchFrameStyles,
    benchMessageStyles,
    benchButtonStyles,
    css`
    h3 {
      font-size: var(--text-small);
      text-transform: uppercase;
      letter-spacing: 0.04em;
      color: var(--label);
      margin: 14px 0 4px;
    }
    section {
      background: #fff;
      border: 1px solid var(--line);
      padding: 10px 12px;
      margin-bottom: var(--space-3);
    }
    .actions {
      margin-left: auto;
      display: flex;
      align-items: center;
      gap: 6px;
    }
    /* In a heading too: the buttons keep their own case and spacing. */
    button,
    a.button {
      color: inherit;
      text-decoration: none;
      text-transform: none;
      letter-spacing: 0;
    }
    button[aria-pressed='true'] {
      background: linear-gradient(#dfe6ee, #cfd8e2);
      box-shadow: inset 0 1px 2px rgba(0, 0, 0, 0.15);
    }
    button.danger {
      color: var(--error);
    }
    button.link {
      border: 0;
      background: none;
      padding: 0 4px;
      float: right;
      font-size: 15px;
      line-height: 1;
      color: inherit;
    }
    .confirm {
      color: var(--error);
      text-transform: none;
      letter-spacing: 0;
      font-weight: 600;
    }
    .hint {
      text-align: center;
    }
    .empty {
      text-align: center;
      padding: 28px 0;
      margin: 0;
      color: var(--label);
      background: #f6f7f9;
      border: 1px dashed var(--line);
    }
    .note {
      margin: var(--space-1) 0;
      color: var(--warn-ink);
      background: var(--warn-bg);
      padding: 3px 6px;
    }
    .flag {
      color: var(--warn-ink);
      background: var(--warn-bg);
      padding: 0 var(--space-1);
    }
    .tag {
      font-size: 11px;
      color: var(--label);
      border: 1px solid var(--line);
      padding: 0 var(--space-1);
    }
    .mono,
    pre {
      font-family: var(--mono);
      font-size: var(--text-small);
    }
    .hash {
      word-break: break-all;
      font-size: 11px;
    }

    /* The list */
    .scroll {
      max-height: 38vh;
      overflow: auto;
      border: 1px solid var(--line-soft);
    }
    table {
      border-collapse: collapse;
      width: 100%;
    }
    .messages {
      table-layout: fixed;
      font-variant-numeric: tabular-nums;
    }
    .messages th {
      position: sticky;
      top: 0;
      background: var(--shade);
      text-align: left;
      font-weight: 600;
      color: var(--label);
      padding: 4px 6px;
      border-bottom: 1px solid var(--line);
      z-index: 1;
    }
    .messages td {
      padding: 4px 6px;
      border-bottom: 1px solid #eceff1;
      vertical-align: top;
    }
    .messages th.time {
      width: 150px;
    }
    .messages td.time {
      white-space: nowrap;
    }
    .messages th.server {
      width: 84px;
    }
    .messages th:nth-child(3),
    .messages th:nth-child(4) {
      width: 20%;
    }
    .messages th.num {
      width: 64px;
    }
    .messages th.att {
      width: 36px;
    }
    .messages tbody tr {
      cursor: pointer;
    }
    .messages tbody tr:hover {
      background: #f3f6f9;
    }
    .messages tbody tr.unread td {
      font-weight: 600;
    }
    .messages tbody tr.selected {
      background: #dce8f4;
      box-shadow: inset 3px 0 0 var(--accent);
    }
    .messages tbody tr:focus-visible {
      outline: 2px solid var(--accent);
      outline-offset: -2px;
    }
    .cut {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .num {
      text-align: right;
      white-space: nowrap;
    }
    .kind {
      display: inline-block;
      font-size: 11px;
      font-weight: 600;
      padding: 0 5px;
      border: 1px solid;
      border-radius: 2px;
      white-space: nowrap;
    }
    .kind.office365 {
      color: #1f4e8c;
      background: #e8f0fb;
    }
    .kind.gmail {
      color: #9b2c1f;
      background: #fcebe8;
    }
    .kind.direct {
      color: var(--label);
      background: var(--shade);
    }

    /* The open message */
    .toolbar {
      display: flex;
      align-items: center;
      gap: 8px;
      border-bottom: 1px solid var(--line-soft);
      padding-bottom: var(--space-2);
    }
    .toolbar h2.subject {
      font-size: 15px;
      text-transform: none;
      letter-spacing: 0;
      color: var(--ink);
      margin: 0;
      overflow-wrap: anywhere;
    }
    .panes {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(440px, 1fr));
      gap: 0 24px;
    }
    .fields th,
    .fields td {
      text-align: left;
      vertical-align: top;
      padding: 3px 6px;
      border-bottom: 1px solid var(--line-soft);
    }
    .fields th {
      font-weight: 500;
      width: 120px;
      color: var(--label);
      white-space: nowrap;
    }
    .fields td {
      overflow-wrap: anywhere;
    }
    pre.body {
      white-space: pre-wrap;
      overflow-wrap: anywhere;
      margin: 0;
      padding: 8px 10px;
      background: #fafafa;
      border: 1px solid var(--line-soft);
      max-height: 50vh;
      overflow: auto;
    }
    pre.raw {
      white-space: pre-wrap;
      word-break: break-all;
      margin: 4px 0 0;
      padding: 8px 10px;
      background: #1f2328;
      color: #dfe3e8;
      max-height: 60vh;
      overflow: auto;
    }
    details {
      margin-top: 12px;
    }
    summary {
      cursor: pointer;
      color: var(--accent);
    }
    .attachments th,
    .attachments td {
      text-align: left;
      vertical-align: top;
      padding: 4px 6px;
      border-bottom: 1px solid var(--line-soft);
    }
    .attachments th {
      background: var(--shade);
      font-weight: 600;
      color: var(--label);
    }
    .attachments th.num,
    .attachments td.num {
      text-align: right;
    }
    .attachments td.name {
      overflow-wrap: anywhere;
      font-weight: 600;
    }
    .attachments a,
    .msg a,
    .note a {
      color: var(--accent);
    }
  `,
  ];
}

function serverName(kind: string): string {
  return SERVER_NAMES[kind] ?? kind;
}

/** The value of the first header line with this key, unfolded, as sent (encoded words and all). */
function headerValue(m: MailboxMessage, key: string): string | undefined {
  const line = m.headerLines.find((h) => h.key === key)?.line;
  return line?.replace(/^[^:]*:[ \t]*/, '').replace(/\r?\n[ \t]+/g, ' ');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

customElements.define('sim-mailbox-page', SimMailboxPage);
