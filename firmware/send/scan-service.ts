/**
 * Scan to e-mail, as the panel starts it: check that sending can work at all, scan into the
 * spool, and record the job in the send queue before the scan is reported done.
 *
 * Nothing is left half-made: a request that cannot be sent is refused before the scanner moves
 * (with the operator's sentence and the device code), a scan that fails leaves nothing in the
 * spool, and the job exists only once its files are whole.
 */
import { SEND_JOB_QUEUE_MAX } from '../defaults.ts';
import type { Clock } from '../hal/clock.ts';
import type { Random } from '../hal/random.ts';
import type { Scanner } from '../hal/scanner.ts';
import type { Spool } from '../hal/spool.ts';
import { newMessageId } from '../mime/compose.ts';
import type { OAuthService } from '../oauth/oauth-service.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { ScanRequestBody } from './scan-request.ts';
import { toHex } from '../encoding.ts';
import { DEVICE_CODES, deviceError, operatorProblem, type OperatorProblem } from '../device-codes.ts';
import type { JobQueue } from './job-queue.ts';

export interface ScanServiceDeps {
  readonly scanner: Scanner;
  readonly spool: Spool;
  readonly jobs: JobQueue;
  readonly clock: Clock;
  readonly random: Random;
  readonly settings: SettingsStore;
  readonly oauth: { readonly microsoft: OAuthService; readonly google: OAuthService };
}

export interface Operator {
  readonly name: string;
  readonly address?: string;
}

/** The operator named on a job scanned while nobody was logged in at the panel. */
export const GUEST_OPERATOR = 'Guest';

/** A scan in progress (RAM), until its job is queued or the scan failed. */
export interface ScanProgress {
  readonly jobId: string;
  /** Who scanned it (GUEST_OPERATOR when nobody was logged in): the panel shows a scan only to them. */
  readonly operator: string;
  readonly pagesDone: number;
  readonly pages: number;
  readonly failed?: OperatorProblem;
}

export type StartResult = { readonly ok: true; readonly jobId: string } | ({ readonly ok: false } & OperatorProblem);

const CONTENT_TYPES = { pdf: 'application/pdf', jpeg: 'image/jpeg' } as const;

export class ScanService {
  readonly #scans = new Map<string, ScanProgress>();
  /** One scan unit: scans run one after the other, in the order they were started. */
  #scanner: Promise<void> = Promise.resolve();

  constructor(private readonly d: ScanServiceDeps) {}

  /** Why sending cannot work now (shown on the panel before anyone scans), or an empty list. */
  problems(): OperatorProblem[] {
    const email = this.d.settings.get('email');
    if (email.smtpHost === '' || email.fromAddress === '') return [operatorProblem(DEVICE_CODES.notConfigured.code)];
    const service = email.authMethod === 'oauth-microsoft' ? this.d.oauth.microsoft : email.authMethod === 'oauth-google' ? this.d.oauth.google : undefined;
    const oauth = service?.sendingProblem();
    return oauth ? [operatorProblem(oauth)] : [];
  }

  scanProgress(jobId: string): ScanProgress | undefined {
    return this.#scans.get(jobId);
  }

  /**
   * Check, then start scanning in the background; the job id is returned at once so the panel
   * can follow the progress (scanProgress, then the queue's job and progress).
   */
  async start(request: ScanRequestBody, operator: Operator): Promise<StartResult> {
    const problem = this.problems()[0];
    if (problem) return { ok: false, ...problem };
    if (request.to.length + request.cc.length + request.bcc.length === 0) return { ok: false, code: DEVICE_CODES.recipientRefused.code, message: 'Choose at least one destination.' };
    if (this.d.jobs.pendingCount() >= SEND_JOB_QUEUE_MAX) return { ok: false, code: DEVICE_CODES.queueFull.code, message: `${DEVICE_CODES.queueFull.admin} ${DEVICE_CODES.queueFull.remedy}` };
    const nowMs = this.d.clock.wallNowMs();
    const jobId = `job-${nowMs.toString(36)}-${toHex(this.d.random.bytes(3))}`;
    this.#scans.set(jobId, { jobId, operator: operator.name, pagesDone: 0, pages: request.pages });
    this.#scanner = this.#scanner.then(() => this.#scanAndQueue(jobId, request, operator, nowMs)).catch(() => {});
    return { ok: true, jobId };
  }

  async #scanAndQueue(jobId: string, request: ScanRequestBody, operator: Operator, nowMs: number): Promise<void> {
    const base = request.fileName.replace(/\.(pdf|jpe?g)$/i, '');
    const names = request.format === 'pdf' ? [`${jobId}.pdf`] : Array.from({ length: request.pages }, (_, i) => `${jobId}-p${i + 1}.jpg`);
    const scanned = await this.d.scanner.scan(
      { jobId, pages: request.pages, colour: request.colour, dpi: request.dpi, format: request.format, wallMs: nowMs, spoolNames: names },
      this.d.spool,
      (done, total) => this.#scans.set(jobId, { jobId, operator: operator.name, pagesDone: done, pages: total }),
    );
    if (!scanned.ok) {
      const error = deviceError(scanned.kind === 'spool-full' ? 'spoolFull' : scanned.kind === 'paper-jam' ? 'paperJam' : 'scannerError');
      this.#scans.set(jobId, { jobId, operator: operator.name, pagesDone: 0, pages: request.pages, failed: { code: error.code, message: `${error.message} ${error.remedy}` } });
      return;
    }
    const files = scanned.files.map((f, i) => ({
      spoolName: f.spoolName,
      fileName: request.format === 'pdf' ? `${base}.pdf` : `${base}-${i + 1}.jpg`,
      contentType: CONTENT_TYPES[request.format],
      sizeBytes: f.sizeBytes,
    }));
    const from = this.d.settings.get('email').fromAddress;
    try {
      await this.d.jobs.submit({
        id: jobId,
        createdWallMs: nowMs,
        operator: { name: operator.name, ...(operator.address ? { address: operator.address } : {}) },
        to: request.to,
        cc: request.cc,
        bcc: request.bcc,
        subject: request.subject,
        body: request.body,
        scan: { format: request.format, colour: request.colour, dpi: request.dpi, pages: request.pages },
        files,
        messageId: newMessageId(from, nowMs, this.d.random),
      });
      this.#scans.delete(jobId);
    } catch (err) {
      for (const f of files) await this.d.spool.remove(f.spoolName).catch(() => {});
      this.#scans.set(jobId, { jobId, operator: operator.name, pagesDone: request.pages, pages: request.pages, failed: { code: DEVICE_CODES.internal.code, message: `The job could not be recorded: ${err instanceof Error ? err.message : String(err)}` } });
    }
  }
}
