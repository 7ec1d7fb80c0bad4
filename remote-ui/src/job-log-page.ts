/**
 * Job Log: every scan-to-email job the device holds, newest first, with its result and device
 * code, a link to the redacted SMTP transcript of its last attempt, a filter by result and a CSV
 * export. Refreshes itself every 3 s, so jobs waiting or being sent move on by themselves.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { JobLogFilter } from '../../firmware/web/api-routes.ts';
import type { JobLogEntry } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { DeviceZone } from './device-zone.ts';
import { ApiTask } from './kit/api-task.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatSize, formatWall } from './time-format.ts';

const FILTERS: readonly (readonly [JobLogFilter | '', string])[] = [
  ['', 'All'],
  ['delivered', 'Delivered'],
  ['failed', 'Failed'],
  ['pending', 'Waiting or sending'],
];

const STATE_TEXT: Record<JobLogEntry['state'], string> = {
  queued: 'Waiting',
  sending: 'Sending',
  retrying: 'Will retry',
  delivered: 'Delivered',
  failed: 'Failed',
};

export class JobLogPage extends LitElement {
  static override properties = { filter: { state: true } };
  declare filter: JobLogFilter | '';
  private readonly jobs = new ApiTask(this, ([result], call) => api('GET /api/jobs', { ...call, query: result ? { result } : {} }), {
    args: () => [this.filter] as const,
    everyMs: 3000,
  });
  private readonly zone = new DeviceZone(this);

  constructor() {
    super();
    this.filter = '';
  }

  override render() {
    const timeZone = this.zone.name;
    const jobs = this.jobs.last ?? [];
    return html`<h1>Job Log</h1>
      <div class="toolbar">
        <label for="filter">Show</label>
        <select id="filter" data-test="job-filter" @change=${(e: Event) => (this.filter = (e.target as HTMLSelectElement).value as JobLogFilter)}>
          ${FILTERS.map(([v, t]) => html`<option value=${v} ?selected=${v === this.filter}>${t}</option>`)}
        </select>
        <a class="button" href=${`/api/jobs.csv${this.filter ? `?result=${this.filter}` : ''}`} download="send-job-log.csv" data-test="job-csv">Export CSV</a>
      </div>
      ${this.jobs.failure()}
      ${jobs.length === 0 && this.jobs.last ? html`<p data-test="job-log-empty">No jobs${this.filter ? ' match this filter' : ' yet'}.</p>` : nothing}
      ${jobs.length > 0
        ? html`<table data-test="job-log">
            <thead>
              <tr><th>Date/Time (${timeZone})</th><th>Operator</th><th>Destinations</th><th>Pages</th><th>Size</th><th>Result</th><th>Details</th></tr>
            </thead>
            <tbody>
              ${jobs.map(
                (j) => html`<tr data-test="job-row" data-job=${j.id} data-state=${j.state} class=${j.state}>
                  <td class="mono nowrap">${formatWall(j.createdWallMs, timeZone)}</td>
                  <td>${j.operator}</td>
                  <td>${[...j.to, ...j.cc.map((a) => `cc ${a}`), ...j.bcc.map((a) => `bcc ${a}`)].join(', ')}<div class="sub">${j.subject}</div></td>
                  <td class="num">${j.pages} ${j.format.toUpperCase()}</td>
                  <td class="num nowrap">${formatSize(j.sizeBytes)}</td>
                  <td class="nowrap"><b>${STATE_TEXT[j.state]}</b>${j.code ? html` <span class="mono" data-test="job-code">${j.code}</span>` : nothing}</td>
                  <td class="details">
                    ${j.message ?? ''}
                    ${j.possibleDuplicate ? html`<div class="warning-text" data-test="job-duplicate">May have been delivered twice: the power was lost after the message was complete.</div>` : nothing}
                    ${j.attempts > 1 ? html`<div class="sub">${j.attempts} attempts</div>` : nothing}
                    ${j.transcriptId
                      ? html`<div class="sub" data-test="job-transcript">${j.transcriptKept ? html`<a href=${`/api/email/transcripts/${encodeURIComponent(j.transcriptId)}`} target="_blank" rel="noopener">Transcript</a>` : 'Transcript no longer kept'}</div>`
                      : nothing}
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : nothing}`;
  }

  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        margin-bottom: var(--space-3);
      }
      .toolbar select {
        min-width: 180px;
      }
      .toolbar .button {
        margin-left: auto;
      }
      .sub {
        color: var(--muted);
        font-size: var(--text-small);
      }
      .num {
        text-align: right;
      }
      /* Server replies carry long unbroken tokens (Office 365's Message-ID): wrap them rather than widen the page. */
      .details {
        overflow-wrap: anywhere;
      }
      tr.retrying td,
      tr.queued td,
      tr.sending td {
        background: var(--warn-bg);
      }
      .warning-text {
        color: #8a5300;
      }
    `,
  ];
}

customElements.define('rui-job-log-page', JobLogPage);
