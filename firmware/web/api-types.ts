/**
 * The Remote UI HTTP API's request schemas and response shapes. Terms of the domain (device
 * codes, OAuth status names, the check ladder's rungs, address book entries, scan requests) live
 * with their owners and are re-exported here; this file adds the web's own shapes. The Remote UI imports this file
 * (types and zod/mini schemas only); the firmware validates every body with the same schemas.
 * Documented for humans in docs/api.md.
 */
export type { DeviceCode } from '../device-codes.ts';
import type { SkewView } from '../clock/server-time.ts';
import type { DeviceCode } from '../device-codes.ts';
import type { TokenStatusName } from '../oauth/oauth-state.ts';
import type { OAuthProvider } from '../oauth/provider.ts';
import type { CheckStep, RecipientOutcome, SendOutcome } from '../send/send-outcome.ts';
import type { TranscriptRecord } from '../send/transcript-log.ts';
import * as z from 'zod/mini';
import { accountName, optionalEmailAddress, password } from '../settings/fields.ts';
import type { SectionName } from '../settings/schemas.ts';
import type { PasswordPolicy } from './password-policy.ts';
import type { SectionForm } from './section-forms.ts';
export type { FormField, SectionForm } from './section-forms.ts';
import { ROLES, type Role } from './roles.ts';

const loginUser = z.string().check(z.minLength(1, 'Enter a user name.'), z.maxLength(64, 'At most 64 characters.'));
const loginPassword = z.string().check(z.minLength(1, 'Enter the password.'), z.maxLength(256, 'At most 256 characters.'));

export const loginRequest = z.object({ user: loginUser, password: loginPassword });

/** `POST /panel/api/password`: the operator's own change at the panel, signed by the current password (no session there). */
export const panelPasswordChangeRequest = z.object({ user: loginUser, password: loginPassword, newPassword: password });

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
  /** The admin confirmed a change that voids (or re-validates) OAuth grants; without it such a change is refused with 409 `confirm`. */
  confirm: z.optional(z.boolean()),
});

/** An OAuth grant a change of the date/time puts at stake: void, or re-validated against server time. */
export interface GrantAtStake {
  readonly provider: OAuthProvider;
  /** The e-mail account that uses it (E-mail settings), when one does. */
  readonly account?: string;
  readonly outcome: 'void' | 'revalidate';
}

/** `PUT /api/clock` refused until confirmed (409): the sentence to show, and the grants at stake. */
export interface ClockConfirmError extends ApiError {
  readonly error: 'confirm';
  readonly voids: readonly GrantAtStake[];
}

export interface ApiError {
  readonly error: string;
  readonly message: string;
  readonly fields?: readonly { readonly path: string; readonly message: string }[];
  readonly retryAfterS?: number;
}

/** `GET /api/password-policy`: the rules a new password must meet (Login Security), and them in one line. */
export interface PasswordPolicyView extends PasswordPolicy {
  readonly summary: string;
}

export interface DeviceInfo {
  readonly productName: string;
  readonly deviceName: string;
  readonly firmwareVersion: string;
}

export interface SessionInfo {
  readonly loggedIn: true;
  readonly user: string;
  readonly role: Role;
  readonly mustChangePassword: boolean;
  readonly csrfToken: string;
  readonly idleTimeoutS: number;
  /** Settings sections this role may open. */
  readonly sections: readonly SectionName[];
  readonly capabilities: readonly string[];
}

/** `GET /api/session` without a live session: not an error, the login page's starting point. */
export interface LoggedOut {
  readonly loggedIn: false;
  /** Why a session the browser still presented is gone: the printer restarted, or it ended (idle, logged out). */
  readonly message?: string;
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
  readonly code:
    | 'ca-expired'
    | 'ca-expiring'
    | 'device-certificate-expired'
    | 'device-certificate-expiring'
    | 'oauth-microsoft'
    | 'oauth-google'
    | 'oauth-client-secret-expiring'
    | 'oauth-client-secret-expired'
    | 'device-fault'
    | 'server-certificate-unverified'
    | 'email-not-set-up';
  readonly level: 'error' | 'warning';
  readonly message: string;
  /** The Remote UI page where it is fixed (a settings section) or looked into (the event log). */
  readonly page: 'certificates' | 'oauthMicrosoft' | 'oauthGoogle' | 'events' | 'email';
}

export interface SettingsView<T = Record<string, unknown>> {
  /** The section with every secret field blanked. */
  readonly values: T;
  /** For each secret field, whether a value is stored. */
  readonly secretsSet: Readonly<Record<string, boolean>>;
  /** How the Remote UI shows the section: title, labels, hints, choices (section-forms.ts). */
  readonly form: SectionForm;
}

export interface AccountInfo {
  readonly name: string;
  readonly role: Role;
  readonly mustChangePassword: boolean;
  readonly address?: string;
  /** Present while logins for this name are locked (web/login-throttle.ts). */
  readonly locked?: AccountLock;
}

/** A lockout: until when (device wall clock), and the failed logins behind it (those that locked it and those refused since). */
export interface AccountLock {
  readonly untilWallMs: number;
  readonly failures: number;
}

// --- Address book (firmware/send/address-book-entry.ts; panel and Remote UI) ---------------------

export { addressBookEntryRequest, addressBookQuery, type AddressBookEntry, type AddressBookEntryRequest } from '../send/address-book-entry.ts';


// --- E-mail: check connection, test e-mail, transcripts ---------------------------------------

export { CHECK_STEPS, CHECK_STEPS_GRAPH, CHECK_STEPS_OAUTH, type CheckStep } from '../send/send-outcome.ts';
/** One recipient's answer to RCPT TO. */
export type RecipientView = RecipientOutcome;
/** `POST /api/settings/email/test` and `…/validate`: how the send went. */
export type SendResultView = SendOutcome;


export interface CheckStepResult {
  readonly step: CheckStep;
  /** 'warning': passed only because a check is turned off (the certificate rung with Verify Server Certificate off). */
  readonly status: 'ok' | 'warning' | 'failed' | 'skipped';
  /** Device code when failed, e.g. `#852`. */
  readonly code?: DeviceCode;
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


/** One transcript in the list (`GET /api/email/transcripts`): the record without its text. */
export type TranscriptSummary = Omit<TranscriptRecord, 'text'>;

/**
 * Body of check / test / validate-and-save: the (possibly unsaved) e-mail settings from the form
 * (a secret left out means "the stored one") and, for test and validate, the recipient.
 */
export const emailActionRequest = z.object({
  settings: z.optional(z.record(z.string(), z.unknown())),
  // Pure: the Remote UI does not validate this body, and its bundle then drops the schema (a `.check()` call is kept unless marked).
  to: z.optional(/* @__PURE__ */ z.string().check(z.maxLength(254))),
});

// --- Certificates ------------------------------------------------------------------------------

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

// --- OAuth 2.0 ---------------------------------------------------------------------------------

export type { OAuthProvider } from '../oauth/provider.ts';
export type { TokenStatusName } from '../oauth/oauth-state.ts';


/** `GET /api/oauth/:provider`: everything the OAuth page shows; it updates by itself (poll it). */
export interface OAuthStatusView {
  readonly provider: OAuthProvider;
  readonly tokenStatus: TokenStatusName;
  /** One sentence for the admin, e.g. "Active" or "Invalid: the date/time was changed after registration: register again". */
  readonly statusMessage: string;
  readonly code?: DeviceCode;
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
  /** Seconds until the device checks the grant with a refresh of its own (a send that needs a token refreshes sooner), when Active. */
  readonly nextCheckInS?: number;
  /** The device clock against the identity server's Date, when it is off by more than the tolerance. */
  /** The device clock against the latest server time seen (token endpoint Date, Office 365 greeting), when beyond tolerance. */
  readonly skew?: SkewView;
  /** Microsoft: how the device signs in and what for, e.g. "App-only (client credentials), device certificate · Microsoft Graph". */
  readonly mode?: string;
  /** Microsoft with Credential "Certificate": the device's certificate to upload to the app registration (download: `GET /api/oauth/microsoft/certificate`). */
  readonly appCertificate?: AppCertificateView;
}

/** The device's certificate for app-only sign-in, as the Entra portal lists it after the upload. */
export interface AppCertificateView {
  readonly subject: string;
  /** SHA-1 thumbprint, upper-case hex without separators: the Entra portal's "Thumbprint" column. */
  readonly thumbprint: string;
  /** SHA-256 of the certificate, upper-case hex (the x5t#S256 of a PS256 assertion). */
  readonly sha256: string;
  readonly notAfterMs: number;
  readonly expired: boolean;
  /** Days left when within the warning period. */
  readonly expiresInDays?: number;
}

export const googlePastedCodeRequest = z.object({
  pasted: z.string().check(z.minLength(1, 'Paste the code or the whole address from the browser.'), z.maxLength(4096)),
});

// --- Control panel: scan to e-mail (firmware/web/panel-routes.ts) --------------------------------

export { scanFileName, scanRequest, type ScanRequestBody } from '../send/scan-request.ts';


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
  readonly code?: DeviceCode;
  readonly message?: string;
  readonly transcriptId?: string;
  /** With `transcriptId`: whether the device still keeps that transcript (false: "no longer kept", not a link). */
  readonly transcriptKept?: boolean;
  readonly possibleDuplicate?: boolean;
  readonly recipients?: readonly RecipientView[];
  /** The same in every attempt and part: what recipients' mail programs see. */
  readonly messageId: string;
}

/** Why sending cannot work now, in the operator's words, with the device code (`GET /panel/api/status`). */
export interface PanelProblem {
  readonly code: DeviceCode;
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

export const PANEL_JOB_PHASES = ['scanning', 'queued', 'connecting', 'sending', 'finishing', 'retrying', 'delivered', 'failed'] as const;
export type PanelJobPhase = (typeof PANEL_JOB_PHASES)[number];

/** Where a job is, as the panel's progress bar and history show it (`GET /panel/api/jobs[/:id]`). */
export interface PanelJobView {
  readonly id: string;
  readonly createdWallMs: number;
  readonly operator: string;
  readonly to: readonly string[];
  /** Cc and Bcc apart from To, as the operator entered them (the job's own operator, or anyone for a guest's job). */
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly pages: number;
  readonly phase: PanelJobPhase;
  /** 0–100 within the phase: pages while scanning, bytes while sending. */
  readonly percent: number;
  readonly code?: DeviceCode;
  /** The operator's sentence (delivered, or why not and what to do). */
  readonly message: string;
  readonly possibleDuplicate?: boolean;
  readonly nextAttemptWallMs?: number;
  /** Once the scan is queued: what was scanned, and the attachments' names. */
  readonly scan?: { readonly format: 'pdf' | 'jpeg'; readonly colour: 'colour' | 'greyscale' | 'black-and-white'; readonly dpi: 150 | 300 | 600; readonly pages: number };
  readonly files?: readonly string[];
}

// --- Settings export and import (configuration-routes.ts) --------------------------------------

/** The parts of a settings file besides the sections (configuration-routes.ts). */
export const CONFIGURATION_PARTS = ['caCertificates', 'addressBook', 'accounts'] as const;
export type ConfigurationPart = (typeof CONFIGURATION_PARTS)[number];

/**
 * `GET /api/configuration`: the settings file. Secrets are left out (`secretsOmitted` names them),
 * and so are the accounts' passwords. Version 1 files have no `parts`.
 */
export interface ConfigurationFile {
  readonly format: 'mfp-send-settings';
  readonly version: 1 | 2;
  readonly firmwareVersion?: string;
  readonly exportedAt?: string;
  readonly deviceName?: string;
  /** `section.field` of each secret that had a value on the exporting device. */
  readonly secretsOmitted?: readonly string[];
  readonly sections: Partial<Record<SectionName, Record<string, unknown>>>;
  readonly parts?: {
    /** The whole CA store: each certificate's DER in base64. */
    readonly caCertificates?: { readonly certificates: readonly string[] };
    readonly addressBook?: { readonly entries: readonly { readonly name: string; readonly address: string }[] };
    /** Without passwords. */
    readonly accounts?: { readonly accounts: readonly { readonly name: string; readonly role: Role; readonly address?: string }[] };
  };
}

/** `POST /api/configuration`: what was stored, and the initial password of each account it created (shown once). */
export interface ConfigurationImportResult {
  readonly imported: readonly SectionName[];
  readonly parts: readonly ConfigurationPart[];
  readonly initialPasswords: readonly { readonly name: string; readonly password: string }[];
}
