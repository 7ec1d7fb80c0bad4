/**
 * Jobs as the control panel phrases them (`PanelJobView`): the phase the progress bar shows, the
 * operator's sentence for the result, and a scan still under way before its job is queued.
 *
 * Who may see which job is the caller's choice (`visible`): the panel's routes show an anonymous
 * caller only anonymous jobs and an operator their own as well (panel-routes.ts); the device's
 * own in-process view (`Device.panelJobs`, for the simulator's observers) shows them all, as the
 * job log does to its roles. Destinations and subject are in every view, so what is not visible
 * is not found at all.
 */
import { PANEL_JOBS_SHOWN } from '../defaults.ts';
import { operatorSentence } from '../device-codes.ts';
import type { JobQueue } from '../send/job-queue.ts';
import type { JobRecord } from '../send/job-record.ts';
import type { ScanService } from '../send/scan-service.ts';
import type { PanelJobView } from './api-types.ts';

/** Whether a job scanned by `operator` (an account name, or GUEST_OPERATOR) may be shown. */
export type JobVisibility = (operator: string) => boolean;

const everyJob: JobVisibility = () => true;

export class PanelJobViews {
  constructor(private readonly d: { readonly jobs: JobQueue; readonly scans: ScanService }) {}

  /** The newest PANEL_JOBS_SHOWN visible jobs, newest first (scans not yet queued are not listed). */
  list(visible: JobVisibility = everyJob): PanelJobView[] {
    return this.d.jobs
      .list()
      .filter((job) => visible(job.operator.name))
      .slice(0, PANEL_JOBS_SHOWN)
      .map((job) => this.#view(job));
  }

  /** One job, or the scan that will become it; undefined when there is none or it is not visible. */
  get(id: string, visible: JobVisibility = everyJob): PanelJobView | undefined {
    const job = this.d.jobs.get(id);
    if (job) return visible(job.operator.name) ? this.#view(job) : undefined;
    const scan = this.d.scans.scanProgress(id);
    if (!scan || !visible(scan.operator)) return undefined;
    return {
      id,
      createdWallMs: 0,
      operator: scan.operator,
      to: [],
      cc: [],
      bcc: [],
      subject: '',
      pages: scan.pages,
      phase: scan.failed ? 'failed' : 'scanning',
      percent: Math.round((100 * scan.pagesDone) / scan.pages),
      ...(scan.failed ? { code: scan.failed.code } : {}),
      message: scan.failed ? scan.failed.message : `Scanning page ${Math.min(scan.pagesDone + 1, scan.pages)} of ${scan.pages}…`,
    };
  }

  #view(job: JobRecord): PanelJobView {
    const progress = this.d.jobs.progress(job.id);
    const phase: PanelJobView['phase'] = job.state === 'sending' ? (progress?.phase ?? 'connecting') : job.state;
    const percent = job.state === 'delivered' ? 100 : progress && progress.totalBytes > 0 ? Math.min(100, Math.floor((100 * progress.sentBytes) / progress.totalBytes)) : 0;
    const code = job.result?.code;
    const message = resultSentence(job);
    return {
      id: job.id,
      createdWallMs: job.createdWallMs,
      operator: job.operator.name,
      to: job.to,
      cc: job.cc,
      bcc: job.bcc,
      subject: job.subject,
      pages: job.scan.pages,
      phase,
      percent,
      ...(code ? { code } : {}),
      message: job.possibleDuplicate && job.state === 'delivered' ? `${message} (It may have been delivered twice after a power cut.)` : message,
      ...(job.possibleDuplicate ? { possibleDuplicate: true } : {}),
      ...(job.nextAttemptWallMs !== undefined && job.state === 'retrying' ? { nextAttemptWallMs: job.nextAttemptWallMs } : {}),
      scan: job.scan,
      files: job.files.map((f) => f.fileName),
    };
  }
}

/** Where the job is, in the operator's words (device-codes.ts). */
function resultSentence(job: JobRecord): string {
  const code = job.result?.code;
  switch (job.state) {
    case 'delivered':
      return code ? `Sent, but ${uncapitalized(operatorSentence(code, 'delivered-with-problem'))}` : 'Sent.';
    case 'failed':
      return code ? operatorSentence(code) : 'Sending failed.';
    case 'retrying':
      return code ? operatorSentence(code, 'retrying') : 'Sending…';
    case 'queued':
      return 'Waiting to be sent.';
    default:
      return 'Sending…';
  }
}

function uncapitalized(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
