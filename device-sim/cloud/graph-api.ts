/**
 * The emulated Microsoft Graph mail endpoints on `graph.microsoft.com`, and the attachment upload
 * sessions on `outlook.office.com` they hand out (graph-exchange.md A–D). Each host is an HTTPS
 * server on 127.0.0.1 with an ephemeral port, presenting the sim PKI's certificate for its name,
 * registered in the SimNetwork at port 443 like the identity hosts (identity-server.ts).
 *
 *   POST /v1.0/me/sendMail, /v1.0/users/{id|upn}/sendMail           JSON message → 202, empty body
 *   POST /v1.0/{me|users/x}/messages                                 create a draft → 201 + message
 *   POST …/messages/{id}/attachments/createUploadSession             → 201 {uploadUrl, expirationDateTime, nextExpectedRanges}
 *   PUT|GET|DELETE {uploadUrl} (no Authorization header)             ranged chunks; 200 …, last 201; status; cancel 204
 *   POST …/messages/{id}/attachments                                 a file under 3 MB as contentBytes → 201
 *   POST …/messages/{id}/send                                        → 202, the draft delivered
 *   DELETE …/messages/{id}                                           → 204
 *   GET /v1.0/{me|users/x}/mailFolders/drafts                         → 200 {id, displayName} (a mailbox that answers)
 *   POST …/sendMail with Content-Type text/plain                      the MIME form: base64 of an RFC 5322 message → 202
 *
 * A sent message is composed as RFC 5322 by the firmware's composer (firmware/mime/compose.ts)
 * and stored in the same Mailbox the SMTP servers deliver into, envelope = every recipient (Bcc
 * too, no Bcc header).
 *
 * Tokens come from the cloud's TokenVerifier. A token is for Graph when a scope names Graph
 * (`https://graph.microsoft.com/…`) or is bare (`Mail.Send`); `https://graph.microsoft.com/.default`
 * marks an app-only token (client credentials): its application permissions (`roles`, Mail.Send
 * to send, Mail.ReadWrite for drafts) and its app's mailbox scope are enforced (a token issued by
 * hand without an app is taken to hold both, for every mailbox). Delegated tokens need Mail.Send to send and Mail.ReadWrite for
 * drafts and upload sessions. A token for another resource (the Outlook/SMTP one) is refused
 * with "Invalid audience" (D). Send-as rights are the Office 365 mailbox's (`mail.account`'s
 * `sendAs`): the same Exchange mailbox for SMTP and Graph.
 *
 * Errors: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`,
 * headers `request-id` and `client-request-id` (the client's echoed), `WWW-Authenticate` on 401.
 * The texts the reference marks as uncertain are named in cloud-defaults.ts.
 *
 * Tester faults (`graph.fault` lever): 429 ApplicationThrottled / 503 serviceNotAvailable with
 * Retry-After, 403 ErrorAccessDenied, 400 ErrorMessageSizeExceeded, 404
 * MailboxNotEnabledForRESTAPI; for the next N requests and/or with a seeded chance, optionally
 * for one mailbox only.
 *
 * The MIME form of sendMail delivers the decoded message as it is (a message/partial part stays
 * one, for the mailbox to join), to every address in To, Cc and Bcc, with Bcc removed.
 *
 * Deliberately not done: text/html parts (an HTML body is kept as its source text in the
 * text part), Sent Items (saveToSentItems is checked and ignored), NDRs, throttling by rate
 * (only the lever throttles), TLS levers for these two hosts.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { composeMessage, type AttachmentSource, type MailAddress } from '../../firmware/mime/compose.ts';
import type { SimNetwork } from '../hal/sim-network.ts';
import { base64url, SimRandom, uuid, type RandomStream } from '../sim-random.ts';
import {
  EMULATED_HOSTS,
  GRAPH_APP_MAILBOX_OUT_OF_SCOPE,
  GRAPH_NO_PERMISSIONS_IN_TOKEN,
  GRAPH_ATTACHMENT_POST_MAX_OCTETS,
  GRAPH_DRAFT_LIFETIME_MS,
  GRAPH_DRAFTS_MAX,
  GRAPH_FAULT_RETRY_AFTER_S,
  GRAPH_LENGTH_REQUIRED,
  GRAPH_MAX_REQUEST_OCTETS,
  GRAPH_MAX_SEND_SIZE_OCTETS,
  GRAPH_ME_WITH_APP_TOKEN,
  GRAPH_REQUEST_TOO_LARGE,
  GRAPH_TOKEN_EMPTY,
  GRAPH_TOKEN_EXPIRED,
  GRAPH_UPLOAD_BAD_CHUNK,
  GRAPH_UPLOAD_BAD_RANGE,
  GRAPH_UPLOAD_CHUNK_MULTIPLE_OCTETS,
  GRAPH_UPLOAD_MAX_CHUNK_OCTETS,
  GRAPH_UPLOAD_OUT_OF_ORDER,
  GRAPH_UPLOAD_OVERLAP,
  GRAPH_UPLOAD_SESSION_LIFETIME_MS,
  GRAPH_UPLOAD_SESSION_MAX_OCTETS,
  GRAPH_UPLOAD_SESSION_MIN_OCTETS,
  GRAPH_UPLOAD_SESSION_NOT_FOUND,
  GRAPH_UPLOAD_TOO_SMALL,
  GRAPH_UPLOAD_WITH_AUTHORIZATION,
  type GraphRefusal,
} from './cloud-defaults.ts';
import { listenHttps, withWorldDate } from './identity-server.ts';
import type { Mailbox } from './mailbox.ts';
import type { DeliveryInfo } from './mailbox-types.ts';
import type { SimPki } from './sim-pki.ts';
import { sameUser, type TokenVerifier } from './token-table.ts';

export const GRAPH_HOST = 'graph.microsoft.com';
export const GRAPH_UPLOAD_HOST = 'outlook.office.com';
const HTTPS_PORT = 443;
const GRAPH_RESOURCE = 'https://graph.microsoft.com/';
const APP_ONLY_SCOPE = 'https://graph.microsoft.com/.default';
/** OpenID Connect scopes name no resource. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

const INVALID_AUDIENCE: GraphRefusal = { status: 401, code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' };
const TOKEN_INVALID: GraphRefusal = { status: 401, code: 'InvalidAuthenticationToken', message: 'Access token validation failure.' };
const ACCESS_DENIED: GraphRefusal = { status: 403, code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' };
const SEND_AS_DENIED: GraphRefusal = {
  status: 403,
  code: 'ErrorSendAsDenied',
  message: 'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.',
};
const MAILBOX_NOT_ENABLED: GraphRefusal = { status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.' };
const MESSAGE_SIZE_EXCEEDED: GraphRefusal = { status: 400, code: 'ErrorMessageSizeExceeded', message: 'The message exceeds the maximum supported size.' };
const THROTTLED: GraphRefusal = { status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' };
const UNAVAILABLE: GraphRefusal = { status: 503, code: 'serviceNotAvailable', message: 'The service is temporarily unavailable. Please retry later.' };
const ITEM_NOT_FOUND: GraphRefusal = { status: 404, code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' };
const MIME_INVALID_BASE64: GraphRefusal = { status: 400, code: 'ErrorMimeContentInvalidBase64String', message: 'Invalid base64 string for MIME content.' };
const NO_RECIPIENTS: GraphRefusal = { status: 400, code: 'ErrorInvalidRecipients', message: "At least one recipient is not valid., A message can't be sent because it contains no recipients." };
const WWW_AUTHENTICATE = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

// ---------------------------------------------------------------------------------------------
// Tester faults.

export const GRAPH_FAULTS = {
  throttle: '429 ApplicationThrottled with Retry-After',
  unavailable: '503 serviceNotAvailable with Retry-After',
  'access-denied': '403 ErrorAccessDenied',
  'message-size': '400 ErrorMessageSizeExceeded to sendMail and send',
  'mailbox-disabled': '404 MailboxNotEnabledForRESTAPI',
} as const;
export type GraphFaultKind = keyof typeof GRAPH_FAULTS;

export const graphFaultSchema = z.strictObject({
  fault: z.enum(Object.keys(GRAPH_FAULTS) as [GraphFaultKind, ...GraphFaultKind[]]),
  user: z.string().trim().toLowerCase().max(254).regex(/^[^\s@]+@[^\s@]+$/, 'an e-mail address such as scanner@contoso.com').optional().describe('only requests on this mailbox'),
  requests: z.number().int().min(1).max(1_000_000).optional().describe('only the next N matching requests'),
  probability: z.number().min(0).max(1).optional().describe('each matching request with this chance (seeded)'),
  retryAfterS: z.number().int().min(0).max(86_400).optional().describe('Retry-After of 429 and 503, seconds'),
});
export type GraphFaultSpec = z.infer<typeof graphFaultSchema>;

export interface GraphFaultView extends GraphFaultSpec {
  readonly id: string;
  /** Requests it still answers; null: no count. */
  readonly requestsLeft: number | null;
  readonly fired: number;
}

// ---------------------------------------------------------------------------------------------
// The model.

interface Attachment {
  readonly name: string;
  readonly contentType: string;
  /** The file in the pieces it arrived in (an upload's chunks are not joined: 150 MiB would be copied once more). */
  readonly chunks: readonly Buffer[];
  readonly size: number;
}

interface Draft {
  readonly id: string;
  readonly owner: string;
  readonly message: ParsedMessage;
  readonly attachments: Attachment[];
  readonly createdAtMs: number;
}

interface ParsedMessage {
  readonly subject: string;
  readonly bodyType: string;
  readonly body: string;
  readonly to: MailAddress[];
  readonly cc: MailAddress[];
  readonly bcc: MailAddress[];
  readonly replyTo: MailAddress[];
  readonly from: MailAddress | undefined;
  readonly headers: Record<string, string>;
  readonly attachments: Attachment[];
}

interface UploadSession {
  readonly id: string;
  readonly authToken: string;
  readonly draftId: string;
  readonly owner: string;
  readonly name: string;
  readonly contentType: string;
  readonly size: number;
  readonly expiresAtMs: number;
  readonly chunks: Buffer[];
  received: number;
}

interface Caller {
  readonly user: string;
  readonly appOnly: boolean;
  readonly scopes: readonly string[];
  /** App-only: the application permissions in the token, and the app (absent: a token the bench issued by hand, taken to hold Mail.Send and Mail.ReadWrite for every mailbox). */
  readonly roles: readonly string[];
  readonly clientId?: string;
}

const recipientSchema = z.object({ emailAddress: z.object({ address: z.string().max(320), name: z.string().max(256).optional() }) });
const fileAttachmentSchema = z.object({
  '@odata.type': z.literal('#microsoft.graph.fileAttachment', { error: 'only #microsoft.graph.fileAttachment is supported' }),
  name: z.string().min(1).max(255),
  contentType: z.string().max(255).optional(),
  contentBytes: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
});
const messageSchema = z.object({
  subject: z.string().max(16_384).optional(),
  body: z.object({ contentType: z.string().regex(/^(text|html)$/i, 'Text or HTML').optional(), content: z.string() }).optional(),
  toRecipients: z.array(recipientSchema).max(500).optional(),
  ccRecipients: z.array(recipientSchema).max(500).optional(),
  bccRecipients: z.array(recipientSchema).max(500).optional(),
  replyTo: z.array(recipientSchema).max(50).optional(),
  from: recipientSchema.optional(),
  internetMessageHeaders: z.array(z.object({ name: z.string().regex(/^x-[A-Za-z0-9-]+$/i, 'an x- header name'), value: z.string().max(998) })).max(50).optional(),
  attachments: z.array(fileAttachmentSchema).max(250).optional(),
});
const sendMailSchema = z.object({
  message: messageSchema,
  saveToSentItems: z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])]).optional(),
});
const uploadSessionSchema = z.object({
  AttachmentItem: z.object({
    attachmentType: z.literal('file', { error: 'file' }),
    name: z.string().min(1).max(255),
    size: z.number().int().min(0),
    contentType: z.string().max(255).optional(),
    isInline: z.boolean().optional(),
    contentId: z.string().max(255).optional(),
  }),
});

export interface GraphApiOptions {
  readonly network: SimNetwork;
  readonly pki: SimPki;
  readonly tokens: TokenVerifier;
  readonly mailbox: Mailbox;
  /** The world's clock, ms since the epoch. */
  readonly nowMs: () => number;
  readonly random?: SimRandom;
  /** Other From addresses a mailbox may use (the Office 365 mailbox's Send As rights). */
  readonly sendAsOf?: (user: string) => readonly string[];
  /** The mailboxes' MaxSendSize, octets of the composed message; default GRAPH_MAX_SEND_SIZE_OCTETS. */
  readonly maxSendSizeOctets?: number;
}

export interface GraphListener {
  readonly hostName: string;
  readonly host: string;
  readonly port: number;
}

export class GraphMailService {
  readonly #options: GraphApiOptions;
  readonly #ids: RandomStream;
  readonly #chance: RandomStream;
  readonly #drafts = new Map<string, Draft>();
  readonly #sessions = new Map<string, UploadSession>();
  readonly #faults: (GraphFaultSpec & { id: string; requestsLeft: number | null; fired: number })[] = [];
  #faultSerial = 0;
  #maxSendSizeOctets: number;

  constructor(options: GraphApiOptions) {
    this.#options = options;
    const random = options.random ?? new SimRandom(SimRandom.freshSeed());
    this.#ids = random.stream('graph-ids');
    this.#chance = random.stream('graph-faults');
    this.#maxSendSizeOctets = options.maxSendSizeOctets ?? GRAPH_MAX_SEND_SIZE_OCTETS;
  }

  get maxSendSizeOctets(): number {
    return this.#maxSendSizeOctets;
  }

  setMaxSendSizeOctets(octets: number): void {
    if (!Number.isSafeInteger(octets) || octets < 1) throw new RangeError(`maxSendSizeOctets must be a positive integer, got ${octets}`);
    this.#maxSendSizeOctets = octets;
  }

  addFault(spec: GraphFaultSpec): GraphFaultView {
    const fault = { ...graphFaultSchema.parse(spec), id: `gf${++this.#faultSerial}`, requestsLeft: spec.requests ?? null, fired: 0 };
    this.#faults.push(fault);
    return { ...fault };
  }

  removeFault(id: string): boolean {
    const i = this.#faults.findIndex((f) => f.id === id);
    if (i < 0) return false;
    this.#faults.splice(i, 1);
    return true;
  }

  faults(): GraphFaultView[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** Drafts kept now (created and neither sent nor deleted). */
  get draftCount(): number {
    return this.#drafts.size;
  }

  /** The Hono app for `graph.microsoft.com`. */
  graphApp(): Hono {
    const app = new Hono();
    app.all('*', (c) => this.#onGraph(c));
    return app;
  }

  /** The Hono app for `outlook.office.com` (upload URLs). */
  uploadApp(): Hono {
    const app = new Hono();
    app.all('*', (c) => this.#onUpload(c));
    return app;
  }

  // -------------------------------------------------------------------------------------------
  // graph.microsoft.com

  async #onGraph(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const route =
      /^\/v1\.0\/(?:me|users\/([^/]+))\/(sendmail|messages)(?:\/([^/]+)(?:\/(send|attachments\/createuploadsession|attachments))?)?$/i.exec(url.pathname) ??
      /^\/v1\.0\/(?:me|users\/([^/]+))\/(mailfolders)\/(drafts)()$/i.exec(url.pathname);
    const caller = await this.#authenticate(c);
    if ('status' in caller) return this.#drainAndRefuse(c, caller);
    if (!route) return this.#drainAndRefuse(c, { status: 400, code: 'BadRequest', message: `Resource not found for the segment '${url.pathname}'.` });
    const [, pathUser, collection, rawItemId, action] = route;
    // A message id is base64 ('=' and '/' come percent-encoded in a path): compared decoded.
    let itemId: string | undefined;
    try {
      itemId = rawItemId === undefined ? undefined : decodeURIComponent(rawItemId);
    } catch {
      return this.#drainAndRefuse(c, ITEM_NOT_FOUND);
    }
    const op = operationOf(c.req.method, collection!.toLowerCase(), itemId, action?.toLowerCase());
    if (!op) return this.#drainAndRefuse(c, { status: 405, code: 'Request_BadRequest', message: `Method ${c.req.method} is not allowed on ${url.pathname}.` });

    let owner: string;
    if (pathUser === undefined) {
      if (caller.appOnly) return this.#drainAndRefuse(c, GRAPH_ME_WITH_APP_TOKEN);
      owner = caller.user;
    } else {
      owner = decodeURIComponent(pathUser).trim().toLowerCase();
      if (!caller.appOnly && !sameUser(owner, caller.user) && !this.#maySendAs(caller.user, owner)) return this.#drainAndRefuse(c, SEND_AS_DENIED);
    }
    const needs = op === 'sendMail' || op === 'send' ? 'Mail.Send' : 'Mail.ReadWrite';
    if (!caller.appOnly && !hasPermission(caller.scopes, needs)) return this.#drainAndRefuse(c, ACCESS_DENIED);
    const appRefusal = caller.appOnly ? this.#appOnlyRefusal(caller, owner, needs) : undefined;
    if (appRefusal) return this.#drainAndRefuse(c, appRefusal);

    const fault = this.#faultFor(owner, op === 'sendMail' || op === 'send');
    if (fault) return this.#drainAndRefuse(c, fault.refusal, fault.retryAfterS);

    this.#forgetOld();
    switch (op) {
      case 'sendMail':
        return this.#sendMail(c, owner, caller);
      case 'createDraft':
        return this.#createDraft(c, owner);
      case 'createUploadSession':
        return this.#createUploadSession(c, owner, itemId!);
      case 'send':
        return this.#sendDraft(c, owner, itemId!, caller);
      case 'deleteDraft':
        return this.#deleteDraft(c, owner, itemId!);
      case 'addAttachment':
        return this.#addAttachment(c, owner, itemId!);
      case 'draftsFolder':
        return this.#draftsFolder(c, owner);
    }
  }

  async #authenticate(c: Context): Promise<Caller | GraphRefusal> {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer[ \t]+(\S*)\s*$/i.exec(header);
    const token = m?.[1] ?? '';
    if (token === '') return GRAPH_TOKEN_EMPTY;
    const verdict = await this.#options.tokens.verify(token);
    if (!verdict.ok) return verdict.reason === 'expired' ? GRAPH_TOKEN_EXPIRED : TOKEN_INVALID;
    const resourceScopes = verdict.scopes.filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
    const graphScopes = resourceScopes.filter((s) => s.toLowerCase().startsWith(GRAPH_RESOURCE) || !s.includes('://'));
    if (graphScopes.length === 0) return INVALID_AUDIENCE;
    const appOnly = graphScopes.some((s) => s.toLowerCase() === APP_ONLY_SCOPE);
    const roles = verdict.app?.roles ?? (appOnly ? ['Mail.Send', 'Mail.ReadWrite'] : []);
    return { user: verdict.user, appOnly, scopes: graphScopes, roles, ...(verdict.app ? { clientId: verdict.app.clientId } : {}) };
  }

  /**
   * An app-only caller on `owner`'s mailbox (graph-exchange.md E): a token without any application
   * permission is 400 NoPermissionsInAccessToken, one without the permission the operation needs
   * 403 ErrorAccessDenied, a mailbox outside the app's scope 403 "Access to OData is disabled.".
   */
  #appOnlyRefusal(caller: Caller, owner: string, needs: 'Mail.Send' | 'Mail.ReadWrite'): GraphRefusal | undefined {
    if (caller.roles.length === 0) return GRAPH_NO_PERMISSIONS_IN_TOKEN;
    if (!caller.roles.includes(needs)) return ACCESS_DENIED;
    if (caller.clientId !== undefined && !(this.#options.tokens.appMayReach?.(caller.clientId, owner) ?? true)) return GRAPH_APP_MAILBOX_OUT_OF_SCOPE;
    return undefined;
  }

  #maySendAs(user: string, as: string): boolean {
    return sameUser(user, as) || (this.#options.sendAsOf?.(user) ?? []).some((a) => sameUser(a, as));
  }

  #faultFor(owner: string, sending: boolean): { refusal: GraphRefusal; retryAfterS?: number } | undefined {
    for (const f of this.#faults) {
      if (f.requestsLeft === 0) continue;
      if (f.user !== undefined && !sameUser(f.user, owner)) continue;
      if (f.fault === 'message-size' && !sending) continue;
      if (f.probability !== undefined && !this.#chance.chance(f.probability)) continue;
      if (f.requestsLeft !== null) f.requestsLeft--;
      f.fired++;
      switch (f.fault) {
        case 'throttle':
          return { refusal: THROTTLED, retryAfterS: f.retryAfterS ?? GRAPH_FAULT_RETRY_AFTER_S };
        case 'unavailable':
          return { refusal: UNAVAILABLE, retryAfterS: f.retryAfterS ?? GRAPH_FAULT_RETRY_AFTER_S };
        case 'access-denied':
          return { refusal: ACCESS_DENIED };
        case 'message-size':
          return { refusal: MESSAGE_SIZE_EXCEEDED };
        case 'mailbox-disabled':
          return { refusal: MAILBOX_NOT_ENABLED };
      }
    }
    return undefined;
  }

  async #readJson(c: Context, limitOctets = GRAPH_MAX_REQUEST_OCTETS): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
    const body = await readBody(c, limitOctets);
    if (body.kind === 'aborted') return { ok: false, response: new Response(null, { status: 400 }) };
    if (body.kind === 'too-large') return { ok: false, response: this.#refuse(c, GRAPH_REQUEST_TOO_LARGE) };
    try {
      return { ok: true, value: body.bytes.length === 0 ? {} : (JSON.parse(body.bytes.toString('utf8')) as unknown) };
    } catch {
      return { ok: false, response: this.#refuse(c, { status: 400, code: 'BadRequest', message: 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.' }) };
    }
  }

  #invalid(c: Context, error: z.ZodError): Response {
    const issue = error.issues[0]!;
    const field = issue.path.join('.') || '(body)';
    return this.#refuse(c, { status: 400, code: 'BadRequest', message: `Invalid value for property '${field}': ${issue.message}` });
  }

  async #sendMail(c: Context, owner: string, caller: Caller): Promise<Response> {
    if (/^text\/plain\b/i.test(c.req.header('content-type') ?? '')) return this.#sendMime(c, owner, caller);
    const read = await this.#readJson(c);
    if (!read.ok) return read.response;
    const parsed = sendMailSchema.safeParse(read.value);
    if (!parsed.success) return this.#invalid(c, parsed.error);
    const message = parseMessage(parsed.data.message);
    if ('status' in message) return this.#refuse(c, message);
    return this.#deliver(c, owner, caller, message, []);
  }

  async #createDraft(c: Context, owner: string): Promise<Response> {
    const read = await this.#readJson(c);
    if (!read.ok) return read.response;
    const parsed = messageSchema.safeParse(read.value);
    if (!parsed.success) return this.#invalid(c, parsed.error);
    const message = parseMessage(parsed.data);
    if ('status' in message) return this.#refuse(c, message);
    if (this.#drafts.size >= GRAPH_DRAFTS_MAX) return this.#refuse(c, { status: 507, code: 'ErrorQuotaExceeded', message: 'Mailbox has exceeded maximum mailbox size.' });
    const id = `AAMkAG${base64url(this.#ids, 32)}=`;
    const draft: Draft = { id, owner, message, attachments: [...message.attachments], createdAtMs: this.#options.nowMs() };
    this.#drafts.set(id, draft);
    return c.json(
      {
        '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${owner}')/messages/$entity`,
        id,
        createdDateTime: isoSeconds(draft.createdAtMs),
        subject: message.subject,
        isDraft: true,
        hasAttachments: draft.attachments.length > 0,
        body: { contentType: message.bodyType, content: message.body },
        toRecipients: message.to.map(recipientJson),
        ccRecipients: message.cc.map(recipientJson),
        bccRecipients: message.bcc.map(recipientJson),
      },
      201,
      this.#idHeaders(c),
    );
  }

  #draftOf(owner: string, id: string): Draft | undefined {
    const draft = this.#drafts.get(id);
    return draft && sameUser(draft.owner, owner) ? draft : undefined;
  }

  async #createUploadSession(c: Context, owner: string, draftId: string): Promise<Response> {
    const read = await this.#readJson(c);
    if (!read.ok) return read.response;
    const draft = this.#draftOf(owner, draftId);
    if (!draft) return this.#refuse(c, ITEM_NOT_FOUND);
    const parsed = uploadSessionSchema.safeParse(read.value);
    if (!parsed.success) return this.#invalid(c, parsed.error);
    const item = parsed.data.AttachmentItem;
    if (item.size < GRAPH_UPLOAD_SESSION_MIN_OCTETS) return this.#refuse(c, GRAPH_UPLOAD_TOO_SMALL);
    const already = draft.attachments.reduce((n, a) => n + a.size, 0);
    if (item.size > GRAPH_UPLOAD_SESSION_MAX_OCTETS || already + item.size > this.#maxSendSizeOctets) return this.#refuse(c, MESSAGE_SIZE_EXCEEDED);
    const session: UploadSession = {
      id: base64url(this.#ids, 24),
      authToken: base64url(this.#ids, 32),
      draftId,
      owner: draft.owner,
      name: item.name,
      contentType: item.contentType ?? 'application/octet-stream',
      size: item.size,
      expiresAtMs: this.#options.nowMs() + GRAPH_UPLOAD_SESSION_LIFETIME_MS,
      chunks: [],
      received: 0,
    };
    this.#sessions.set(session.id, session);
    return c.json(
      {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession',
        uploadUrl: `https://${GRAPH_UPLOAD_HOST}${sessionPath(session)}?authtoken=${session.authToken}`,
        expirationDateTime: isoTicks(session.expiresAtMs),
        nextExpectedRanges: ['0-'],
      },
      201,
      this.#idHeaders(c),
    );
  }

  async #sendDraft(c: Context, owner: string, draftId: string, caller: Caller): Promise<Response> {
    if (c.req.header('content-length') === undefined) return this.#drainAndRefuse(c, GRAPH_LENGTH_REQUIRED);
    const read = await readBody(c, GRAPH_MAX_REQUEST_OCTETS);
    if (read.kind === 'too-large') return this.#refuse(c, GRAPH_REQUEST_TOO_LARGE);
    const draft = this.#draftOf(owner, draftId);
    if (!draft) return this.#refuse(c, ITEM_NOT_FOUND);
    const answer = await this.#deliver(c, draft.owner, caller, draft.message, draft.attachments);
    if (answer.status === 202) this.#removeDraft(draft.id);
    return answer;
  }

  /** The MIME form of sendMail (graph-exchange.md A): base64 of a whole RFC 5322 message. */
  async #sendMime(c: Context, owner: string, caller: Caller): Promise<Response> {
    const body = await readBody(c, GRAPH_MAX_REQUEST_OCTETS);
    if (body.kind === 'aborted') return new Response(null, { status: 400 });
    if (body.kind === 'too-large') return this.#refuse(c, GRAPH_REQUEST_TOO_LARGE);
    const text = body.bytes.toString('latin1');
    if (!/^[A-Za-z0-9+/=\r\n]+$/.test(text) || text.replace(/\s/g, '').length % 4 !== 0) return this.#refuse(c, MIME_INVALID_BASE64);
    const raw = Buffer.from(text, 'base64');
    const headerEnd = raw.indexOf('\r\n\r\n');
    if (headerEnd < 0) return this.#refuse(c, MIME_INVALID_BASE64);
    const head = raw.subarray(0, headerEnd + 2).toString('latin1');
    const fields = mimeHeaderFields(head);
    const addresses = (name: string) => (fields.get(name) ?? []).flatMap((v) => v.match(/[^\s<>",;:]+@[^\s<>",;:]+\.[^\s<>",;:]+/g) ?? []);
    const from = addresses('from')[0] ?? owner;
    if (!this.#maySendAs(owner, from)) return this.#refuse(c, SEND_AS_DENIED);
    const recipients = [...addresses('to'), ...addresses('cc'), ...addresses('bcc')];
    if (recipients.length === 0) return this.#refuse(c, NO_RECIPIENTS);
    // Graph removes Bcc from the message it delivers (the recipients are in the envelope).
    const kept = head.split(/\r\n(?![ \t])/).filter((line) => line !== '' && !/^bcc:/i.test(line));
    const delivered = Buffer.concat([Buffer.from(`${kept.join('\r\n')}\r\n`, 'latin1'), raw.subarray(headerEnd + 2)]);
    if (delivered.length > this.#maxSendSizeOctets) return this.#refuse(c, MESSAGE_SIZE_EXCEEDED);
    await this.#accept([delivered], { envelope: { mailFrom: from, rcptTo: recipients }, delivery: deliveryOf(c, caller), receivedAtMs: this.#options.nowMs() });
    return c.body(null, 202, this.#idHeaders(c));
  }

  /** `POST …/messages/{id}/attachments`: one file under GRAPH_ATTACHMENT_POST_MAX_OCTETS as contentBytes. */
  async #addAttachment(c: Context, owner: string, draftId: string): Promise<Response> {
    // The file's base64 with room for the JSON around it: the documented "under 3 MB" is what limits.
    const read = await this.#readJson(c, Math.ceil(GRAPH_ATTACHMENT_POST_MAX_OCTETS / 3) * 4 + 64 * 1024);
    if (!read.ok) return read.response;
    const parsed = fileAttachmentSchema.safeParse(read.value);
    if (!parsed.success) return this.#invalid(c, parsed.error);
    const draft = this.#draftOf(owner, draftId);
    if (!draft) return this.#refuse(c, ITEM_NOT_FOUND);
    const bytes = Buffer.from(parsed.data.contentBytes, 'base64');
    if (bytes.length >= GRAPH_ATTACHMENT_POST_MAX_OCTETS) return this.#refuse(c, GRAPH_REQUEST_TOO_LARGE);
    const contentType = parsed.data.contentType && /^[a-z]+\/[a-z0-9.+-]+$/i.test(parsed.data.contentType) ? parsed.data.contentType : 'application/octet-stream';
    draft.attachments.push({ name: parsed.data.name, contentType, chunks: [bytes], size: bytes.length });
    const id = base64url(this.#ids, 24);
    return c.json({ '@odata.type': '#microsoft.graph.fileAttachment', id, name: parsed.data.name, contentType, size: bytes.length, isInline: false }, 201, this.#idHeaders(c));
  }

  /** `GET …/mailFolders/drafts`: the mailbox answers (Check Connection). */
  async #draftsFolder(c: Context, owner: string): Promise<Response> {
    const count = [...this.#drafts.values()].filter((d) => sameUser(d.owner, owner)).length;
    return c.json({ id: `AAMkAGDrafts${Buffer.from(owner).toString('base64url')}`, displayName: 'Drafts', totalItemCount: count }, 200, this.#idHeaders(c));
  }

  async #deleteDraft(c: Context, owner: string, draftId: string): Promise<Response> {
    await readBody(c, GRAPH_MAX_REQUEST_OCTETS);
    const draft = this.#draftOf(owner, draftId);
    if (!draft) return this.#refuse(c, ITEM_NOT_FOUND);
    this.#removeDraft(draft.id);
    return c.body(null, 204, this.#idHeaders(c));
  }

  #removeDraft(id: string): void {
    this.#drafts.delete(id);
    for (const [sid, s] of this.#sessions) if (s.draftId === id) this.#sessions.delete(sid);
  }

  async #deliver(c: Context, owner: string, caller: Caller, message: ParsedMessage, extra: readonly Attachment[]): Promise<Response> {
    const from = message.from ?? { address: owner };
    if (!this.#maySendAs(owner, from.address)) return this.#refuse(c, SEND_AS_DENIED);
    const recipients = [...message.to, ...message.cc, ...message.bcc];
    if (recipients.length === 0) return this.#refuse(c, NO_RECIPIENTS);
    const attachments = [...message.attachments, ...extra.filter((a) => !message.attachments.includes(a))];
    let composed;
    try {
      composed = composeMessage(
        {
          from,
          to: message.to,
          cc: message.cc,
          ...(message.replyTo[0] ? { replyTo: message.replyTo[0] } : {}),
          subject: message.subject,
          text: message.body,
          attachments: attachments.map(attachmentSource),
          dateWallMs: this.#options.nowMs(),
          timeZone: 'UTC',
          extraHeaders: message.headers,
        },
        { bytes: (n) => this.#ids.bytes(n) },
      );
    } catch (e) {
      return this.#refuse(c, { status: 400, code: 'BadRequest', message: (e as Error).message });
    }
    if (composed.sizeBytes > this.#maxSendSizeOctets) return this.#refuse(c, MESSAGE_SIZE_EXCEEDED);
    // The MIME conversion comes after the 202, as Exchange's does (its size is known already).
    void this.#accept(composed.chunks(), { envelope: { mailFrom: from.address, rcptTo: recipients.map((r) => r.address) }, delivery: deliveryOf(c, caller), receivedAtMs: this.#options.nowMs() }).catch(() => {});
    return c.body(null, 202, this.#idHeaders(c));
  }

  /**
   * Take a message for delivery: its bytes into a mailbox sink (RAM, then a file), then 202. The
   * mailbox files it afterwards, as Exchange delivers after the 202 (graph-exchange.md A: "202
   * only means accepted"); `mailbox.waitFor` sees it when it is there.
   */
  async #accept(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, meta: { envelope: { mailFrom: string; rcptTo: string[] }; delivery: DeliveryInfo; receivedAtMs: number }): Promise<void> {
    const sink = this.#options.mailbox.openSink();
    for await (const chunk of chunks) if (!sink.write(Buffer.from(chunk))) await once(sink, 'drain');
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.end(() => resolve());
    });
    void this.#options.mailbox.add(sink, meta).catch(() => {});
  }

  // -------------------------------------------------------------------------------------------
  // outlook.office.com upload URLs

  async #onUpload(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const m = /^\/api\/v2\.0\/Users\('([^']+)'\)\/Messages\('([^']+)'\)\/AttachmentSessions\('([^']+)'\)$/.exec(url.pathname);
    const method = c.req.method;
    const body = method === 'PUT' ? await readBody(c, GRAPH_UPLOAD_MAX_CHUNK_OCTETS) : await readBody(c, GRAPH_MAX_REQUEST_OCTETS);
    if (body.kind === 'aborted') return new Response(null, { status: 400 });
    if (c.req.header('authorization') !== undefined) return this.#refuse(c, GRAPH_UPLOAD_WITH_AUTHORIZATION, undefined, true);
    const session = m ? this.#sessions.get(m[3]!) : undefined;
    if (!session || session.draftId !== m![2] || url.searchParams.get('authtoken') !== session.authToken) return this.#refuse(c, GRAPH_UPLOAD_SESSION_NOT_FOUND);
    if (this.#options.nowMs() >= session.expiresAtMs) {
      this.#sessions.delete(session.id);
      return this.#refuse(c, GRAPH_UPLOAD_SESSION_NOT_FOUND);
    }
    const entity = `https://${GRAPH_UPLOAD_HOST}/api/v2.0/$metadata#Users('${session.owner}')/Messages('${session.draftId}')/AttachmentSessions/$entity`;
    if (method === 'GET') {
      return c.json({ '@odata.context': entity, ExpirationDateTime: isoTicks(session.expiresAtMs), nextExpectedRanges: [`${session.received}-${session.size - 1}`] }, 200, this.#idHeaders(c));
    }
    if (method === 'DELETE') {
      this.#sessions.delete(session.id);
      return c.body(null, 204, this.#idHeaders(c));
    }
    if (method !== 'PUT') return this.#refuse(c, { status: 405, code: 'ErrorInvalidRequest', message: `Method ${method} is not allowed on an upload URL.` });
    if (body.kind === 'too-large') return this.#refuse(c, GRAPH_UPLOAD_BAD_CHUNK);
    const range = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/.exec(c.req.header('content-range') ?? '');
    if (!range) return this.#refuse(c, GRAPH_UPLOAD_BAD_RANGE);
    const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (end < start || total !== session.size || end >= total || body.bytes.length !== end - start + 1) return this.#refuse(c, GRAPH_UPLOAD_BAD_RANGE);
    if (start < session.received) return this.#refuse(c, GRAPH_UPLOAD_OVERLAP);
    if (start > session.received) return this.#refuse(c, GRAPH_UPLOAD_OUT_OF_ORDER);
    const last = end === total - 1;
    if (!last && body.bytes.length % GRAPH_UPLOAD_CHUNK_MULTIPLE_OCTETS !== 0) return this.#refuse(c, GRAPH_UPLOAD_BAD_CHUNK);
    session.chunks.push(body.bytes);
    session.received = end + 1;
    if (!last) {
      return c.json({ '@odata.context': entity, ExpirationDateTime: isoTicks(session.expiresAtMs), nextExpectedRanges: [String(session.received)] }, 200, this.#idHeaders(c));
    }
    this.#sessions.delete(session.id);
    const draft = this.#drafts.get(session.draftId);
    if (!draft) return this.#refuse(c, ITEM_NOT_FOUND);
    draft.attachments.push({ name: session.name, contentType: session.contentType, chunks: session.chunks, size: session.received });
    const attachmentId = base64url(this.#ids, 24);
    return c.body(null, 201, {
      ...this.#idHeaders(c),
      Location: `https://${GRAPH_UPLOAD_HOST}/api/v2.0/Users('${session.owner}')/Messages('${session.draftId}')/Attachments('${attachmentId}')`,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Answers.

  /** `request-id` (new) and `client-request-id` (the client's, or the same new one). */
  #idHeaders(c: Context): Record<string, string> {
    const requestId = uuid(this.#ids);
    return { 'request-id': requestId, 'client-request-id': c.req.header('client-request-id') ?? requestId };
  }

  #refuse(c: Context, refusal: GraphRefusal, retryAfterS?: number, noInnerError = false): Response {
    const headers = this.#idHeaders(c);
    const innerError = { date: isoSeconds(this.#options.nowMs()), 'request-id': headers['request-id'], 'client-request-id': headers['client-request-id'] };
    const body = { error: { code: refusal.code, message: refusal.message, ...(noInnerError ? {} : { innerError }) } };
    return c.json(body, refusal.status as 400, {
      ...headers,
      ...(refusal.status === 401 ? { 'WWW-Authenticate': WWW_AUTHENTICATE } : {}),
      ...(retryAfterS !== undefined ? { 'Retry-After': String(retryAfterS) } : {}),
    });
  }

  /** Reads what the client still sends (so it sees the answer rather than a reset), then refuses. */
  async #drainAndRefuse(c: Context, refusal: GraphRefusal, retryAfterS?: number): Promise<Response> {
    await readBody(c, GRAPH_MAX_REQUEST_OCTETS);
    return this.#refuse(c, refusal, retryAfterS);
  }

  #forgetOld(): void {
    const now = this.#options.nowMs();
    for (const [id, d] of this.#drafts) if (now - d.createdAtMs > GRAPH_DRAFT_LIFETIME_MS) this.#removeDraft(id);
    for (const [id, s] of this.#sessions) if (now >= s.expiresAtMs) this.#sessions.delete(id);
  }
}

type Operation = 'sendMail' | 'createDraft' | 'createUploadSession' | 'send' | 'deleteDraft' | 'addAttachment' | 'draftsFolder';

function operationOf(method: string, collection: string, itemId: string | undefined, action: string | undefined): Operation | undefined {
  if (collection === 'mailfolders') return method === 'GET' ? 'draftsFolder' : undefined;
  if (collection === 'sendmail') return method === 'POST' && itemId === undefined ? 'sendMail' : undefined;
  if (itemId === undefined) return method === 'POST' ? 'createDraft' : undefined;
  if (action === undefined) return method === 'DELETE' ? 'deleteDraft' : undefined;
  if (method !== 'POST') return undefined;
  return action === 'send' ? 'send' : action === 'attachments' ? 'addAttachment' : 'createUploadSession';
}

/** A MIME header block's fields by lower-case name (unfolded; repeated fields kept in order). */
function mimeHeaderFields(head: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of head.replace(/\r\n([ \t])/g, '$1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1)]);
  }
  return fields;
}

/** Delegated permission `name` (bare or with the Graph resource); the `.Shared` and ReadWrite forms grant it too. */
function hasPermission(scopes: readonly string[], name: 'Mail.Send' | 'Mail.ReadWrite'): boolean {
  const bare = scopes.map((s) => (s.toLowerCase().startsWith(GRAPH_RESOURCE) ? s.slice(GRAPH_RESOURCE.length) : s).toLowerCase());
  return bare.includes(name.toLowerCase()) || bare.includes(`${name.toLowerCase()}.shared`);
}

function parseMessage(m: z.infer<typeof messageSchema>): ParsedMessage | GraphRefusal {
  const list = (rs: z.infer<typeof recipientSchema>[] | undefined): MailAddress[] | GraphRefusal => {
    const out: MailAddress[] = [];
    for (const r of rs ?? []) {
      const address = r.emailAddress.address.trim();
      if (!/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(address)) {
        return {
          status: 400,
          code: 'ErrorInvalidRecipients',
          message: `At least one recipient isn't valid., Recipient "${address.slice(0, 320)}" isn't resolved. All recipients must be resolved before a message can be submitted.`,
        };
      }
      out.push({ address, ...(r.emailAddress.name ? { displayName: r.emailAddress.name } : {}) });
    }
    return out;
  };
  const to = list(m.toRecipients);
  const cc = list(m.ccRecipients);
  const bcc = list(m.bccRecipients);
  const replyTo = list(m.replyTo);
  const from = m.from ? list([m.from]) : [];
  for (const l of [to, cc, bcc, replyTo, from]) if ('status' in l) return l;
  const headers: Record<string, string> = {};
  for (const h of m.internetMessageHeaders ?? []) headers[`X-${h.name.slice(2)}`] = h.value;
  return {
    subject: m.subject ?? '',
    bodyType: /^html$/i.test(m.body?.contentType ?? '') ? 'html' : 'text',
    body: m.body?.content ?? '',
    to: to as MailAddress[],
    cc: cc as MailAddress[],
    bcc: bcc as MailAddress[],
    replyTo: replyTo as MailAddress[],
    from: (from as MailAddress[])[0],
    headers,
    attachments: (m.attachments ?? []).map((a) => ({
      name: a.name,
      contentType: a.contentType && /^[a-z]+\/[a-z0-9.+-]+$/i.test(a.contentType) ? a.contentType : 'application/octet-stream',
      ...fileOf(Buffer.from(a.contentBytes, 'base64')),
    })),
  };
}

function fileOf(bytes: Buffer): Pick<Attachment, 'chunks' | 'size'> {
  return { chunks: [bytes], size: bytes.length };
}

function attachmentSource(a: Attachment): AttachmentSource {
  return {
    fileName: a.name,
    contentType: a.contentType,
    sizeBytes: a.size,
    async *chunks() {
      yield* a.chunks;
    },
  };
}

function recipientJson(a: MailAddress): unknown {
  return { emailAddress: { address: a.address, ...(a.displayName ? { name: a.displayName } : {}) } };
}

function sessionPath(s: UploadSession): string {
  return `/api/v2.0/Users('${encodeURIComponent(s.owner)}')/Messages('${s.draftId}')/AttachmentSessions('${s.id}')`;
}

/** `2019-01-16T18:53:25` (innerError.date's form). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** `2019-09-25T01:09:30.7671707Z` (seven fractional digits, as .NET prints them). */
function isoTicks(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000Z`;
}

function deliveryOf(c: Context, caller: Caller): DeliveryInfo {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const socket = incoming?.socket as TLSSocket | undefined;
  const cipher = socket?.getCipher?.();
  const servername = socket && typeof socket.servername === 'string' ? socket.servername : null;
  return {
    server: { kind: 'graph', host: GRAPH_HOST, port: HTTPS_PORT },
    tls: { mode: 'implicit', protocol: socket?.getProtocol?.() ?? null, cipher: cipher?.name ?? null, servername },
    auth: { user: caller.user, method: caller.appOnly ? 'Bearer (app-only)' : 'Bearer' },
    remoteAddress: socket?.remoteAddress ?? '',
    bodyType: '7bit',
    smtpUtf8: false,
    framing: null,
  };
}

type BodyRead = { kind: 'ok'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * The request body, at most `limitOctets`; a longer one is read to its end and dropped (the client
 * then sees the answer). Read from Node's request itself when there is one (a Web stream over it
 * costs several times the CPU for a 4 MiB chunk).
 */
async function readBody(c: Context, limitOctets: number): Promise<BodyRead> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const stream: AsyncIterable<Uint8Array> | null = incoming && !incoming.readableEnded ? incoming : (c.req.raw.body as unknown as AsyncIterable<Uint8Array> | null);
  if (!stream) return { kind: 'ok', bytes: Buffer.alloc(0) };
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += chunk.length;
      if (size <= limitOctets) parts.push(Buffer.from(chunk));
      else parts.length = 0;
    }
  } catch {
    return { kind: 'aborted' };
  }
  return size > limitOctets ? { kind: 'too-large' } : { kind: 'ok', bytes: Buffer.concat(parts) };
}

// ---------------------------------------------------------------------------------------------
// The two HTTPS hosts.

export interface RunningGraphApi {
  readonly service: GraphMailService;
  readonly listeners: readonly GraphListener[];
  stop(): Promise<void>;
}

export async function startGraphApi(options: GraphApiOptions): Promise<RunningGraphApi> {
  const service = new GraphMailService(options);
  const { network, pki, nowMs } = options;
  const servers: Server[] = [];
  const listeners: GraphListener[] = [];
  const registered: string[] = [];
  const stop = async () => {
    for (const name of registered.splice(0)) {
      network.unexpose(name, HTTPS_PORT);
      network.removeHost(name);
    }
    await Promise.all(
      servers.splice(0).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
  };
  try {
    for (const [hostName, app] of [
      [GRAPH_HOST, service.graphApp()],
      [GRAPH_UPLOAD_HOST, service.uploadApp()],
    ] as const) {
      const server = await listenHttps(withWorldDate(app, nowMs), [pki.identity(hostName, 'rsa')]);
      servers.push(server);
      const { address, port } = server.address() as AddressInfo;
      listeners.push({ hostName, host: address, port });
      network.addHost(hostName, EMULATED_HOSTS[hostName].address);
      registered.push(hostName);
      network.expose(hostName, HTTPS_PORT, { host: address, port });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { service, listeners, stop };
}
