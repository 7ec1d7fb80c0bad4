/**
 * Sending through Microsoft Graph (Communication Type: Microsoft Graph): the thin driver of the
 * builders and processors in firmware/graph, over the Http port, with the device's own trust
 * decision on Graph's certificate (verifyChain at device time, the E-mail page's Verify Server
 * Certificate and Add CN) and a redacted transcript of every exchange.
 *
 * - A message whose whole sendMail request fits in 4 MB goes in one sendMail (JSON, files as
 *   base64 inside). A larger one becomes a draft: files under 3 MB are added with
 *   `POST …/attachments`, larger ones through an upload session in ranged PUTs read from the spool
 *   one chunk at a time (one buffer; no Authorization header on the upload URL); then the draft is
 *   sent (graph-exchange.md A, B).
 * - A dropped or timed-out PUT: the session is asked (GET on the upload URL) what it still needs and
 *   the upload goes on from there, GRAPH_UPLOAD_RESUME_MAX times per file; an expired or lost session
 *   starts the file again in a new one. A failed or cancelled attempt deletes its upload session and
 *   its draft, best effort; the draft's id is given to the job (hooks) so that an attempt cut by a
 *   power cut has it deleted at the next one.
 * - A 401 makes the OAuth service refresh and the request is tried once more, as XOAUTH2 does.
 *   429 and 503 carry Retry-After to the job queue, which waits that long (bounded).
 * - A message without its fields (`graph.spec`) — a divided-sending part, an RFC 2046
 *   message/partial — goes as MIME sendMail: the part in base64, Bcc as a header Graph removes.
 *
 * Deliberately not done: parallel chunk uploads (Outlook takes bytes in order), HTML bodies,
 * JSON batching.
 */
import {
  GRAPH_HTTP_TIMEOUT_MS,
  GRAPH_INTERACTIVE_TIMEOUT_MS,
  GRAPH_MESSAGE_MAX_BYTES,
  GRAPH_REQUEST_MAX_BYTES,
  GRAPH_RESPONSE_MAX_BYTES,
  GRAPH_UPLOAD_CHUNK_BYTES,
  GRAPH_UPLOAD_RESTART_MAX,
  GRAPH_UPLOAD_RESUME_MAX,
} from '../defaults.ts';
import { deviceError, notConfiguredError, type DeviceCodeName } from '../device-codes.ts';
import { base64Length, Base64Writer } from '../graph/base64-writer.ts';
import { graphBaseUrl, graphMailbox, mailboxUrl } from '../graph/graph-endpoint.ts';
import { graphFailureName } from '../graph/graph-failure.ts';
import {
  attachmentRoute,
  buildAddAttachmentRequest,
  buildCancelUploadRequest,
  buildChunkRequest,
  buildCreateDraftRequest,
  buildCreateUploadSessionRequest,
  buildDeleteDraftRequest,
  buildMailboxProbeRequest,
  buildMimeSendMailRequest,
  buildSendDraftRequest,
  buildSendMailRequest,
  buildUploadStatusRequest,
  draftUrl,
  fillJsonWithFiles,
  fitsSendMail,
  planAttachmentBody,
  planSendMailBody,
  processAccepted,
  processAddAttachment,
  processChunk,
  processCreateDraft,
  processCreateUploadSession,
  processDeleted,
  processMailboxProbe,
  processUploadStatus,
  type GraphAnswer,
  type GraphError,
  type GraphFile,
  type GraphMessageInput,
  type GraphRequest,
  type Processed,
} from '../graph/graph-requests.ts';
import { answerLines, requestLines } from '../graph/http-transcript-lines.ts';
import type { Clock } from '../hal/clock.ts';
import type { Http, PeerVerdict } from '../hal/http.ts';
import type { NetError, TlsInfo } from '../hal/net.ts';
import type { ComposedMessage, MessageSpec } from '../mime/compose.ts';
import type { OAuthService } from '../oauth/oauth-service.ts';
import type { CaStore } from '../pki/ca-store.ts';
import { describeProblem, explainProblems } from '../pki/cert-problems.ts';
import { verifyChain, type ChainVerdict } from '../pki/verify-chain.ts';
import type { EmailSettings } from '../settings/schemas.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import { Transcript } from '../smtp/transcript.ts';
import { failureWords, unverifiedCertificateWarning, type ConnectionCheck, type GraphRungOutcome, type SendFailure } from './send-outcome.ts';
import type { TranscriptLog } from './transcript-log.ts';

/**
 * A file of the scan, readable again from a byte offset (a resumed upload) in chunks of a given
 * size (one upload chunk per read); the spool gives that.
 */
export interface GraphAttachmentSource extends GraphFile {
  readFrom?(startByte: number, chunkBytes: number): AsyncIterable<Uint8Array>;
}

/** What the Graph path needs of a message besides its MIME form. */
export interface GraphContent {
  /** The message's fields as the composer had them; absent for a divided-sending part (sent as MIME). */
  readonly spec?: MessageSpec & { readonly attachments: readonly GraphAttachmentSource[] };
  readonly bcc: readonly string[];
}

/** A composed message, with its fields for Graph when the sender has them. */
export type OutgoingMessage = ComposedMessage & { readonly graph?: GraphContent };

/** The job's hooks into a Graph send (firmware/send/job-queue.ts). */
export interface GraphSendHooks {
  /** Raw bytes of the files uploaded so far, scaled to the message's size (the progress bar counts that). */
  readonly onDataProgress?: (wireBytes: number) => void;
  /** Just before the request that sends (sendMail or send): a lost answer after it may mean a duplicate. */
  readonly beforeTerminator?: () => Promise<void>;
  /** A draft an earlier attempt left (its id was recorded): deleted first, best effort. */
  readonly staleDraftId?: string;
  /** The draft of this attempt (undefined: none is left any more), for the job record. */
  readonly onDraft?: (draftId: string | undefined) => Promise<void>;
}

export interface GraphTransportDeps {
  readonly http: Http;
  readonly clock: Clock;
  readonly settings: SettingsStore;
  readonly caStore: CaStore;
  readonly transcripts: TranscriptLog;
  readonly oauth?: { readonly microsoft: OAuthService };
}

/** How a Graph send ended: the outcome's fields and, for throttling, how long to wait. */
export interface GraphSendResult {
  readonly ok: boolean;
  readonly failure?: SendFailure;
  readonly retryAfterMs?: number;
  readonly message: string;
  readonly transcriptId: string;
  readonly certificateWarning?: string;
}

/** A failure on the way, as the driver passes it up. */
interface Failed {
  readonly failure: SendFailure;
  readonly retryAfterMs?: number;
}

type Called = { readonly ok: true; readonly answer: GraphAnswer; readonly tls: TlsInfo | undefined } | { readonly ok: false; readonly failed: Failed; readonly net?: NetError; readonly untrusted?: boolean };

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * One send's (or check's) conversation with Graph: the token, the trust decision, the transcript,
 * and a single retry after a 401 with a refreshed token.
 */
class GraphConversation {
  readonly transcript = new Transcript();
  readonly verdicts: ChainVerdict[] = [];
  #tokenRefreshed = false;
  #tlsNoted = new Set<string>();

  constructor(
    private readonly deps: GraphTransportDeps,
    private readonly settings: EmailSettings,
    private token: string | undefined,
    /** Per request, ms: shorter for an action an administrator waits for. */
    private readonly timeoutMs: number = GRAPH_HTTP_TIMEOUT_MS,
  ) {}

  now(): number {
    return this.deps.clock.monoNowMs();
  }

  note(text: string): void {
    this.transcript.note(this.now(), text);
  }

  async call(request: GraphRequest, maxBodyBytes = GRAPH_RESPONSE_MAX_BYTES): Promise<Called> {
    const headers: Record<string, string> = { ...request.headers };
    if (request.authorized && this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    for (const line of requestLines(request)) this.transcript.client(this.now(), line);
    const host = new URL(request.url).hostname;
    const result = await this.deps.http.request(
      { method: request.method, url: request.url, headers, ...(request.body ? { body: request.body } : {}), timeoutMs: this.timeoutMs, maxBodyBytes },
      (tls, peerHost) => this.#verifyPeer(tls, peerHost),
    );
    if (!result.ok) {
      if (result.kind === 'net') {
        this.note(`${host}: ${result.error.kind}: ${result.error.detail}`);
        return { ok: false, failed: { failure: netFailure(result.error) }, net: result.error };
      }
      if (result.kind === 'untrusted') {
        const explained = explainProblems(this.verdicts.at(-1)?.problems ?? []);
        this.note(`${host}: certificate not trusted; nothing was sent`);
        return { ok: false, failed: { failure: explained ?? deviceError('untrusted') }, untrusted: true };
      }
      this.note(`${host}: the answer was longer than ${result.limitBytes} bytes`);
      return { ok: false, failed: { failure: { ...deviceError('protocol'), detail: `${host} answered more than ${result.limitBytes} bytes` } } };
    }
    const response = result.response;
    if (response.tls && !this.#tlsNoted.has(host)) {
      this.#tlsNoted.add(host);
      const v = this.verdicts.at(-1);
      this.transcript.tls(this.now(), { version: response.tls.version, cipher: response.tls.cipher, ...(v ? { peer: v.path.map((c) => c.subject).join(' ← ') } : {}) });
    }
    const answer: GraphAnswer = { status: response.status, headers: response.headers, bodyText: decoder.decode(response.body) };
    for (const line of answerLines(answer)) this.transcript.server(this.now(), line);
    // A refused token: one refresh, then the same request once more (as XOAUTH2's retry).
    if (answer.status === 401 && request.authorized && !this.#tokenRefreshed && this.deps.oauth) {
      this.#tokenRefreshed = true;
      const oauth = this.deps.oauth.microsoft;
      oauth.onAccessTokenRejected();
      const fresh = await oauth.accessToken('graph');
      if (fresh.ok) {
        this.token = fresh.accessToken;
        this.note('the access token was refused: refreshed it, trying once more');
        return this.call(request, maxBodyBytes);
      }
    }
    return { ok: true, answer, tls: response.tls };
  }

  async #verifyPeer(tls: TlsInfo, host: string): Promise<PeerVerdict> {
    const verdict = await verifyChain(tls.peerChainDer, {
      nowMs: this.deps.clock.wallNowMs(),
      trustAnchorsDer: this.deps.caStore.anchorsDer(),
      ...(this.settings.addCnToVerification ? { expectedHost: host } : {}),
    });
    this.verdicts.push(verdict);
    if (verdict.trusted || !this.settings.verifyServerCertificate) return { trusted: true };
    return { trusted: false, reason: verdict };
  }

  /** Call, then process a 2xx answer; a refusal or a failure on the way becomes a device failure. */
  async exchange<T>(request: GraphRequest, process: (answer: GraphAnswer) => Processed<T>): Promise<{ ok: true; value: T } | { ok: false; failed: Failed; error?: GraphError; net?: NetError }> {
    const called = await this.call(request);
    if (!called.ok) return { ok: false, failed: called.failed, ...(called.net ? { net: called.net } : {}) };
    const processed = process(called.answer);
    if (processed.ok) return processed;
    return { ok: false, failed: graphFailed(processed.error), error: processed.error };
  }
}

function graphFailed(e: GraphError): Failed {
  const named = graphFailureName(e);
  return { failure: { ...deviceError(named.name), detail: named.detail }, ...(named.retryAfterMs !== undefined ? { retryAfterMs: named.retryAfterMs } : {}) };
}

/** The SMTP path's names for what the network did (device codes #80x, #81x). */
function netFailure(error: NetError): SendFailure {
  const name: DeviceCodeName =
    error.kind === 'dns'
      ? 'dns'
      : error.kind === 'refused'
        ? 'refused'
        : error.kind === 'timeout'
          ? 'timeout'
          : error.kind === 'tls-version'
            ? 'tlsVersion'
            : error.kind === 'tls-handshake'
              ? 'tlsHandshake'
              : 'connectionLost';
  return { ...deviceError(name), detail: `${error.kind}: ${error.detail}` };
}

const TOKEN_OK = 'Microsoft Entra ID issued a new access token for Microsoft Graph: the refresh works.';

/** Net errors after which a PUT may have half arrived: ask the session where it stands. */
const RESUMABLE: ReadonlySet<NetError['kind']> = new Set(['timeout', 'reset', 'closed', 'other']);

export class GraphTransport {
  constructor(private readonly deps: GraphTransportDeps) {}

  /** Why these settings cannot send through Graph, before anything is asked of a server. */
  missing(settings: EmailSettings): SendFailure | undefined {
    const empty = [settings.userName === '' ? 'User Name' : '', settings.fromAddress === '' ? 'E-mail Address (From)' : ''].filter(Boolean);
    if (empty.length > 0) return notConfiguredError(empty);
    if (settings.authMethod !== 'oauth-microsoft') return deviceError('graphNeedsOAuth');
    return undefined;
  }

  async #token(fresh: boolean): Promise<{ ok: true; token: string } | { ok: false; failure: SendFailure }> {
    const oauth = this.deps.oauth?.microsoft;
    if (!oauth) return { ok: false, failure: deviceError('oauthNotRegistered') };
    const got = fresh ? await oauth.freshAccessToken('graph') : await oauth.accessToken('graph');
    return got.ok ? { ok: true, token: got.accessToken } : { ok: false, failure: got.failure };
  }

  #mailbox(settings: EmailSettings): string {
    const oauth = this.deps.settings.get('oauthMicrosoft');
    return mailboxUrl(graphBaseUrl(oauth), graphMailbox(oauth, settings));
  }

  /** Send a message. Never throws. */
  async send(settings: EmailSettings, message: OutgoingMessage, recipients: readonly string[], kind: 'test' | 'send', hooks: GraphSendHooks = {}): Promise<GraphSendResult> {
    const missing = this.missing(settings);
    if (missing) return { ok: false, failure: missing, ...failureWords(missing), transcriptId: '' };
    if (message.sizeBytes > GRAPH_MESSAGE_MAX_BYTES) {
      const failure = { ...deviceError('graphMessageTooLarge'), detail: `${(message.sizeBytes / 1_000_000).toFixed(1)} MB` };
      return { ok: false, failure, ...failureWords(failure), transcriptId: '' };
    }
    const token = await this.#token(false);
    if (!token.ok) return { ok: false, failure: token.failure, ...failureWords(token.failure), transcriptId: '' };
    const talk = new GraphConversation(this.deps, settings, token.token, kind === 'test' ? GRAPH_INTERACTIVE_TIMEOUT_MS : GRAPH_HTTP_TIMEOUT_MS);
    const startedWallMs = this.deps.clock.wallNowMs();
    const mailbox = this.#mailbox(settings);
    let failed: Failed | undefined;
    try {
      failed = await this.#deliver(talk, mailbox, settings, message, recipients, hooks);
    } catch (err) {
      // A spool file that cannot be read, or one that changed size: the device's own fault.
      failed = { failure: { ...deviceError('internal'), detail: err instanceof Error ? err.message : String(err) } };
    }
    talk.note(failed ? `result: ${failed.failure.code} ${failed.failure.message}` : 'result: accepted by Microsoft Graph');
    const record = this.deps.transcripts.add({
      kind,
      startedWallMs,
      server: new URL(mailbox).host,
      ok: failed === undefined,
      ...(failed ? { code: failed.failure.code } : {}),
      text: talk.transcript.toText(),
    });
    const certificateWarning = unverifiedCertificateWarning(settings, talk.verdicts.at(-1)?.problems.map(describeProblem));
    const warning = certificateWarning ? { certificateWarning } : {};
    if (failed) return { ok: false, failure: failed.failure, ...failureWords(failed.failure), transcriptId: record.id, ...(failed.retryAfterMs !== undefined ? { retryAfterMs: failed.retryAfterMs } : {}), ...warning };
    return { ok: true, message: `Accepted by Microsoft Graph (${new URL(mailbox).host}) for ${recipients.length} recipient${recipients.length === 1 ? '' : 's'}.`, transcriptId: record.id, ...warning };
  }

  async #deliver(talk: GraphConversation, mailbox: string, settings: EmailSettings, message: OutgoingMessage, recipients: readonly string[], hooks: GraphSendHooks): Promise<Failed | undefined> {
    const spec = message.graph?.spec;
    const bcc = message.graph?.bcc ?? [];
    if (!spec) return this.#sendMime(talk, mailbox, message, bcc, hooks);
    const input: GraphMessageInput = { spec, bcc, mailboxAddress: settings.userName };
    const files = spec.attachments;
    const plan = planSendMailBody(input, files);
    if (fitsSendMail(plan)) {
      talk.note(`sendMail: the request is ${plan.sizeBytes} bytes (within ${GRAPH_REQUEST_MAX_BYTES})`);
      if (hooks.staleDraftId) await this.#deleteDraft(talk, mailbox, hooks.staleDraftId, hooks);
      const body = await fillJsonWithFiles(plan);
      await hooks.beforeTerminator?.();
      const sent = await talk.exchange(buildSendMailRequest(mailbox, body), (a) => processAccepted(a, this.deps.clock.wallNowMs()));
      hooks.onDataProgress?.(message.sizeBytes);
      return sent.ok ? undefined : sent.failed;
    }
    talk.note(`draft and upload: a sendMail request would be ${plan.sizeBytes} bytes (over ${GRAPH_REQUEST_MAX_BYTES})`);
    return this.#sendDraft(talk, mailbox, input, message.sizeBytes, hooks);
  }

  async #sendDraft(talk: GraphConversation, mailbox: string, input: GraphMessageInput, messageBytes: number, hooks: GraphSendHooks): Promise<Failed | undefined> {
    const now = () => this.deps.clock.wallNowMs();
    if (hooks.staleDraftId) await this.#deleteDraft(talk, mailbox, hooks.staleDraftId, hooks);
    const created = await talk.exchange(buildCreateDraftRequest(mailbox, input), (a) => processCreateDraft(a, now()));
    if (!created.ok) return created.failed;
    const draft = draftUrl(mailbox, created.value.id);
    await hooks.onDraft?.(created.value.id);
    const files = input.spec.attachments as readonly GraphAttachmentSource[];
    const totalRaw = files.reduce((n, f) => n + f.sizeBytes, 0);
    let doneRaw = 0;
    const progress = (bytes: number) => hooks.onDataProgress?.(totalRaw === 0 ? 0 : Math.floor(((doneRaw + bytes) / totalRaw) * messageBytes));
    for (const file of files) {
      let failed: Failed | undefined;
      let viaSession = attachmentRoute(file.sizeBytes) === 'session';
      if (!viaSession) {
        // "Under 3 MB" (A), although its base64 may take the request past 4 MB.
        const added = await talk.exchange(buildAddAttachmentRequest(draft, await fillJsonWithFiles(planAttachmentBody(file))), (a) => processAddAttachment(a, now()));
        // A server whose request limit shows through (413; seen at 3,145,612 bytes): an upload session then (seen taking files from 2 MiB).
        if (!added.ok && added.failed.failure.code === deviceError('graphRequestTooLarge').code) viaSession = true;
        else if (!added.ok) failed = added.failed;
      }
      if (viaSession) failed = await this.#uploadFile(talk, draft, file, progress);
      if (failed) {
        await this.#deleteDraft(talk, mailbox, created.value.id, hooks);
        return failed;
      }
      doneRaw += file.sizeBytes;
      progress(0);
    }
    await hooks.beforeTerminator?.();
    const sent = await talk.exchange(buildSendDraftRequest(draft), (a) => processAccepted(a, now()));
    if (!sent.ok) {
      // The draft stays unsent: remove it (a refused send leaves it in Drafts otherwise).
      await this.#deleteDraft(talk, mailbox, created.value.id, hooks);
      return sent.failed;
    }
    // Sent: the record forgets the draft (a power cut now leaves the job in the terminator window instead).
    await hooks.onDraft?.(undefined).catch(() => {});
    return undefined;
  }

  /** Best effort: a draft that cannot be deleted now is Exchange's to keep; the transcript says so. */
  async #deleteDraft(talk: GraphConversation, mailbox: string, draftId: string, hooks: GraphSendHooks): Promise<void> {
    const deleted = await talk.exchange(buildDeleteDraftRequest(draftUrl(mailbox, draftId)), (a) => processDeleted(a, this.deps.clock.wallNowMs()));
    if (deleted.ok || deleted.error?.status === 404) await hooks.onDraft?.(undefined).catch(() => {});
    else talk.note(`the draft ${draftId} could not be deleted; it stays in the mailbox's Drafts`);
  }

  /**
   * One file through an upload session: ranged PUTs of GRAPH_UPLOAD_CHUNK_BYTES read from the
   * spool into one buffer. The session says where to go on (`nextExpectedRanges`); after a lost
   * PUT the device asks it.
   */
  async #uploadFile(talk: GraphConversation, draft: string, file: GraphAttachmentSource, progress: (bytes: number) => void): Promise<Failed | undefined> {
    const now = () => this.deps.clock.wallNowMs();
    const total = file.sizeBytes;
    const chunkBytes = Math.min(GRAPH_UPLOAD_CHUNK_BYTES, Math.max(1, total));
    for (let restart = 0; ; restart++) {
      const session = await talk.exchange(buildCreateUploadSessionRequest(draft, file), (a) => processCreateUploadSession(a, total, now()));
      if (!session.ok) return session.failed;
      const { uploadUrl } = session.value;
      const reader = new SpoolCursor(file, chunkBytes);
      let offset = session.value.nextStart;
      let resumes = 0;
      let outcome: 'done' | 'lost' | Failed | undefined;
      while (outcome === undefined) {
        const chunk = await reader.read(offset, Math.min(chunkBytes, total - offset));
        const put = await talk.call(buildChunkRequest(uploadUrl, offset, chunk, total));
        let next: Processed<{ kind: 'next'; nextStart: number } | { kind: 'done' }> | undefined;
        if (put.ok) next = processChunk(put.answer, total, now());
        else if (put.net && RESUMABLE.has(put.net.kind) && resumes < GRAPH_UPLOAD_RESUME_MAX) {
          resumes++;
          talk.note(`the chunk at ${offset} was lost (${put.net.kind}); asking the upload session what it still needs (${resumes} of ${GRAPH_UPLOAD_RESUME_MAX})`);
          const status = await talk.call(buildUploadStatusRequest(uploadUrl));
          if (!status.ok) {
            outcome = status.failed;
            break;
          }
          next = processUploadStatus(status.answer, total, now());
        } else {
          outcome = put.failed;
          break;
        }
        if (next.ok) {
          if (next.value.kind === 'done') outcome = 'done';
          else if (next.value.nextStart <= offset && put.ok && ++resumes > GRAPH_UPLOAD_RESUME_MAX) {
            // A session that takes chunks but never moves on: not worth more of the attempt.
            outcome = { failure: { ...deviceError('protocol'), detail: `the upload session keeps asking for byte ${next.value.nextStart} of ${file.fileName}` } };
          } else {
            offset = next.value.nextStart;
            progress(offset);
          }
        } else if (next.error.status === 404) outcome = 'lost';
        else if (next.error.status === 416 && resumes < GRAPH_UPLOAD_RESUME_MAX) {
          // Overlap or out of order: the session knows better where it stands.
          resumes++;
          const status = await talk.call(buildUploadStatusRequest(uploadUrl));
          const where = status.ok ? processUploadStatus(status.answer, total, now()) : undefined;
          if (where?.ok && where.value.kind === 'next') offset = where.value.nextStart;
          else if (where?.ok) outcome = 'done';
          else outcome = status.ok ? graphFailed(next.error) : status.failed;
        } else outcome = graphFailed(next.error);
      }
      await reader.close();
      if (outcome === 'done') {
        progress(total);
        return undefined;
      }
      if (outcome === 'lost' && restart < GRAPH_UPLOAD_RESTART_MAX) {
        talk.note(`the upload session of ${file.fileName} expired or was lost: starting the file again`);
        continue;
      }
      // Cancel the session, best effort (the draft is deleted by the caller).
      await talk.call(buildCancelUploadRequest(uploadUrl));
      return outcome === 'lost' ? { failure: { ...deviceError('connectionLost'), detail: `the upload session of ${file.fileName} was lost` } } : outcome;
    }
  }

  /** A divided-sending part: MIME sendMail, the part in base64 (Bcc as a header, which Graph removes). */
  async #sendMime(talk: GraphConversation, mailbox: string, message: ComposedMessage, bcc: readonly string[], hooks: GraphSendHooks): Promise<Failed | undefined> {
    const bccHeader = new TextEncoder().encode(bcc.length > 0 ? `Bcc: ${bcc.join(', ')}\r\n` : '');
    const size = base64Length(bccHeader.length + message.sizeBytes);
    if (size > GRAPH_REQUEST_MAX_BYTES) return { failure: { ...deviceError('graphRequestTooLarge'), detail: `a part of ${message.sizeBytes} bytes would be a ${size}-byte request` } };
    const body = new Uint8Array(size);
    const writer = new Base64Writer(body, 0);
    writer.push(bccHeader);
    for await (const chunk of message.chunks()) writer.push(chunk);
    writer.end();
    talk.note(`MIME sendMail: ${message.sizeBytes} bytes of message`);
    await hooks.beforeTerminator?.();
    const sent = await talk.exchange(buildMimeSendMailRequest(mailbox, body), (a) => processAccepted(a, this.deps.clock.wallNowMs()));
    hooks.onDataProgress?.(message.sizeBytes);
    return sent.ok ? undefined : sent.failed;
  }

  /** Check Connection: DNS → TCP → TLS → certificate (of Graph's host) → token → mailbox → a draft made and deleted. */
  async check(settings: EmailSettings): Promise<ConnectionCheck> {
    const missing = this.missing(settings);
    if (missing) return { settings, notStarted: missing, transcriptId: '' };
    const token = await this.#token(true);
    const talk = new GraphConversation(this.deps, settings, token.ok ? token.token : undefined, GRAPH_INTERACTIVE_TIMEOUT_MS);
    const startedWallMs = this.deps.clock.wallNowMs();
    const mailbox = this.#mailbox(settings);
    const host = new URL(mailbox).hostname;
    const now = () => this.deps.clock.wallNowMs();
    const rungs: GraphRungOutcome[] = [];
    const fail = (step: GraphRungOutcome['step'], failure: SendFailure) => rungs.push({ step, status: 'failed', message: failureWords(failure).message, failure });
    // Without a token the probe still goes out (unauthorised) to show how far the connection gets.
    const probe = await talk.call({ ...buildMailboxProbeRequest(mailbox), authorized: token.ok });
    const verdict = talk.verdicts.at(-1);
    if (!probe.ok && !probe.untrusted && probe.net) {
      const failedAt = probe.net.kind === 'dns' ? 'dns' : probe.net.kind === 'tls-handshake' || probe.net.kind === 'tls-version' ? 'tls' : verdict ? 'mailbox' : 'tcp';
      for (const step of ['dns', 'tcp', 'tls'] as const) {
        if (step === failedAt) break;
        rungs.push({ step, status: 'ok', message: step === 'dns' ? `${host} resolved.` : step === 'tcp' ? `Connected to ${host}:443.` : 'TLS established.' });
      }
      if (failedAt === 'mailbox') {
        rungs.push({ step: 'certificate', status: 'ok', message: 'Trusted.' });
        if (token.ok) rungs.push({ step: 'token', status: 'ok', message: TOKEN_OK });
        else fail('token', token.failure);
      }
      if (failedAt !== 'mailbox' || token.ok) fail(failedAt, probe.failed.failure);
    } else {
      rungs.push({ step: 'dns', status: 'ok', message: `${host} resolved.` }, { step: 'tcp', status: 'ok', message: `Connected to ${host}:443.` });
      rungs.push({ step: 'tls', status: 'ok', message: probe.ok && probe.tls ? `${probe.tls.version}, ${probe.tls.cipher}.` : 'TLS established.' });
      if (!probe.ok && probe.untrusted) fail('certificate', probe.failed.failure);
      else {
        const path = verdict ? verdict.path.map((c) => c.subject).join(' ← ') : '';
        if (!settings.verifyServerCertificate && verdict && !verdict.trusted) rungs.push({ step: 'certificate', status: 'warning', message: unverifiedCertificateWarning(settings, verdict.problems.map(describeProblem)) ?? 'Not verified.' });
        else rungs.push({ step: 'certificate', status: 'ok', message: `Trusted: ${path}${settings.addCnToVerification ? `; the name ${host} matches` : ' (name not checked)'}.` });
        if (!token.ok) fail('token', token.failure);
        else {
          rungs.push({ step: 'token', status: 'ok', message: TOKEN_OK });
          const mailboxAnswer = probe.ok ? processMailboxProbe(probe.answer, now()) : undefined;
          if (!probe.ok) fail('mailbox', probe.failed.failure);
          else if (mailboxAnswer && !mailboxAnswer.ok) fail('mailbox', graphFailed(mailboxAnswer.error).failure);
          else {
            rungs.push({ step: 'mailbox', status: 'ok', message: `The mailbox ${settings.userName} answers.` });
            const spec: GraphMessageInput = {
              spec: { from: { address: settings.fromAddress }, to: [], subject: 'Check Connection (deleted at once)', text: '', attachments: [], dateWallMs: now(), timeZone: 'UTC' },
              bcc: [],
              mailboxAddress: settings.userName,
            };
            const draft = await talk.exchange(buildCreateDraftRequest(mailbox, spec), (a) => processCreateDraft(a, now()));
            if (!draft.ok) fail('draft', draft.failed.failure);
            else {
              const deleted = await talk.exchange(buildDeleteDraftRequest(draftUrl(mailbox, draft.value.id)), (a) => processDeleted(a, now()));
              if (deleted.ok) rungs.push({ step: 'draft', status: 'ok', message: 'A draft was created and deleted: scans over 4 MB can be uploaded.' });
              else fail('draft', deleted.failed.failure);
            }
          }
        }
      }
    }
    const failed = rungs.find((r) => r.status === 'failed');
    const record = this.deps.transcripts.add({ kind: 'check', startedWallMs, server: host, ok: !failed, ...(failed?.failure ? { code: failed.failure.code } : {}), text: talk.transcript.toText() });
    return { settings, graph: { rungs }, transcriptId: record.id };
  }
}

/**
 * Reads a file from any byte offset, one upload chunk at a time: the spool's `readFrom` in chunks
 * of the upload's size when it has one (each chunk is the spool's own lent buffer, sent as it is:
 * one buffer, no copy), else the file from its start, skipping. A chunk the source gives in
 * pieces is gathered into a buffer of the cursor's own. Consecutive reads continue one stream; a
 * jump (a resumed upload) opens the file again where the session needs it. A chunk is valid until
 * the next read.
 */
class SpoolCursor {
  #it: AsyncIterator<Uint8Array> | undefined;
  #position = 0;
  #pending: Uint8Array = new Uint8Array(0);
  #gather: Uint8Array | undefined;

  constructor(
    private readonly file: GraphAttachmentSource,
    private readonly chunkBytes: number,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.#it === undefined || offset !== this.#position) await this.#open(offset);
    if (this.#pending.length === 0) await this.#next(offset);
    if (this.#pending.length >= length) {
      const whole = this.#pending.subarray(0, length);
      this.#pending = this.#pending.subarray(length);
      this.#position = offset + length;
      return whole;
    }
    const target = (this.#gather ??= new Uint8Array(this.chunkBytes)).subarray(0, length);
    let filled = 0;
    while (filled < target.length) {
      if (this.#pending.length === 0) await this.#next(offset + filled);
      const take = Math.min(this.#pending.length, target.length - filled);
      target.set(this.#pending.subarray(0, take), filled);
      this.#pending = this.#pending.subarray(take);
      filled += take;
    }
    this.#position = offset + length;
    return target;
  }

  async #next(at: number): Promise<void> {
    const next = await this.#it!.next();
    if (next.done) throw new Error(`${this.file.fileName} ended at ${at} of ${this.file.sizeBytes} bytes`);
    this.#pending = next.value;
  }

  async #open(offset: number): Promise<void> {
    await this.close();
    this.#pending = new Uint8Array(0);
    if (this.file.readFrom) {
      this.#it = this.file.readFrom(offset, this.chunkBytes)[Symbol.asyncIterator]();
    } else {
      this.#it = this.file.chunks()[Symbol.asyncIterator]();
      let skip = offset;
      while (skip > 0) {
        const next = await this.#it.next();
        if (next.done) throw new Error(`${this.file.fileName} is shorter than ${offset} bytes`);
        if (next.value.length > skip) {
          this.#pending = next.value.subarray(skip);
          skip = 0;
        } else skip -= next.value.length;
      }
    }
    this.#position = offset;
  }

  async close(): Promise<void> {
    const it = this.#it;
    this.#it = undefined;
    await it?.return?.();
  }
}
