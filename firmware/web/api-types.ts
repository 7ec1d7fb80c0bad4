/**
 * The Remote UI HTTP API's request schemas and response shapes. The Remote UI imports this file
 * (types and zod/mini schemas only); the firmware validates every body with the same schemas.
 * Documented for humans in docs/api.md.
 */
import type { SkewView } from '../clock/server-time.ts';
import * as z from 'zod/mini';
import { ADDRESS_BOOK_NAME_MAX, ADDRESS_BOOK_QUERY_MAX } from '../defaults.ts';
import { accountName, emailAddress, oneLine, optionalEmailAddress, password } from '../settings/fields.ts';
import type { SectionName } from '../settings/schemas.ts';
import { ROLES, type Role } from './roles.ts';

export const loginRequest = z.object({
  user: z.string().check(z.minLength(1, 'Enter a user name.'), z.maxLength(64, 'At most 64 characters.')),
  password: z.string().check(z.minLength(1, 'Enter the password.'), z.maxLength(256, 'At most 256 characters.')),
});

export const passwordChangeRequest = z.object({
  currentPassword: z.string().check(z.minLength(1, 'Enter the current password.'), z.maxLength(256)),
  newPassword: password,
});

export const accountCreateRequest = z.object({
  name: accountName,
  role: z.enum(ROLES),
  password,
  /** The user's own e-mail address ("Send to Myself" at the panel, Reply-To); '' or absent: none. */
  address: z.optional(optionalEmailAddress),
});

export const accountUpdateRequest = z.object({
  role: z.optional(z.enum(ROLES)),
  password: z.optional(password),
  /** '' removes the address; absent keeps it. */
  address: z.optional(optionalEmailAddress),
});

export const clockSetRequest = z.object({
  /** Local date and time in the device's time zone, `YYYY-MM-DDTHH:MM:SS`. */
  local: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, 'Use the form YYYY-MM-DDTHH:MM:SS.')),
});

export interface ApiError {
  readonly error: string;
  readonly message: string;
  readonly fields?: readonly { readonly path: string; readonly message: string }[];
  readonly retryAfterS?: number;
}

export interface DeviceInfo {
  readonly productName: string;
  readonly deviceName: string;
  readonly firmwareVersion: string;
}

export interface SessionInfo {
  readonly user: string;
  readonly role: Role;
  readonly mustChangePassword: boolean;
  readonly csrfToken: string;
  readonly idleTimeoutS: number;
  /** Settings sections this role may open. */
  readonly sections: readonly SectionName[];
  readonly capabilities: readonly string[];
}

export interface ClockView {
  readonly wallMs: number;
  /** `YYYY-MM-DDTHH:MM:SS` in `timeZone`. */
  readonly local: string;
  readonly timeZone: string;
  /** False when the RTC reads a date before the firmware was built (e.g. after battery loss). */
  readonly plausible: boolean;
  readonly lastChange?: { readonly reason: string; readonly fromWallMs: number; readonly toWallMs: number };
}

export interface DeviceStatus {
  readonly deviceName: string;
  readonly location: string;
  readonly serialNumber: string;
  readonly firmwareVersion: string;
  /** 'ready' or a short problem code, e.g. 'clock-not-set'. */
  readonly state: 'ready' | 'clock-not-set';
  readonly stateMessage: string;
  readonly clock: ClockView;
  readonly uptimeS: number;
  /** What an administrator should act on, most urgent first (notices.ts). */
  readonly notices: readonly DeviceNotice[];
}

/** One thing to act on: a certificate that expires soon or has, an OAuth grant that needs the admin, a fault of the device's own. */
export interface DeviceNotice {
  readonly code: 'ca-expired' | 'ca-expiring' | 'device-certificate-expired' | 'device-certificate-expiring' | 'oauth-microsoft' | 'oauth-google' | 'device-fault';
  readonly level: 'error' | 'warning';
  readonly message: string;
  /** The Remote UI page where it is fixed (a settings section) or looked into (the event log). */
  readonly page: 'certificates' | 'oauthMicrosoft' | 'oauthGoogle' | 'events';
}

export interface SettingsView<T = Record<string, unknown>> {
  /** The section with every secret field blanked. */
  readonly values: T;
  /** For each secret field, whether a value is stored. */
  readonly secretsSet: Readonly<Record<string, boolean>>;
}

export interface AccountInfo {
  readonly name: string;
  readonly role: Role;
  readonly mustChangePassword: boolean;
  readonly address?: string;
}

// --- Address book (firmware/send/address-book.ts; panel and Remote UI) -------------------------

/** An entry as it is added or replaced: a name for people to find it by and the address. */
export const addressBookEntryRequest = z.object({
  name: z.string().check(
    z.trim(),
    z.minLength(1, 'Enter a name.'),
    z.maxLength(ADDRESS_BOOK_NAME_MAX, `At most ${ADDRESS_BOOK_NAME_MAX} characters.`),
    // oxlint-disable-next-line no-control-regex -- refusing control characters is the point
    z.regex(/^[^\u0000-\u001f\u007f]*$/u, 'Must be one line without control characters.'),
  ),
  address: emailAddress,
});
export type AddressBookEntryRequest = z.infer<typeof addressBookEntryRequest>;

/** The search text of `GET …/address-book?q=`: part of a name or an address, any case. */
export const addressBookQuery = z.string().check(z.maxLength(ADDRESS_BOOK_QUERY_MAX, `At most ${ADDRESS_BOOK_QUERY_MAX} characters.`));

/** One address book entry (`GET /panel/api/address-book`, `GET /api/address-book`). */
export interface AddressBookEntry {
  readonly id: string;
  readonly name: string;
  readonly address: string;
}

// --- E-mail: check connection, test e-mail, transcripts (issue 3) ---------------------------

/** The rungs of the Check-connection ladder, in order. */
export const CHECK_STEPS = ['dns', 'tcp', 'tls', 'certificate', 'ehlo', 'auth', 'mail', 'rcpt'] as const;
/**
 * With OAuth 2.0 the ladder starts one rung earlier: a new access token from the identity server,
 * so that the check proves the refresh token works, not only that a cached access token is there.
 */
export const CHECK_STEPS_OAUTH = ['token', ...CHECK_STEPS] as const;
export type CheckStep = (typeof CHECK_STEPS_OAUTH)[number];

export interface CheckStepResult {
  readonly step: CheckStep;
  readonly status: 'ok' | 'failed' | 'skipped';
  /** Device error code when failed, e.g. `#852`. */
  readonly code?: string;
  /** What happened, in an admin's words (e.g. "smtp.gmail.com resolved", "TLSv1.3, TLS_AES_256_GCM_SHA384"). */
  readonly message: string;
  /** What to do about it, when failed. */
  readonly remedy?: string;
}

export interface CheckConnectionResult {
  readonly ok: boolean;
  readonly steps: readonly CheckStepResult[];
  readonly transcriptId: string;
  /** The device clock disagrees with the time in the server's greeting beyond tolerance. */
  readonly clockWarning?: string;
}

export interface RecipientView {
  readonly address: string;
  readonly accepted: boolean;
  /** The server's reply to RCPT TO, e.g. `550 5.1.1 User unknown`. */
  readonly reply: string;
}

export interface SendResultView {
  /** True when the server took the message for at least one recipient (see `recipients`). */
  readonly ok: boolean;
  readonly code?: string;
  readonly message: string;
  readonly remedy?: string;
  readonly transcriptId: string;
  readonly messageId?: string;
  /** One result per recipient, when the session got that far. */
  readonly recipients?: readonly RecipientView[];
  /** The device clock disagrees with the time in the server's greeting beyond tolerance. */
  readonly clockWarning?: string;
}

export interface TranscriptSummary {
  readonly id: string;
  readonly kind: 'check' | 'test' | 'send';
  readonly startedWallMs: number;
  readonly server: string;
  readonly ok: boolean;
  readonly code?: string;
}

/**
 * Body of check / test / validate-and-save: the (possibly unsaved) e-mail settings from the form
 * (a secret left out means "the stored one") and, for test and validate, the recipient.
 */
export const emailActionRequest = z.object({
  settings: z.optional(z.record(z.string(), z.unknown())),
  to: z.optional(z.string().check(z.maxLength(254))),
});

// --- Certificates (issue 3) --------------------------------------------------------------------

export interface CertificateView {
  /** SHA-256 fingerprint, colon hex: also the id. */
  readonly id: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly keyType: string;
  readonly factory?: boolean;
  /** True when the device clock is outside the validity period. */
  readonly expired?: boolean;
  /** Whole days left, when the end is within CERT_EXPIRY_WARNING_MS (0: it ends within a day). */
  readonly expiresInDays?: number;
}

export const caImportRequest = z.object({
  /** PEM text (one or more certificates) or base64 of a DER file. */
  pem: z.optional(z.string().check(z.maxLength(48 * 1024))),
  derBase64: z.optional(z.string().check(z.maxLength(48 * 1024))),
});

// --- OAuth 2.0 (issue 4) ----------------------------------------------------------------------

export type OAuthProvider = 'microsoft' | 'google';

export type TokenStatusName =
  | 'not-configured'
  | 'waiting-for-user'
  | 'active'
  | 'refreshing'
  | 'revalidating'
  | 'invalid-clock-changed'
  | 'reauthorization-needed'
  | 'error';

/** `GET /api/oauth/:provider`: everything the OAuth page shows; it updates by itself (poll it). */
export interface OAuthStatusView {
  readonly provider: OAuthProvider;
  readonly tokenStatus: TokenStatusName;
  /** One sentence for the admin, e.g. "Active" or "Invalid: the date/time was changed after registration: register again". */
  readonly statusMessage: string;
  readonly code?: string;
  readonly remedy?: string;
  /** Server Connection Status: the authorization server reachable and its certificate accepted. */
  readonly serverConnection: { readonly ok: boolean; readonly message: string; readonly checkedWallMs?: number };
  /** Microsoft device code flow, while waiting for the user. */
  readonly userCode?: string;
  readonly verificationUri?: string;
  /** Where the admin's browser should go instead of `verificationUri` (the simulator's copy of the page). */
  readonly verificationLink?: string;
  readonly message?: string;
  readonly userCodeExpiresInS?: number;
  /** Google: the consent page address to open, while waiting for the pasted code. */
  readonly authorizationUrl?: string;
  /** Where the admin's browser should go instead of `authorizationUrl` (the simulator's copy of the page). */
  readonly authorizationLink?: string;
  /** Seconds until the access token is refreshed, when known. */
  readonly accessTokenRefreshInS?: number;
  /** The device clock against the identity server's Date, when it is off by more than the tolerance. */
  /** The device clock against the latest server time seen (token endpoint Date, Office 365 greeting), when beyond tolerance. */
  readonly skew?: SkewView;
}

export const googlePastedCodeRequest = z.object({
  pasted: z.string().check(z.minLength(1, 'Paste the code or the whole address from the browser.'), z.maxLength(4096)),
});

// --- Control panel: scan to e-mail (firmware/web/panel-routes.ts) --------------------------------

/** A file name the operator types: no path separators or control characters, not "." or "..". */
export const scanFileName = z.string().check(
  z.minLength(1, 'Enter a file name.'),
  z.maxLength(100, 'At most 100 characters.'),
  // oxlint-disable-next-line no-control-regex -- refusing control characters is the point
  z.regex(/^[^\u0000-\u001f\u007f/\\:*?"<>|]+$/u, 'No / \\ : * ? " < > | or control characters.'),
  z.refine((v) => v.trim() !== '' && v !== '.' && v !== '..', 'Enter a file name.'),
);

const destinationList = z.array(emailAddress).check(z.maxLength(50, 'At most 50 addresses.'));

export const scanRequest = z.object({
  to: destinationList,
  cc: destinationList,
  bcc: destinationList,
  subject: oneLine(200),
  body: z.string().check(z.maxLength(4000, 'At most 4000 characters.')),
  fileName: scanFileName,
  format: z.enum(['pdf', 'jpeg']),
  colour: z.enum(['colour', 'greyscale', 'black-and-white']),
  dpi: z.union([z.literal(150), z.literal(300), z.literal(600)]),
  pages: z.int().check(z.minimum(1, 'Scan at least one page.'), z.maximum(999, 'At most 999 pages.')),
});
export type ScanRequestBody = z.infer<typeof scanRequest>;

/** One line of the send job log (`GET /api/jobs`). */
export interface JobLogEntry {
  readonly id: string;
  readonly createdWallMs: number;
  readonly finishedWallMs?: number;
  readonly operator: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly pages: number;
  readonly format: string;
  readonly sizeBytes: number;
  readonly state: 'queued' | 'sending' | 'retrying' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly code?: string;
  readonly message?: string;
  readonly transcriptId?: string;
  readonly possibleDuplicate?: boolean;
  readonly recipients?: readonly RecipientView[];
  /** The same in every attempt and part: what recipients' mail programs see. */
  readonly messageId: string;
}

/** Why sending cannot work now, in the operator's words, with the device code (`GET /panel/api/status`). */
export interface PanelProblem {
  readonly code: string;
  readonly message: string;
}

export interface PanelOperator {
  readonly name: string;
  /** The operator's own address, from their account ("Send to Myself", Reply-To); absent when the account has none. */
  readonly address?: string;
}

/** `GET /panel/api/status`. */
export interface PanelStatus {
  readonly deviceName: string;
  readonly operator: PanelOperator | null;
  readonly problems: readonly PanelProblem[];
  /** Whether this operator may add, change and delete address book entries (Security settings). */
  readonly addressBookEditable: boolean;
}

export type PanelJobPhase = 'scanning' | 'queued' | 'connecting' | 'sending' | 'finishing' | 'retrying' | 'delivered' | 'failed';

/** Where a job is, as the panel's progress bar and history show it (`GET /panel/api/jobs[/:id]`). */
export interface PanelJobView {
  readonly id: string;
  readonly createdWallMs: number;
  readonly operator: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly pages: number;
  readonly phase: PanelJobPhase;
  /** 0–100 within the phase: pages while scanning, bytes while sending. */
  readonly percent: number;
  readonly code?: string;
  /** The operator's sentence (delivered, or why not and what to do). */
  readonly message: string;
  readonly possibleDuplicate?: boolean;
  readonly nextAttemptWallMs?: number;
  /** Once the scan is queued: what was scanned, and the attachments' names. */
  readonly scan?: { readonly format: 'pdf' | 'jpeg'; readonly colour: 'colour' | 'greyscale' | 'black-and-white'; readonly dpi: 150 | 300 | 600; readonly pages: number };
  readonly files?: readonly string[];
}

// --- Settings export and import (configuration-routes.ts) --------------------------------------

/** `GET /api/configuration`: the settings file. Secrets are left out (`secretsOmitted` names them). */
export interface ConfigurationFile {
  readonly format: 'mfp-send-settings';
  readonly version: 1;
  readonly firmwareVersion?: string;
  readonly exportedAt?: string;
  readonly deviceName?: string;
  /** `section.field` of each secret that had a value on the exporting device. */
  readonly secretsOmitted?: readonly string[];
  readonly sections: Partial<Record<SectionName, Record<string, unknown>>>;
}

/** `POST /api/configuration`: what was stored. */
export interface ConfigurationImportResult {
  readonly imported: readonly SectionName[];
}
