/**
 * The send queue: scan-to-email jobs kept in NVRAM and sent one at a time.
 *
 * States: queued → sending → delivered | failed (code) | retrying (next attempt at) → sending …
 *
 * - Every change of state is one atomic NVRAM replace of the job's own record, written BEFORE the
 *   step it announces: a job is recorded "queued" before the scan is reported done, "sending"
 *   (with its attempt number) before the connection opens, and `terminatorAttempt` just before
 *   the final "." is written.
 * - A power cut at any moment loses no job: at the next power-on a job found "sending" is sent
 *   again. It duplicates none, except in the one window RFC 5321 cannot close: a job found with
 *   `terminatorAttempt` equal to its attempt may have been accepted (the server's reply to "."
 *   was lost with the power); it is sent again and flagged `possibleDuplicate` in the job log.
 *   All attempts carry the same Message-ID, so recipients' clients can tell. docs/send-jobs.md.
 * - Transient failures (4xx, network, identity service unreachable) are retried with doubling
 *   waits on the monotonic clock, SEND_JOB_MAX_ATTEMPTS in all (a server's Retry-After, as
 *   Microsoft Graph sends with 429 and 503, replaces the wait, up to GRAPH_RETRY_AFTER_MAX_MS); permanent ones (5xx,
 *   certificates, a void OAuth grant, configuration) fail at once with their device code.
 * - A finished job's spool files are removed; the record stays for the job log (the newest
 *   SEND_JOB_LOG_MAX). Spool files that no unfinished job names are swept at power-on.
 */
import { GRAPH_MESSAGE_MAX_BYTES, GRAPH_MIME_PART_MAX_BYTES, GRAPH_RETRY_AFTER_MAX_MS, SEND_JOB_LOG_MAX, SEND_JOB_MAX_ATTEMPTS, SEND_JOB_RETRY_FIRST_MS, SEND_JOB_RETRY_MAX_MS, SPOOL_READ_CHUNK_BYTES } from '../defaults.ts';
import type { DeviceEvents } from '../events.ts';
import type { Clock, TimerHandle } from '../hal/clock.ts';
import { backoffMs } from '../hal/backoff.ts';
import type { Random } from '../hal/random.ts';
import type { Spool } from '../hal/spool.ts';
import type { Storage } from '../hal/storage.ts';
import { composeMessage, type ComposedMessage, type MessageSpec } from '../mime/compose.ts';
import { newPartialId, PARTIAL_HEADER_ALLOWANCE_BYTES, partialPart, planCuts } from '../mime/partial.ts';
import { deviceError } from '../device-codes.ts';
import { decodeRecord, encodeRecord, type RecordSpec } from '../nvram/nvram.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { EmailTransport, TransportResult } from './email-transport.ts';
import type { GraphAttachmentSource, OutgoingMessage } from './graph-transport.ts';
import { JOB_RECORD_PREFIX, JOB_RECORD_VERSION, jobRecordSchema, type JobRecord } from './job-record.ts';

export interface JobQueueDeps {
  readonly storage: Storage;
  readonly spool: Spool;
  readonly clock: Clock;
  readonly random: Random;
  readonly settings: SettingsStore;
  readonly transport: EmailTransport;
  readonly events: DeviceEvents;
}

/** Where a job being sent is, for the panel's progress bar (RAM only). */
export interface JobProgress {
  readonly phase: 'connecting' | 'sending' | 'finishing';
  /** Wire bytes of the message handed to the network so far, and the total. */
  readonly sentBytes: number;
  readonly totalBytes: number;
}

/** A listener hears every saved change of any job (the panel and the Remote UI poll instead; tests listen). */
export type JobListener = (job: JobRecord) => void;

function specFor(id: string): RecordSpec<JobRecord> {
  return { name: `${JOB_RECORD_PREFIX}${id}`, version: JOB_RECORD_VERSION, schema: jobRecordSchema, factory: () => { throw new Error('a job has no factory value'); } };
}

const FINISHED = new Set(['delivered', 'failed']);

export class JobQueue {
  readonly #d: JobQueueDeps;
  readonly #jobs = new Map<string, JobRecord>();
  readonly #progress = new Map<string, JobProgress>();
  readonly #listeners = new Set<JobListener>();
  #running: Promise<void> | undefined;
  #wakeTimer: TimerHandle | undefined;
  /** After a fault that stopped the queue (an NVRAM write refused): when to try again. */
  #faultTimer: TimerHandle | undefined;
  /** Monotonic time before which a retrying job waits (RAM: after a power-on it is sent at once). */
  readonly #retryAtMono = new Map<string, number>();
  #stopped = false;

  private constructor(deps: JobQueueDeps) {
    this.#d = deps;
  }

  /** Read every job from NVRAM, settle what a power cut left behind, and start sending. */
  static async open(deps: JobQueueDeps): Promise<JobQueue> {
    const queue = new JobQueue(deps);
    await queue.#recover();
    queue.#kick();
    return queue;
  }

  /**
   * Record a new job (the scan is in the spool) as queued, then send it in turn. Its message size
   * is worked out here (the composer knows it exactly before a byte is read); `sizeBytes` given
   * is ignored.
   */
  async submit(job: Omit<JobRecord, 'state' | 'attempts' | 'history' | 'sizeBytes'> & { readonly sizeBytes?: number }): Promise<JobRecord> {
    const draft: JobRecord = { ...job, sizeBytes: 0, state: 'queued', attempts: 0, history: [{ wallMs: this.#d.clock.wallNowMs(), note: 'queued' }] };
    const record: JobRecord = { ...draft, sizeBytes: this.#compose(draft).sizeBytes };
    await this.#save(record);
    this.#kick();
    return record;
  }

  /** Every job, newest first. */
  list(): JobRecord[] {
    return [...this.#jobs.values()].sort((a, b) => b.createdWallMs - a.createdWallMs || (a.id < b.id ? 1 : -1));
  }

  get(id: string): JobRecord | undefined {
    return this.#jobs.get(id);
  }

  progress(id: string): JobProgress | undefined {
    return this.#progress.get(id);
  }

  /** Jobs not finished yet. */
  pendingCount(): number {
    return [...this.#jobs.values()].filter((j) => !FINISHED.has(j.state)).length;
  }

  onChange(listener: JobListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Power off: no new attempt starts (one in flight ends with the process). */
  stop(): void {
    this.#stopped = true;
    this.#wakeTimer?.cancel();
    this.#faultTimer?.cancel();
  }

  /** Resolves when nothing is being sent and nothing is due now (tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  // --- Power-on -------------------------------------------------------------------------------

  async #recover(): Promise<void> {
    const names = (await this.#d.storage.list()).filter((n) => n.startsWith(JOB_RECORD_PREFIX));
    for (const name of names) {
      const id = name.slice(JOB_RECORD_PREFIX.length);
      const read = await this.#d.storage.read(name).catch((e: unknown) => ({ kind: 'unreadable' as const, detail: String(e) }));
      if (read.kind !== 'found') continue;
      const decoded = decodeRecord(specFor(id), read.bytes);
      if (!decoded.ok) {
        // Kept for support, out of the queue: a job that cannot be read cannot be sent safely.
        await this.#d.storage.replace(`quarantine/${name}`, read.bytes).catch(() => {});
        await this.#d.storage.remove(name).catch(() => {});
        this.#d.events.record('nvram-record-reset', 'warn', `Send job record ${id} was unreadable and was set aside (${decoded.reason})`, { record: name });
        continue;
      }
      let job = decoded.value;
      if (job.state === 'sending') {
        // The power went while this job was being sent.
        const inWindow = job.terminatorAttempt !== undefined && job.terminatorAttempt === job.attempts;
        if (job.graphDraftId !== undefined) job = this.#with(job, { note: `the Graph draft of attempt ${job.attempts} is left in the mailbox: the next attempt deletes it` });
        job = this.#with(job, {
          state: 'queued',
          ...(inWindow ? { possibleDuplicate: true } : {}),
          note: inWindow
            ? `power lost after the final "." of attempt ${job.attempts}, before the server's reply: the outcome is unknown; sending again (possible duplicate)`
            : `power lost during attempt ${job.attempts}, before the message was complete: sending again`,
        });
        await this.#save(job);
      }
      this.#jobs.set(job.id, job);
    }
    await this.#sweepSpool();
  }

  /** Spool files no unfinished job names (a cut between the scan and its job record) are removed. */
  async #sweepSpool(): Promise<void> {
    const wanted = new Set<string>();
    for (const job of this.#jobs.values()) if (!FINISHED.has(job.state)) for (const f of job.files) wanted.add(f.spoolName);
    for (const name of await this.#d.spool.list()) if (!wanted.has(name)) await this.#d.spool.remove(name).catch(() => {});
  }

  // --- Sending --------------------------------------------------------------------------------

  #kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#drain()
      .catch((err: unknown) => {
        // Powered off mid-save: the next power-on goes on from what NVRAM holds.
        if (this.#stopped) return;
        // A job record could not be written (NVRAM fault): the job stays as last recorded
        // (a job whose send had begun waits for the power-on check); the queue tries again.
        this.#d.events.record('internal-error', 'error', `The send queue stopped: ${err instanceof Error ? err.message : String(err)}; trying again in ${SEND_JOB_RETRY_FIRST_MS / 1000} s`);
        this.#faultTimer?.cancel();
        this.#faultTimer = this.#d.clock.schedule(SEND_JOB_RETRY_FIRST_MS, () => this.#kick());
      })
      .finally(() => {
        this.#running = undefined;
        this.#scheduleWake();
      });
  }

  /** Send every job that is due, oldest first, one at a time. */
  async #drain(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const now = this.#d.clock.monoNowMs();
      const due = [...this.#jobs.values()]
        .filter((j) => j.state === 'queued' || (j.state === 'retrying' && (this.#retryAtMono.get(j.id) ?? 0) <= now))
        .sort((a, b) => a.createdWallMs - b.createdWallMs || (a.id < b.id ? -1 : 1));
      const job = due[0];
      if (!job) return;
      await this.#attempt(job);
    }
  }

  /** Wake for the earliest retry. */
  #scheduleWake(): void {
    this.#wakeTimer?.cancel();
    this.#wakeTimer = undefined;
    if (this.#stopped) return;
    const waits = [...this.#jobs.values()].filter((j) => j.state === 'retrying').map((j) => this.#retryAtMono.get(j.id) ?? 0);
    if (waits.length === 0) return;
    const at = Math.min(...waits);
    this.#wakeTimer = this.#d.clock.schedule(Math.max(0, at - this.#d.clock.monoNowMs()), () => this.#kick());
  }

  async #attempt(queued: JobRecord): Promise<void> {
    const attempt = queued.attempts + 1;
    let job = this.#with(queued, { state: 'sending', attempts: attempt, note: `attempt ${attempt} of ${SEND_JOB_MAX_ATTEMPTS}` });
    delete (job as { nextAttemptWallMs?: number }).nextAttemptWallMs;
    await this.#save(job);
    this.#progress.set(job.id, { phase: 'connecting', sentBytes: 0, totalBytes: job.sizeBytes });

    let outcome: TransportResult;
    try {
      const message = this.#compose(job);
      if (message.sizeBytes !== job.sizeBytes) job = { ...job, sizeBytes: message.sizeBytes }; // the settings changed since
      const email = this.#d.settings.get('email');
      const maxBytes = email.maxMessageMb * 1_000_000;
      const recipients = [...job.to, ...job.cc, ...job.bcc];
      const graph = email.communicationType === 'graph';
      /** Send one message (the whole, or a part); `done` = wire bytes of the earlier parts, for the progress bar. */
      const sendOne = (m: OutgoingMessage, done: number): Promise<TransportResult> =>
        this.#d.transport.send(email, m, recipients, 'send', {
          ...(job.graphDraftId !== undefined ? { staleDraftId: job.graphDraftId } : {}),
          onDraft: async (draftId) => {
            if (job.graphDraftId === draftId) return;
            job = { ...job, ...(draftId === undefined ? {} : { graphDraftId: draftId }) };
            if (draftId === undefined) delete (job as { graphDraftId?: string }).graphDraftId;
            await this.#save(job);
          },
          onDataProgress: (sentBytes) => this.#progress.set(job.id, { phase: 'sending', sentBytes: Math.min(job.sizeBytes, done + sentBytes), totalBytes: job.sizeBytes }),
          beforeTerminator: async () => {
            this.#progress.set(job.id, { phase: 'finishing', sentBytes: Math.min(job.sizeBytes, done + m.sizeBytes), totalBytes: job.sizeBytes });
            job = { ...job, terminatorAttempt: attempt };
            await this.#save(job);
          },
        });
      if (maxBytes > 0 && message.sizeBytes > maxBytes && !email.dividedSending) {
        const e = deviceError('overMaxSize');
        outcome = { ok: false, code: e.code, message: `${e.message} (${(message.sizeBytes / 1_000_000).toFixed(1)} MB, limit ${email.maxMessageMb} MB)`, remedy: e.remedy, transcriptId: '', transient: false };
      } else if ((maxBytes > 0 && message.sizeBytes > maxBytes) || (graph && email.dividedSending && message.sizeBytes > GRAPH_MESSAGE_MAX_BYTES)) {
        // Graph takes a part as MIME sendMail, one request of at most 4 MB: parts are cut to fit that too.
        const partBytes = graph ? Math.min(maxBytes > 0 ? maxBytes : Infinity, GRAPH_MIME_PART_MAX_BYTES) : maxBytes;
        const bcc = graph ? { graph: { bcc: job.bcc } } : {};
        outcome = await this.#sendDivided(job, message, partBytes, (m, done) => sendOne(Object.assign(m, bcc), done), (updated) => (job = updated));
      } else {
        outcome = await sendOne(message, 0);
        // Over the server's SIZE (RFC 1870), refused before any data: divide to fit it, if allowed.
        if (!outcome.ok && outcome.serverSizeLimit !== undefined && email.dividedSending && outcome.serverSizeLimit > 2 * PARTIAL_HEADER_ALLOWANCE_BYTES) {
          outcome = await this.#sendDivided(job, message, outcome.serverSizeLimit, (m, done) => sendOne(m, done), (updated) => (job = updated));
        }
      }
    } catch (err) {
      if (this.#stopped) return;
      // composeMessage refuses a job it cannot write (it was validated at submit: a firmware bug).
      const e = deviceError('internal');
      outcome = { ...e, ok: false, message: `The message could not be made: ${err instanceof Error ? err.message : String(err)}`, remedy: 'Scan again.', transcriptId: '' };
    }
    this.#progress.delete(job.id);
    if (this.#stopped) return; // powered off meanwhile: the record says what the next power-on needs
    await this.#settle(job, outcome);
  }

  /**
   * Divided sending: the message as message/partial parts of at most `maxBytes` each, sent one
   * after the other; each accepted part is recorded, so a retry or a power-on goes on from the
   * next one and no part is sent twice outside RFC 5321's window.
   */
  async #sendDivided(
    job: JobRecord,
    message: ComposedMessage,
    maxBytes: number,
    sendOne: (m: ComposedMessage, done: number) => Promise<TransportResult>,
    update: (job: JobRecord) => void,
  ): Promise<TransportResult> {
    const cuts = await planCuts(message, maxBytes - PARTIAL_HEADER_ALLOWANCE_BYTES);
    const total = cuts.length - 1;
    let current = job;
    if (current.partialId === undefined || current.partsTotal !== total) {
      current = { ...current, partialId: newPartialId(this.#d.settings.get('email').fromAddress, this.#d.random), partsTotal: total, partsSent: 0 };
      update(current);
      await this.#save(current);
    }
    const email = this.#d.settings.get('email');
    const device = this.#d.settings.get('device');
    let last: TransportResult | undefined;
    for (let n = (current.partsSent ?? 0) + 1; n <= total; n++) {
      const part = partialPart(message, {
        from: this.#from(current, email, device),
        to: current.to.map((address) => ({ address })),
        cc: current.cc.map((address) => ({ address })),
        subject: current.subject,
        dateWallMs: current.createdWallMs,
        timeZone: this.#d.settings.get('datetime').timeZone,
        partialId: current.partialId!,
        number: n,
        total,
        start: cuts[n - 1]!,
        end: cuts[n]!,
        messageId: `<part${n}.${current.partialId!}>`,
      });
      last = await sendOne(part, cuts[n - 1]!);
      if (!last.ok) return { ...last, message: `Part ${n} of ${total}: ${last.message}` };
      current = { ...this.#jobs.get(current.id)!, partsSent: n };
      delete (current as { terminatorAttempt?: number }).terminatorAttempt;
      update(current);
      await this.#save(current);
    }
    return { ...last!, message: `Sent in ${total} parts. ${last!.message}` };
  }

  /**
   * The job's message: composed for SMTP (and for its size), with its fields and Bcc for Graph,
   * whose files can be read again from any offset (a resumed upload).
   */
  #compose(job: JobRecord): OutgoingMessage {
    const spec = this.#spec(job);
    return Object.assign(composeMessage(spec, this.#d.random), { graph: { spec, bcc: job.bcc } });
  }

  #spec(job: JobRecord): MessageSpec & { readonly attachments: readonly GraphAttachmentSource[] } {
    const email = this.#d.settings.get('email');
    const device = this.#d.settings.get('device');
    const spool = this.#d.spool;
    const replyTo =
      email.replyToPolicy === 'operator' && job.operator.address
        ? { replyTo: { address: job.operator.address, displayName: job.operator.name } }
        : email.replyToPolicy === 'fixed' && email.replyToAddress
          ? { replyTo: { address: email.replyToAddress } }
          : {};
    return {
      from: this.#from(job, email, device),
      to: job.to.map((address) => ({ address })),
      cc: job.cc.map((address) => ({ address })),
      ...replyTo,
      subject: job.subject,
      text: job.body,
      attachments: job.files.map((f) => ({
        fileName: f.fileName,
        contentType: f.contentType,
        sizeBytes: f.sizeBytes,
        chunks: () => spool.read(f.spoolName, SPOOL_READ_CHUNK_BYTES),
        readFrom: (startByte: number, chunkBytes: number) => spool.read(f.spoolName, chunkBytes, startByte),
      })),
      dateWallMs: job.createdWallMs,
      timeZone: this.#d.settings.get('datetime').timeZone,
      messageId: job.messageId,
    };
  }

  /** From: the service mailbox, named after the operator or the device (E-mail settings' display name policy). */
  #from(job: JobRecord, email: { fromAddress: string; displayNamePolicy: 'device' | 'operator' }, device: { name: string }) {
    const name = email.displayNamePolicy === 'operator' && job.operator.name && job.operator.name !== 'Guest' ? job.operator.name : device.name;
    return { address: email.fromAddress, displayName: name };
  }

  async #settle(job: JobRecord, outcome: TransportResult): Promise<void> {
    const result = { message: outcome.message, ...(outcome.code ? { code: outcome.code } : {}), ...(outcome.remedy ? { remedy: outcome.remedy } : {}), ...(outcome.transcriptId ? { transcriptId: outcome.transcriptId } : {}) };
    const recipients = outcome.recipients ? { recipients: outcome.recipients.map((r) => ({ ...r })) } : {};
    const base = { ...job, result, ...recipients };
    delete (base as { terminatorAttempt?: number }).terminatorAttempt;
    if (outcome.ok) {
      await this.#finish(this.#with(base, { state: 'delivered', note: outcome.code ? `delivered, some recipients refused (${outcome.code})` : 'delivered' }));
      return;
    }
    if (outcome.transient && job.attempts < SEND_JOB_MAX_ATTEMPTS) {
      // The server said how long to wait (Retry-After): that, bounded, instead of the usual steps.
      const waitMs =
        outcome.retryAfterMs !== undefined
          ? Math.min(Math.max(0, outcome.retryAfterMs), GRAPH_RETRY_AFTER_MAX_MS)
          : backoffMs(job.attempts, { firstMs: SEND_JOB_RETRY_FIRST_MS, maxMs: SEND_JOB_RETRY_MAX_MS }, this.#d.random);
      this.#retryAtMono.set(job.id, this.#d.clock.monoNowMs() + waitMs);
      const next = this.#d.clock.wallNowMs() + waitMs;
      await this.#save(this.#with(base, { state: 'retrying', nextAttemptWallMs: next, note: `${outcome.code ?? ''} ${outcome.message}: retry in ${Math.round(waitMs / 1000)} s`.trim() }));
      return;
    }
    const why = outcome.transient ? `gave up after ${job.attempts} attempts` : 'not retried (permanent)';
    await this.#finish(this.#with(base, { state: 'failed', note: `${outcome.code ?? ''} ${outcome.message} (${why})`.trim() }));
  }

  async #finish(job: JobRecord): Promise<void> {
    const done = { ...job, finishedWallMs: this.#d.clock.wallNowMs() };
    await this.#save(done);
    this.#retryAtMono.delete(job.id);
    for (const f of job.files) await this.#d.spool.remove(f.spoolName).catch(() => {});
    this.#d.events.record(
      job.state === 'delivered' ? 'send-job-delivered' : 'send-job-failed',
      job.state === 'delivered' ? 'info' : 'warn',
      `Send job ${job.id} ${job.state}${job.result?.code ? ` (${job.result.code})` : ''}`,
      { job: job.id, ...(job.result?.code ? { code: job.result.code } : {}) },
    );
    await this.#trimLog();
  }

  /** Keep the newest SEND_JOB_LOG_MAX finished jobs. */
  async #trimLog(): Promise<void> {
    const finished = this.list().filter((j) => FINISHED.has(j.state));
    for (const old of finished.slice(SEND_JOB_LOG_MAX)) {
      this.#jobs.delete(old.id);
      await this.#d.storage.remove(`${JOB_RECORD_PREFIX}${old.id}`).catch(() => {});
    }
  }

  #with(job: JobRecord, change: Partial<JobRecord> & { note: string }): JobRecord {
    const { note, ...rest } = change;
    return { ...job, ...rest, history: [...job.history, { wallMs: this.#d.clock.wallNowMs(), note }] };
  }

  async #save(job: JobRecord): Promise<void> {
    // Powered off: nothing more reaches NVRAM (in the simulator the next power-on may already be
    // reading it), and a send still in flight is abandoned before its final ".".
    if (this.#stopped) throw new Error('the device is powered off');
    await this.#d.storage.replace(`${JOB_RECORD_PREFIX}${job.id}`, encodeRecord(specFor(job.id), job));
    this.#jobs.set(job.id, job);
    for (const l of this.#listeners) l(job);
  }
}
