/**
 * The device's recent conversations with the mail server (Check Connection, test e-mails, sends):
 * a list, and one transcript's text as the device recorded it (credentials already redacted by
 * the firmware), with a download link. Part of the E-mail page so that opening a transcript keeps
 * the unsaved form.
 */
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import type { TranscriptSummary } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { DeviceZone } from './device-zone.ts';
import { alertLine, ApiTask } from './kit/api-task.ts';
import { unwrap, type HttpError } from './kit/http-client.ts';
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
  static override properties = { selectedId: { state: true } };

  declare selectedId: string | undefined;
  private readonly list = new ApiTask(this, (_, call) => api('GET /api/email/transcripts', call));
  private readonly zone = new DeviceZone(this);
  /** The selected transcript as the device recorded it (`text/plain`). */
  private readonly text = new Task(this, {
    autoRun: false,
    task: async ([id]: readonly [string], { signal }) => unwrap(await api('GET /api/email/transcripts/:id', { params: { id }, signal })),
  });

  reload(): Promise<void> {
    return this.list.refresh();
  }

  /** Open one transcript in the viewer and bring the viewer into sight. */
  show(id: string): void {
    this.selectedId = id;
    void this.text.run([id]);
    void this.updateComplete.then(() => this.renderRoot.querySelector('.viewer')?.scrollIntoView({ block: 'nearest' }));
  }

  override render() {
    const timeZone = this.zone.name;
    return html`<h2>Transcripts</h2>
      <p class="hint">
        What the device and the mail server said to each other, newest first. Passwords and tokens are never recorded.
        <button type="button" class="small" @click=${() => void this.reload()}>Refresh</button>
      </p>
      ${this.list.view((list) =>
        list.length === 0
          ? html`<p data-test="no-transcripts">No transcripts yet. Check Connection or Send Test E-mail records one.</p>`
          : html`<table data-test="transcripts-table">
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
                  <td class="nowrap"><button type="button" class="small" @click=${() => this.show(t.id)}>View</button></td>
                </tr>`,
              )}
            </tbody>
          </table>`,
      )}
      ${this.selectedId ? this.renderViewer(this.selectedId) : nothing}`;
  }

  private renderViewer(id: string) {
    const summary = this.list.last?.find((t) => t.id === id);
    const timeZone = this.zone.name;
    return html`<div class="viewer" data-test="transcript-viewer" data-id=${id}>
      <div class="viewer-head">
        <b>${summary ? `${KIND_LABELS[summary.kind] ?? summary.kind}, ${summary.server}, ${formatWall(summary.startedWallMs, timeZone)}` : `Transcript ${id}`}</b>
        <span>
          <a href=${transcriptUrl(id, true)} download data-test="transcript-download">Download</a>
          <button type="button" class="small" @click=${() => (this.selectedId = undefined)}>Close</button>
        </span>
      </div>
      ${this.text.render({
        pending: () => html`<pre data-test="transcript-text" aria-busy="true">Reading the transcript…</pre>`,
        complete: (text) => html`<pre data-test="transcript-text" aria-busy="false">${text}</pre>`,
        error: (e) => alertLine(e as HttpError),
      })}
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      button.small {
        padding: 1px 10px;
        margin-left: var(--space-2);
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
        font: var(--text-small) / 1.45 var(--mono);
        white-space: pre;
      }
    `,
  ];
}

customElements.define('rui-email-transcripts', EmailTranscripts);
