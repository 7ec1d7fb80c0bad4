/**
 * The device's recent conversations with the mail server (Check Connection, test e-mails, sends):
 * a list, and one transcript's text as the device recorded it (credentials already redacted by
 * the firmware), with a download link. Part of the E-mail page so that opening a transcript keeps
 * the unsaved form.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { DeviceStatus, TranscriptSummary } from '../../firmware/web/api-types.ts';
import { request, requestText } from './api.ts';
import { LoadController } from './load-controller.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatWall } from './time-format.ts';

const KIND_LABELS: Readonly<Record<TranscriptSummary['kind'], string>> = {
  check: 'Check Connection',
  test: 'Test E-mail',
  send: 'Send',
};

export function transcriptUrl(id: string, download = false): string {
  return `/api/email/transcripts/${encodeURIComponent(id)}${download ? '?download=1' : ''}`;
}

export class EmailTranscripts extends LitElement {
  static override properties = {
    selectedId: { state: true },
    text: { state: true },
    textError: { state: true },
  };

  declare selectedId: string | undefined;
  /** The selected transcript's text; undefined while it loads. */
  declare text: string | undefined;
  declare textError: string | undefined;
  private readonly list = new LoadController(this, () => request<TranscriptSummary[]>('GET', '/api/email/transcripts'));
  /** Only for the device's time zone. */
  private readonly status = new LoadController(this, () => request<DeviceStatus>('GET', '/api/status'));
  private generation = 0;

  reload(): Promise<void> {
    return this.list.reload();
  }

  /** Open one transcript in the viewer and bring the viewer into sight. */
  async show(id: string): Promise<void> {
    const generation = ++this.generation;
    this.selectedId = id;
    this.text = undefined;
    this.textError = undefined;
    void this.updateComplete.then(() => this.renderRoot.querySelector('.viewer')?.scrollIntoView({ block: 'nearest' }));
    const result = await requestText(transcriptUrl(id));
    if (generation !== this.generation) return;
    if (result.ok) this.text = result.data;
    else this.textError = result.error.message;
  }

  override render() {
    const timeZone = this.status.value?.clock.timeZone ?? 'UTC';
    const list = this.list.value;
    return html`<h2>Transcripts</h2>
      <p class="hint">
        What the device and the mail server said to each other, newest first. Passwords and tokens are never recorded.
        <button type="button" class="small" @click=${() => void this.reload()}>Refresh</button>
      </p>
      ${this.list.error ? html`<p class="msg error" role="alert">${this.list.error.message}</p>` : nothing}
      ${list && list.length === 0 ? html`<p data-test="no-transcripts">No transcripts yet. Check Connection or Send Test E-mail records one.</p>` : nothing}
      ${list && list.length > 0
        ? html`<table data-test="transcripts-table">
            <thead>
              <tr><th>Date/Time (${timeZone})</th><th>Kind</th><th>Server</th><th>Result</th><th></th></tr>
            </thead>
            <tbody>
              ${list.map(
                (t) => html`<tr data-test="transcript-row" data-id=${t.id} class=${t.id === this.selectedId ? 'selected' : ''}>
                  <td class="mono nowrap">${formatWall(t.startedWallMs, timeZone)}</td>
                  <td>${KIND_LABELS[t.kind] ?? t.kind}</td>
                  <td>${t.server}</td>
                  <td class=${t.ok ? 'ok' : 'failed'}>${t.ok ? '✓ OK' : `✗ ${t.code ?? 'Failed'}`}</td>
                  <td class="nowrap"><button type="button" class="small" @click=${() => void this.show(t.id)}>View</button></td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : nothing}
      ${this.selectedId ? this.renderViewer(this.selectedId) : nothing}`;
  }

  private renderViewer(id: string) {
    const summary = this.list.value?.find((t) => t.id === id);
    const timeZone = this.status.value?.clock.timeZone ?? 'UTC';
    return html`<div class="viewer" data-test="transcript-viewer" data-id=${id}>
      <div class="viewer-head">
        <b>${summary ? `${KIND_LABELS[summary.kind] ?? summary.kind}, ${summary.server}, ${formatWall(summary.startedWallMs, timeZone)}` : `Transcript ${id}`}</b>
        <span>
          <a href=${transcriptUrl(id, true)} download data-test="transcript-download">Download</a>
          <button type="button" class="small" @click=${() => (this.selectedId = undefined)}>Close</button>
        </span>
      </div>
      ${this.textError
        ? html`<p class="msg error" role="alert">${this.textError}</p>`
        : html`<pre data-test="transcript-text" aria-busy=${this.text === undefined ? 'true' : 'false'}>${this.text ?? 'Reading the transcript…'}</pre>`}
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      button.small {
        padding: 1px 10px;
        margin-left: 8px;
      }
      td.ok {
        color: var(--ok);
      }
      td.failed {
        color: var(--error);
      }
      tr.selected td {
        background: #dbe6f1;
      }
      .viewer {
        margin-top: 12px;
        border: 1px solid var(--line);
      }
      .viewer-head {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 12px;
        padding: 5px 8px;
        background: var(--head);
        border-bottom: 1px solid var(--line);
      }
      pre {
        margin: 0;
        padding: 8px;
        max-height: 420px;
        overflow: auto;
        background: #fbfbfc;
        font: 12px/1.45 ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
        white-space: pre;
      }
    `,
  ];
}

customElements.define('rui-email-transcripts', EmailTranscripts);
