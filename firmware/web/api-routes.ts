/**
 * The device's two HTTP APIs as route maps, types only: the Remote UI API (app.ts and the
 * `*-routes.ts` files it registers) and the control panel API (panel-routes.ts). A route is named
 * `"<METHOD> <path>"` as it is registered; its entry says what goes up (`body`, `query`, and
 * `params` where a path parameter is narrower than a string) and what comes back on success
 * (`response`; `undefined` for a 204). Refusals are `ApiError` on every route (http-helpers.ts).
 *
 * The browser pages' typed clients (remote-ui/src/kit/http-client.ts) read the body and answer
 * types from here, so a call site names the route and casts nothing. Request bodies are the zod
 * schemas' own types (the schemas the routes validate with); a body whose schema is private to
 * its route file is written out below with a pointer to it.
 *
 * Not here: the static files, and the CSV downloads' query strings beyond the filter (links,
 * not fetches).
 */
import type * as z from 'zod/mini';
import type { SectionName } from '../settings/schemas.ts';
import type {
  AccountInfo,
  AddressBookEntry,
  accountCreateRequest,
  accountUpdateRequest,
  addressBookEntryRequest,
  caImportRequest,
  CertificateView,
  CheckConnectionResult,
  ClockView,
  clockSetRequest,
  ConfigurationFile,
  ConfigurationPart,
  ConfigurationImportResult,
  DeviceInfo,
  DeviceStatus,
  emailActionRequest,
  googlePastedCodeRequest,
  JobLogEntry,
  loginRequest,
  panelPasswordChangeRequest,
  OAuthProvider,
  OAuthStatusView,
  PanelJobView,
  PanelOperator,
  PanelStatus,
  passwordChangeRequest,
  PasswordPolicyView,
  scanRequest,
  SendResultView,
  LoggedOut,
  SessionInfo,
  SettingsView,
  TranscriptSummary,
} from './api-types.ts';

/** A `POST` that carries nothing but must still be JSON (the door answers 415 otherwise): `{}`. */
export type EmptyBody = Readonly<Record<string, never>>;

/** `GET /api/events`: one device event as the firmware records it (firmware/events.ts `DeviceEvent`). */
export interface DeviceEventView {
  readonly seq: number;
  readonly code: string;
  readonly level: string;
  readonly message: string;
  readonly wallMs: number;
  readonly monoMs: number;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/** `POST /api/certificates/ca` (201): the certificates added, and those the store already held. */
export interface CaImportResult {
  readonly added: readonly CertificateView[];
  readonly alreadyPresent: readonly CertificateView[];
}

/** `GET /api/certificates/device`: the device's own certificate, with its PEM to download. */
export type DeviceCertificateView = CertificateView & { readonly pem: string };

/** `POST /api/address-book/import` (`importRequest` in address-book-routes.ts). */
export interface AddressBookImportRequest {
  readonly csv: string;
}

/** Its answer: how many entries were added, and the lines skipped because the book has the address. */
export interface AddressBookImportResult {
  readonly added: number;
  readonly skipped: readonly { readonly line: number; readonly address: string }[];
}

/** `POST /api/configuration` (`importRequest` in configuration-routes.ts): a settings file and the parts of it to apply. */
export interface ConfigurationImportRequest {
  readonly file: ConfigurationFile;
  readonly sections: readonly SectionName[];
  readonly parts?: readonly ConfigurationPart[];
}

/** The job log's filter (`FILTERS` in job-log-routes.ts). */
export type JobLogFilter = 'delivered' | 'failed' | 'retrying' | 'pending';

export type SendAndSaveResult = SendResultView & { readonly saved: boolean };

/** The Remote UI API: `/api/*` (docs/api.md, "Endpoints" and the sections after it). */
export interface RemoteUiRoutes {
  'GET /api/info': { response: DeviceInfo };
  'POST /api/session': { body: z.infer<typeof loginRequest>; response: SessionInfo };
  'GET /api/session': { response: SessionInfo | LoggedOut };
  'DELETE /api/session': { response: undefined };
  'POST /api/session/password': { body: z.infer<typeof passwordChangeRequest>; response: SessionInfo };
  'GET /api/password-policy': { response: PasswordPolicyView };

  'GET /api/status': { response: DeviceStatus };
  'GET /api/clock': { response: ClockView };
  'PUT /api/clock': { body: z.infer<typeof clockSetRequest>; response: ClockView };

  'GET /api/settings/:section': { params: { section: SectionName }; response: SettingsView };
  /** The whole section; a secret field left out keeps its stored value. Checked with the section's schema. */
  'PUT /api/settings/:section': { params: { section: SectionName }; body: Readonly<Record<string, unknown>>; response: SettingsView };

  'GET /api/accounts': { response: AccountInfo[] };
  'POST /api/accounts': { body: z.infer<typeof accountCreateRequest>; response: AccountInfo };
  'PUT /api/accounts/:name': { body: z.infer<typeof accountUpdateRequest>; response: AccountInfo };
  'DELETE /api/accounts/:name': { response: undefined };
  /** Clear the name's lockout and counted failures (login-throttle.ts); the account's view after. */
  'POST /api/accounts/:name/unlock': { body: EmptyBody; response: AccountInfo };

  'GET /api/events': { query: { after: number }; response: DeviceEventView[] };

  // E-mail (email-routes.ts)
  'POST /api/email/check': { body: z.infer<typeof emailActionRequest>; response: CheckConnectionResult };
  'POST /api/email/test': { body: z.infer<typeof emailActionRequest>; response: SendResultView };
  'POST /api/email/validate-and-save': { body: z.infer<typeof emailActionRequest>; response: SendAndSaveResult };
  'GET /api/email/transcripts': { response: TranscriptSummary[] };
  /** `text/plain`; `download=1` adds Content-Disposition: attachment. */
  'GET /api/email/transcripts/:id': { query?: { download?: 1 }; response: string };

  // Certificates (certificate-routes.ts)
  'GET /api/certificates/ca': { response: CertificateView[] };
  'POST /api/certificates/ca': { body: z.infer<typeof caImportRequest>; response: CaImportResult };
  'DELETE /api/certificates/ca/:id': { response: undefined };
  'POST /api/certificates/ca/restore-factory': { body: EmptyBody; response: CertificateView[] };
  'GET /api/certificates/device': { response: DeviceCertificateView };
  'POST /api/certificates/device/regenerate': { body: EmptyBody; response: DeviceCertificateView };

  // OAuth 2.0 (oauth-routes.ts)
  'GET /api/oauth/:provider': { params: { provider: OAuthProvider }; response: OAuthStatusView };
  'DELETE /api/oauth/:provider': { params: { provider: OAuthProvider }; response: OAuthStatusView };
  'POST /api/oauth/:provider/register': { params: { provider: OAuthProvider }; body: EmptyBody; response: OAuthStatusView };
  'POST /api/oauth/:provider/check': { params: { provider: OAuthProvider }; body: EmptyBody; response: OAuthStatusView };
  'POST /api/oauth/:provider/code': { params: { provider: OAuthProvider }; body: z.infer<typeof googlePastedCodeRequest>; response: OAuthStatusView };
  /** The device's app certificate, PEM, a download. */
  'GET /api/oauth/microsoft/certificate': { response: string };
  'POST /api/oauth/microsoft/certificate/regenerate': { body: EmptyBody; response: OAuthStatusView };

  // Job log (job-log-routes.ts)
  'GET /api/jobs': { query?: { result?: JobLogFilter }; response: JobLogEntry[] };
  /** `text/csv`, a download. */
  'GET /api/jobs.csv': { query?: { result?: JobLogFilter }; response: string };

  // Address book (address-book-routes.ts, root /api/address-book)
  'GET /api/address-book': { query?: { q?: string }; response: AddressBookEntry[] };
  'POST /api/address-book': { body: z.infer<typeof addressBookEntryRequest>; response: AddressBookEntry };
  'PUT /api/address-book/:id': { body: z.infer<typeof addressBookEntryRequest>; response: AddressBookEntry };
  'DELETE /api/address-book/:id': { response: undefined };
  /** `text/csv`, a download. */
  'GET /api/address-book.csv': { response: string };
  'POST /api/address-book/import': { body: AddressBookImportRequest; response: AddressBookImportResult };

  // Import/Export (configuration-routes.ts)
  /** The settings file, a download. */
  'GET /api/configuration': { response: ConfigurationFile };
  'POST /api/configuration': { body: ConfigurationImportRequest; response: ConfigurationImportResult };
}

/**
 * The control panel API: `/panel/api/*` (panel-routes.ts; the address book through
 * address-book-routes.ts). A 400 names its `fields`; the 409 of a scan carries the device `code`.
 */
export interface PanelRoutes {
  'GET /panel/api/status': { response: PanelStatus };
  'POST /panel/api/login': { body: z.infer<typeof loginRequest>; response: { readonly operator: PanelOperator } };
  'POST /panel/api/logout': { response: { readonly operator: null } };
  'POST /panel/api/password': { body: z.infer<typeof panelPasswordChangeRequest>; response: { readonly operator: PanelOperator } };
  /** 202 once scanning starts; 409 `cannot-send` with the device `code`. */
  'POST /panel/api/scan': { body: z.infer<typeof scanRequest>; response: { readonly jobId: string } };
  'GET /panel/api/jobs': { response: PanelJobView[] };
  'GET /panel/api/jobs/:id': { response: PanelJobView };
  'GET /panel/api/address-book': { query: { q: string }; response: AddressBookEntry[] };
  'POST /panel/api/address-book': { body: z.infer<typeof addressBookEntryRequest>; response: AddressBookEntry };
  'PUT /panel/api/address-book/:id': { body: z.infer<typeof addressBookEntryRequest>; response: AddressBookEntry };
  'DELETE /panel/api/address-book/:id': { response: undefined };
}
