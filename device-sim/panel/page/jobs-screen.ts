/**
 * Job Status: the device's recent send jobs, newest first, refreshed every two seconds: when,
 * to whom, the state, the device code and the operator's sentence; a job waiting to retry says
 * when it will try again, one that may have gone out twice says so. A row opens the job's
 * progress screen.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { PanelJobPhase, PanelJobView } from '../../../firmware/web/api-types.ts';
import { ApiTask } from '../../../remote-ui/src/kit/api-task.ts';
import { panelApi } from './panel-api.ts';
import { navigate, type PanelClock } from './panel-navigation.ts';
import { panelStyles } from './panel-styles.ts';
import { formatJobTime } from './panel-time.ts';

const POLL_MS = 2000;

const STATE_LABELS: Readonly<Record<PanelJobPhase, string>> = {
  scanning: 'Scanning',
  queued: 'Waiting',
  connecting: 'Sending',
  sending: 'Sending',
  finishing: 'Sending',
  retrying: 'Will retry',
  delivered: 'Sent',
  failed: 'Error',
};

export class PanelJobsScreen extends LitElement {
  static override properties = { clock: { attribute: false } };

  declare clock: PanelClock | undefined;
  private readonly jobs = new ApiTask(this, (_, call) => panelApi('GET /panel/api/jobs', call), { everyMs: POLL_MS });

  private time(wallMs: number): string {
    return this.clock ? formatJobTime(wallMs, this.clock.wallMs, this.clock.timeZone) : new Date(wallMs).toISOString().slice(11, 19);
  }

  override render(): TemplateResult {
    return html`<div class="titlebar">
        <button type="button" class="back" data-test="back" @click=${() => navigate(this, { name: 'home' })}>◀ Home</button>
        <h1>Job Status</h1>
        <span class="hint right">Send jobs, newest first</span>
      </div>
      <div class="content">
        ${this.jobs.view(
          (jobs) =>
            jobs.length === 0
              ? html`<p class="empty" data-test="no-jobs">No jobs yet.</p>`
              : html`<table data-test="jobs">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Destination / Subject</th>
                    <th scope="col">Pages</th>
                    <th scope="col">State</th>
                    <th scope="col">Details</th>
                    <th scope="col"><span class="visually-hidden">Open</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${jobs.map((job) => this.renderRow(job))}
                </tbody>
              </table>`,
          html`<p class="empty">Loading…</p>`,
          (e) => html`<div class="alert error" role="alert" data-test="jobs-error">${e.message}</div>`,
        )}
      </div>`;
  }

  private renderRow(job: PanelJobView): TemplateResult {
    const first = job.to[0] ?? '—';
    return html`<tr data-test="job-row" data-id=${job.id} data-phase=${job.phase} data-code=${job.code ?? ''}>
      <td class="nowrap">${this.time(job.createdWallMs)}</td>
      <td class="who">
        <div>${first}${job.to.length > 1 ? html` <span class="hint">+${job.to.length - 1}</span>` : nothing}</div>
        <div class="hint">${job.subject} · ${job.operator}</div>
      </td>
      <td class="num">${job.pages}</td>
      <td><span class="badge phase-${job.phase}" data-test="job-state">${STATE_LABELS[job.phase]}</span></td>
      <td class="details">
        ${job.code ? html`<span class="code" data-test="job-code">${job.code}</span> ` : nothing}<span data-test="job-message">${job.message}</span>
        ${job.phase === 'retrying' && job.nextAttemptWallMs !== undefined
          ? html`<div class="next" data-test="job-next-attempt">Next attempt at ${this.time(job.nextAttemptWallMs)}.</div>`
          : nothing}
        ${job.possibleDuplicate ? html`<div class="duplicate" data-test="job-duplicate">⚠ May have been delivered twice (power cut while sending).</div>` : nothing}
      </td>
      <td>
        <button type="button" class="open" aria-label=${`Open job ${job.id}`} data-test="open-job" @click=${() => navigate(this, { name: 'progress', jobId: job.id })}>›</button>
      </td>
    </tr>`;
  }

  static override styles = [
    panelStyles,
    css`
      .titlebar .right {
        font-size: 15px;
      }
      .content {
        flex: 1;
        min-height: 0;
        overflow: auto;
        padding: 6px 16px 12px;
      }
      .empty {
        font-size: 18px;
        color: var(--touch-muted);
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 16px;
      }
      th {
        position: sticky;
        top: 0;
        background: #e9eef2;
        text-align: left;
        font-size: 14px;
        color: #4a5866;
        padding: 8px;
        border-bottom: 1px solid var(--touch-line);
      }
      td {
        padding: 8px;
        border-bottom: 1px solid #d6dde4;
        vertical-align: top;
        background: #fff;
      }
      .nowrap {
        white-space: nowrap;
      }
      .who {
        max-width: 280px;
        overflow-wrap: anywhere;
      }
      .num {
        text-align: right;
      }
      .details {
        width: 40%;
      }
      .badge {
        white-space: nowrap;
      }
      .next {
        color: #7a5200;
        margin-top: 2px;
      }
      .duplicate {
        color: #8c4a00;
        font-weight: 600;
        margin-top: 2px;
      }
      .open {
        width: 48px;
        padding: 0;
        font-size: 24px;
      }
      .visually-hidden {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip-path: inset(50%);
      }
    `,
  ];
}

customElements.define('panel-jobs-screen', PanelJobsScreen);
