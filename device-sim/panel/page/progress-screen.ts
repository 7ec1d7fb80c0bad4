/**
 * One job from Start to its end: the steps (Scanning, Queued, Connecting, Sending, Finishing), one
 * progress bar across them (pages while scanning, bytes while sending), then the result with its
 * device code and the operator's sentence. The operator may leave at any time; the job goes on
 * and Job Status shows it.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { PanelJobPhase, PanelJobView, ScanRequestBody } from '../../../firmware/web/api-types.ts';
import { ApiTask } from '../../../remote-ui/src/kit/api-task.ts';
import { panelApi } from './panel-api.ts';
import { navigate, type PanelClock } from './panel-navigation.ts';
import { panelStyles } from './panel-styles.ts';
import { formatJobTime } from './panel-time.ts';
import { attachmentNames, settingsSummary } from './scan-draft.ts';

const POLL_MS = 500;

/** The steps shown, and the share of the bar each one fills (start %, end %). */
const STEPS: readonly { readonly phase: PanelJobPhase; readonly label: string; readonly from: number; readonly to: number }[] = [
  { phase: 'scanning', label: 'Scanning', from: 0, to: 45 },
  { phase: 'queued', label: 'Queued', from: 45, to: 50 },
  { phase: 'connecting', label: 'Connecting', from: 50, to: 55 },
  { phase: 'sending', label: 'Sending', from: 55, to: 95 },
  { phase: 'finishing', label: 'Finishing', from: 95, to: 100 },
];

const CONNECTING_STEP = STEPS.findIndex((s) => s.phase === 'connecting');

const PHASE_TEXT: Partial<Record<PanelJobPhase, (job: PanelJobView) => string>> = {
  queued: () => 'Waiting to be sent…',
  connecting: () => 'Connecting to the mail server…',
  sending: (job) => `Sending… ${job.percent} %`,
  finishing: () => 'Waiting for the mail server to confirm…',
};

const RESULT_TITLE: Partial<Record<PanelJobPhase, string>> = { delivered: 'Job complete', failed: 'Job failed', retrying: 'Not sent yet' };
const RESULT_ICON: Partial<Record<PanelJobPhase, string>> = { delivered: '✓', failed: '✕', retrying: '↻' };

export function isFinal(phase: PanelJobPhase): boolean {
  return phase === 'delivered' || phase === 'failed';
}

export class PanelProgressScreen extends LitElement {
  static override properties = {
    jobId: { attribute: false },
    request: { attribute: false },
    clock: { attribute: false },
  };

  declare jobId: string;
  /** What was asked for, when the job was started on this screen's way here. */
  declare request: ScanRequestBody | undefined;
  declare clock: PanelClock | undefined;
  /** The job, read every POLL_MS until it has ended. */
  private readonly job = new ApiTask(this, ([id], call) => panelApi('GET /panel/api/jobs/:id', { ...call, params: { id } }), {
    args: () => [this.jobId] as const,
    everyMs: POLL_MS,
    onAnswer: (job) => this.onJob(job),
  });
  /** The bar never runs backwards (a retry starts connecting again; the bar waits where it was). */
  private highestPercent = 0;
  /** The furthest step reached: a failed or retrying job stopped there. */
  private reachedStep = 0;

  constructor() {
    super();
    this.jobId = '';
  }

  private onJob(job: PanelJobView): void {
    if (isFinal(job.phase)) this.job.stop();
    this.reachedStep = Math.max(this.reachedStep, STEPS.findIndex((s) => s.phase === job.phase));
    // A job that waits to retry, or failed once queued (it has destinations; a failed scan has
    // none), got as far as the mail server, even when the polls saw none of it.
    if (job.phase === 'retrying' || (job.phase === 'failed' && job.to.length > 0)) this.reachedStep = Math.max(this.reachedStep, CONNECTING_STEP);
    this.highestPercent = Math.max(this.highestPercent, overallPercent(job), STEPS[this.reachedStep]?.from ?? 0);
  }

  override render(): TemplateResult {
    const job = this.job.last;
    return html`<div class="titlebar">
        <h1>Scan and Send</h1>
        <div class="right">
          <button type="button" data-test="open-job-status" @click=${() => navigate(this, { name: 'jobs' })}>Job Status</button>
        </div>
      </div>
      <div class="content">
        ${this.renderJobLine(job)}
        ${this.renderProgress(job)} ${job && (isFinal(job.phase) || job.phase === 'retrying') ? this.renderResult(job) : nothing}
        ${this.job.failure((e) => html`<div class="alert error" role="alert" data-test="progress-error">${e.message}</div>`)}
      </div>
      <div class="footer">
        ${job && isFinal(job.phase)
          ? html`<button type="button" data-test="scan-again" @click=${() => navigate(this, { name: 'scan' })}>New Scan</button>
              <button type="button" class="primary" data-test="done" @click=${() => navigate(this, { name: 'home' })}>Done</button>`
          : html`<span class="hint">The job goes on if you leave this screen.</span>
              <button type="button" data-test="close" @click=${() => navigate(this, { name: 'home' })}>Close</button>`}
      </div>`;
  }

  /** The job's destinations and settings: from the request when started here, else from the job. */
  private renderJobLine(job: PanelJobView | undefined): TemplateResult {
    const r = this.request;
    const to = r?.to ?? job?.to ?? [];
    const cc = r?.cc ?? job?.cc ?? [];
    const bcc = r?.bcc ?? job?.bcc ?? [];
    const subject = r?.subject ?? job?.subject;
    const settings = r ? settingsSummary(r) : job?.scan ? settingsSummary(job.scan) : job ? `${job.pages} ${job.pages === 1 ? 'page' : 'pages'}` : '';
    // Two pairs a line: Job | Scan, To | File, then Cc and Bcc when there are any, Subject.
    return html`<dl class="job-line" data-test="job-line">
      <dt>Job</dt>
      <dd class="code" data-test="job-id">${this.jobId}</dd>
      <dt>Scan</dt>
      <dd>${settings}</dd>
      <dt>To</dt>
      <dd data-test="job-to">${to.join(', ')}</dd>
      <dt>File</dt>
      <dd data-test="job-files">${r ? attachmentNames(r) : (job?.files ?? []).join(', ')}</dd>
      ${cc.length > 0 ? html`<dt>Cc</dt><dd class="wide" data-test="job-cc">${cc.join(', ')}</dd>` : nothing}
      ${bcc.length > 0 ? html`<dt>Bcc</dt><dd class="wide" data-test="job-bcc">${bcc.join(', ')}</dd>` : nothing}
      ${subject ? html`<dt>Subject</dt><dd class="wide">${subject}</dd>` : nothing}
    </dl>`;
  }

  private renderProgress(job: PanelJobView | undefined): TemplateResult {
    const phase = job?.phase ?? 'scanning';
    const stopped = phase === 'failed' || phase === 'retrying';
    const current = stopped ? this.reachedStep : STEPS.findIndex((s) => s.phase === phase);
    const overall = job?.phase === 'delivered' ? 100 : this.highestPercent;
    const text = !job ? 'Starting…' : isFinal(job.phase) || job.phase === 'retrying' ? '' : (PHASE_TEXT[job.phase]?.(job) ?? job.message);
    return html`<ol class="steps" aria-label="Steps">
        ${STEPS.map((s, i) => {
          const state = phase === 'delivered' || i < current ? 'done' : i === current ? (stopped ? 'stopped' : 'current') : 'todo';
          return html`<li class=${state} data-test="step" data-step=${s.phase} data-state=${state} aria-current=${state === 'current' ? 'step' : nothing}>
            <span class="dot" aria-hidden="true">${state === 'done' ? '✓' : state === 'stopped' ? '!' : i + 1}</span>${s.label}
          </li>`;
        })}
      </ol>
      <div
        class="bar phase-${phase}"
        role="progressbar"
        aria-label="Job progress"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${overall}
        aria-valuetext=${`${overall} %${text ? `: ${text}` : ''}`}
        data-test="progress"
        data-phase=${phase}
        data-percent=${job?.percent ?? 0}
        data-overall=${overall}
      >
        <div class="fill" style="width: ${overall}%"></div>
      </div>
      ${text ? html`<div class="phase-text" data-test="progress-text">${text}</div>` : nothing}`;
  }

  private renderResult(job: PanelJobView): TemplateResult {
    const next = job.nextAttemptWallMs !== undefined && this.clock ? formatJobTime(job.nextAttemptWallMs, this.clock.wallMs, this.clock.timeZone) : undefined;
    return html`<div class="result phase-${job.phase}" role="status" data-test="result" data-phase=${job.phase} data-code=${job.code ?? ''}>
      <span class="icon" aria-hidden="true">${RESULT_ICON[job.phase]}</span>
      <div>
        <div class="result-title">${RESULT_TITLE[job.phase]}${job.code ? html` <span class="code" data-test="result-code">${job.code}</span>` : nothing}</div>
        <div data-test="result-message">${job.message}</div>
        ${next ? html`<div data-test="next-attempt">Next attempt at ${next}.</div>` : nothing}
      </div>
    </div>`;
  }

  static override styles = [
    panelStyles,
    css`
      .content {
        flex: 1;
        padding: 18px 28px;
        display: flex;
        flex-direction: column;
        gap: 16px;
        min-height: 0;
        overflow: auto;
      }
      .content > * {
        flex: none;
      }
      .job-line {
        display: grid;
        grid-template-columns: max-content 1fr max-content 1fr;
        gap: 2px 14px;
        margin: 0;
        font-size: var(--touch-text);
        color: var(--touch-label);
      }
      .job-line dt {
        font-weight: 600;
      }
      .job-line dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .job-line dd.wide {
        grid-column: 2 / -1;
      }
      .steps {
        display: flex;
        list-style: none;
        margin: 0;
        padding: 0;
        gap: 8px;
      }
      .steps li {
        flex: 1;
        display: flex;
        align-items: center;
        gap: 8px;
        font-size: var(--touch-text);
        color: #7a8591;
      }
      .steps li.current {
        color: var(--touch-ink);
        font-weight: 600;
      }
      .steps li.done {
        color: var(--touch-ok);
      }
      .dot {
        width: 32px;
        height: 32px;
        border-radius: 50%;
        display: inline-flex;
        align-items: center;
        justify-content: center;
        border: 2px solid currentColor;
        font-size: 15px;
        flex: none;
      }
      .current .dot {
        background: var(--touch-primary);
        border-color: var(--touch-primary);
        color: #fff;
      }
      .steps li.stopped {
        color: var(--touch-danger-ink);
        font-weight: 600;
      }
      .stopped .dot {
        background: var(--touch-danger);
        border-color: var(--touch-danger);
        color: #fff;
      }
      .done .dot {
        background: #2e9e52;
        border-color: #2e9e52;
        color: #fff;
      }
      .bar {
        height: 34px;
        border-radius: 17px;
        background: #d5dde4;
        overflow: hidden;
        border: 1px solid #b3bec8;
      }
      .fill {
        height: 100%;
        background: linear-gradient(#4aa3f0, var(--touch-primary));
        transition: width 0.3s ease-out;
      }
      .bar.phase-delivered .fill {
        background: linear-gradient(#4cc774, #23904a);
      }
      .bar.phase-failed .fill {
        background: linear-gradient(#ef6f68, var(--touch-danger));
      }
      .bar.phase-retrying .fill {
        background: linear-gradient(#f6c453, #d99a00);
      }
      .phase-text {
        font-size: 19px;
      }
      .result {
        display: flex;
        align-items: flex-start;
        gap: 16px;
        padding: 16px 20px;
        border-radius: 12px;
        font-size: 18px;
      }
      .result .icon {
        font-size: 40px;
        line-height: 1;
      }
      .result-title {
        font-size: 22px;
        font-weight: 600;
        margin-bottom: 4px;
      }
      .footer {
        justify-content: flex-end;
      }
      .footer .hint {
        margin-right: auto;
        font-size: 16px;
      }
      .footer button {
        min-width: 150px;
        min-height: 56px;
        font-size: 19px;
      }
    `,
  ];
}

/** Where the whole job stands, 0–100: each step fills its share of the bar. */
function overallPercent(job: PanelJobView): number {
  if (job.phase === 'delivered') return 100;
  const step = STEPS.find((s) => s.phase === job.phase);
  if (!step) return 0;
  return Math.round(step.from + ((step.to - step.from) * Math.min(100, Math.max(0, job.percent))) / 100);
}

customElements.define('panel-progress-screen', PanelProgressScreen);
