/**
 * Every tunable of the emulated cloud, one line each with its unit and where the number comes
 * from (STYLE.md habit 3). The servers, the PKI and the mailbox read these; tests may override
 * them through options but never restate them.
 */

import { DAY_MS } from '../../firmware/defaults.ts';

const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Simulated DNS: fake public addresses (RFC 5737 documentation range, so a log line can never
// be mistaken for a real host) and the ports each emulated service answers on.

export interface EmulatedHost {
  /** Fake public address the name resolves to in the SimNetwork. */
  readonly address: string;
  /** Subject CN of the server certificate (the real ones; RFC 9525 clients ignore it). */
  readonly commonName: string;
  /** subjectAltName DNS names of the server certificate. */
  readonly dnsNames: readonly string[];
}

export const EMULATED_HOSTS = {
  // The real certificate has CN=outlook.com and a long SAN list with both explicit names and
  // wildcards (protocols.md C.10): a CN-only check fails, a SAN check passes.
  'smtp.office365.com': {
    address: '203.0.113.10',
    commonName: 'outlook.com',
    dnsNames: ['outlook.com', '*.outlook.com', 'office365.com', '*.office365.com', 'smtp.office365.com'],
  },
  'smtp.gmail.com': { address: '203.0.113.11', commonName: 'smtp.gmail.com', dnsNames: ['smtp.gmail.com'] },
  'login.microsoftonline.com': {
    address: '203.0.113.20',
    commonName: 'stamp2.login.microsoftonline.com',
    dnsNames: ['login.microsoftonline.com', 'login.microsoft.com', 'login.windows.net', 'stamp2.login.microsoftonline.com'],
  },
  'accounts.google.com': { address: '203.0.113.30', commonName: 'accounts.google.com', dnsNames: ['accounts.google.com'] },
  // Google serves this name from a wildcard certificate: the device must match `*.googleapis.com`.
  'oauth2.googleapis.com': { address: '203.0.113.31', commonName: '*.googleapis.com', dnsNames: ['*.googleapis.com', 'googleapis.com'] },
  // Microsoft Graph (graph-api.ts) and the Outlook host its attachment upload sessions point at.
  'graph.microsoft.com': { address: '203.0.113.40', commonName: 'graph.microsoft.com', dnsNames: ['graph.microsoft.com', '*.graph.microsoft.com'] },
  'outlook.office.com': { address: '203.0.113.41', commonName: 'outlook.com', dnsNames: ['outlook.com', '*.outlook.com', 'outlook.office.com', '*.office.com'] },
} as const satisfies Record<string, EmulatedHost>;

export type EmulatedHostName = keyof typeof EMULATED_HOSTS;

/** Submission ports (protocols.md C.5): O365 587 STARTTLS; Gmail 465 implicit TLS and 587 STARTTLS. */
export const OFFICE365_SUBMISSION_PORT = 587;
export const GMAIL_IMPLICIT_TLS_PORT = 465;
export const GMAIL_STARTTLS_PORT = 587;

// ---------------------------------------------------------------------------------------------
// PKI validity, relative to the simulated "now" at cloud start (STYLE.md habit 7).

/** Root CAs: valid from 1 year before to 20 years after their creation; kept in the state dir. */
export const ROOT_CA_NOT_BEFORE_MS = 365 * DAY_MS;
export const ROOT_CA_NOT_AFTER_MS = 20 * 365 * DAY_MS;
/** Issuing (intermediate) CAs: made at every start, 30 days back to 3 years ahead. */
export const INTERMEDIATE_NOT_BEFORE_MS = 30 * DAY_MS;
export const INTERMEDIATE_NOT_AFTER_MS = 3 * 365 * DAY_MS;
/** Server certificates: 1 day back to 90 days ahead, like a public CA's short-lived leaf. */
export const LEAF_NOT_BEFORE_MS = 1 * DAY_MS;
export const LEAF_NOT_AFTER_MS = 90 * DAY_MS;

// ---------------------------------------------------------------------------------------------
// TLS of the emulated servers (tls-versions.ts, tls-levers.ts).

/** Lowest protocol version the emulated servers accept: Exchange Online requires TLS 1.2+ (protocols.md C.5); Gmail's TLS 1.0/1.1 is doubtful (E.6). */
export const TLS_SERVER_MIN_VERSION = 'TLSv1.2';
/** Highest: TLS 1.3 (RFC 8446), Node's own highest. */
export const TLS_SERVER_MAX_VERSION = 'TLSv1.3';
/** The `expired` lever's leaf ended this long before the world's now at the moment it was applied. */
export const TLS_LEVER_EXPIRED_AGO_MS = 1 * DAY_MS;
/** The `not-yet-valid` lever's leaf starts this long after the world's now at the moment it was applied. */
export const TLS_LEVER_NOT_YET_VALID_FOR_MS = 1 * DAY_MS;
/** The name the `wrong-host` lever's certificate is for unless the tester gives names (RFC 2606 reserved). */
export const TLS_LEVER_WRONG_HOST_NAME = 'mail.example.net';
/** Names one lever's certificate may carry (a real SAN list seldom has more than a few dozen). */
export const TLS_LEVER_MAX_DNS_NAMES = 50;

// ---------------------------------------------------------------------------------------------
// Identity services (entra-id.ts, google-oauth.ts).

/** An Entra ID error answer: `error`, and the AADSTS code and text of `error_description` (protocols.md A.5). */
export interface EntraRefusal {
  readonly error: string;
  readonly code: number;
  readonly text: string;
}

/**
 * What Entra answers a refresh token in the shape of its own that it does not know (one from
 * before `make reset`, from another directory, or sent with another client id). protocols.md A.5
 * and A.7 list AADSTS70000 among invalid_grant's codes without saying which case gets it; this
 * text was seen for a refresh token Entra would not take [OBS BingAds/BingAds-Python-SDK#279].
 * Uncertain, so set here: the device must treat any invalid_grant as "sign in again".
 */
export const ENTRA_UNKNOWN_REFRESH_TOKEN: EntraRefusal = {
  error: 'invalid_grant',
  code: 70000,
  text: "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.",
};
/** A refresh token that is not in that shape (cut short, mangled by URL encoding) [OBS MicrosoftDocs/azure-docs#63819]. */
export const ENTRA_MALFORMED_REFRESH_TOKEN: EntraRefusal = { error: 'invalid_grant', code: 9002313, text: 'Invalid request. Request is malformed or invalid.' };
/**
 * Rotated refresh tokens remembered per grant (the newest ones; a refresh rotates the token, so a
 * grant refreshed hourly would otherwise pile up 2000 in 90 days, in memory and in the state file).
 * An older one presented again is answered as unknown (ENTRA_UNKNOWN_REFRESH_TOKEN), a remembered one AADSTS70008.
 */
export const ENTRA_ROTATED_REFRESH_TOKENS_KEPT = 10;

// App-only (client credentials) and the authorization-code flow (entra-id.ts, entra-client-auth.ts,
// entra-authorize.ts; graph-exchange.md E, F).

/** How long an authorization code may be redeemed, ms: "code lives ~10 min" [DOC]. */
export const ENTRA_AUTH_CODE_LIFETIME_MS = 10 * 60_000;
/**
 * Tolerance of a client assertion's nbf and exp against the world clock, ms. Entra's own
 * tolerance for assertions is not in the reference sheet (uncertain); 5 minutes is the usual
 * default of Microsoft's token validators.
 */
export const ENTRA_ASSERTION_CLOCK_TOLERANCE_MS = 5 * 60_000;
/**
 * HTTP status of `invalid_client` answers on the client-credentials and authorization-code grants
 * (and refreshes of their grants): 401 as reported for AADSTS7000215/7000218 [OBS]. The device-code
 * path keeps protocols.md A.14's 400 for every error.
 */
export const ENTRA_INVALID_CLIENT_STATUS = 401;
/**
 * The start of AADSTS700027 for a key the app does not have. Two texts were seen [OBS]: the old
 * "Client assertion contains an invalid signature." (azure-sdk-for-net #29007) and the newer "The
 * certificate with identifier used to sign the client assertion is not registered on
 * application." (msal-js #8339, 2026). Which one a tenant gets now is uncertain.
 */
export const ENTRA_KEY_NOT_FOUND_TEXT = 'Client assertion contains an invalid signature.';
/**
 * An assertion whose `aud` is not this tenant's token endpoint. Neither the code nor the text is in
 * the reference sheet (uncertain): AADSTS50013 InvalidAssertion is the documented catch-all.
 */
export const ENTRA_ASSERTION_WRONG_AUDIENCE: EntraRefusal = {
  error: 'invalid_client',
  code: 50013,
  text: "Assertion failed signature validation. [Reason - The audience claim is not valid. Expected the token endpoint of the tenant, e.g. 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token'.]",
};
/**
 * A code redeemed with another redirect_uri than /authorize had: AADSTS500112 as seen in the field
 * (not in the reference sheet: uncertain); `{redeemed}` and `{authorized}` are filled in.
 */
export const ENTRA_REDIRECT_URI_MISMATCH_AT_TOKEN: EntraRefusal = {
  error: 'invalid_grant',
  code: 500112,
  text: "The reply address '{redeemed}' does not match the reply address '{authorized}' provided when requesting Authorization code.",
};
/** A client secret's life when the tester gives no end date, days: the portal's recommended 180 days. */
export const ENTRA_CLIENT_SECRET_DEFAULT_LIFETIME_DAYS = 180;
/** The scope of an app-only token for SMTP AUTH (XOAUTH2 with user= the mailboxes), and the role it needs [DOC] E. */
export const OFFICE365_APP_ONLY_SCOPE = 'https://outlook.office365.com/.default';
export const OFFICE365_APP_ONLY_ROLE = 'SMTP.SendAsApp';

/**
 * What Google answers a refresh token in the shape of its own that it does not know: as an
 * expired or revoked one (protocols.md B.7, `invalid_grant` "Token has been expired or
 * revoked."); one in no such shape is "Bad Request" (B.7, the generic answer).
 */
export const GOOGLE_UNKNOWN_REFRESH_TOKEN_DESCRIPTION = 'Token has been expired or revoked.';
export const GOOGLE_MALFORMED_REFRESH_TOKEN_DESCRIPTION = 'Bad Request';

// ---------------------------------------------------------------------------------------------
// SMTP servers.

/** O365 SIZE value for this emulator: 36 MiB (the default per-mailbox send limit, C.7), not the 150 MiB org maximum. */
export const OFFICE365_SIZE_OCTETS = 37_748_736;
/** Gmail SIZE value as advertised in EHLO (C.6, C.7). */
export const GMAIL_SIZE_OCTETS = 35_882_577;
/** RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including the CRLF. */
export const SMTP_MAX_TEXT_LINE_OCTETS = 1000;
/**
 * Longest command line the servers read before giving up (smtp-server answers 421 and closes).
 * RFC 5321 §4.5.3.1.4 says 512, but an `AUTH XOAUTH2 <base64>` line with a real Entra token is
 * 2-4 kB and both providers accept it, so this is the library's 16 KiB.
 */
export const SMTP_MAX_COMMAND_LINE_OCTETS = 16 * 1024;
/** Server idle timeout; RFC 5321 §4.5.3.2.7 asks a server to wait at least 5 minutes. */
export const SMTP_SERVER_IDLE_TIMEOUT_MS = 10 * 60_000;
/** Scope an access token must carry for SMTP AUTH (protocols.md A.8, B). */
export const OFFICE365_SMTP_SCOPE = 'https://outlook.office.com/SMTP.Send';
export const GMAIL_SMTP_SCOPE = 'https://mail.google.com/';

// ---------------------------------------------------------------------------------------------
// SMTP rules (smtp-rules.ts): the tester's scripted replies, delays and disconnects.

/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including the code and the CRLF. */
export const SMTP_REPLY_LINE_MAX_OCTETS = 512;
/** Lines a rule's reply may have (a multi-line reply such as Gmail's three-line 552). */
export const SMTP_RULE_MAX_REPLY_LINES = 20;
/** Longest `match` (substring or regular expression source), characters. */
export const SMTP_RULE_MAX_MATCH_CHARS = 500;
/** Longest delay a rule may ask for: past the client's longest RFC 5321 wait (10 min after "."). */
export const SMTP_RULE_MAX_DELAY_MS = 30 * 60_000;
/** Largest `times` / `nth` a rule may ask for. */
export const SMTP_RULE_MAX_COUNT = 1_000_000;
/** Rules one service holds at once (a bench needs a handful; this stops a runaway script). */
export const SMTP_RULES_MAX = 100;

// ---------------------------------------------------------------------------------------------
// Exchange Online limits for SMTP AUTH submission (graph-exchange.md G; exchange-limits.ts).

/** Concurrent connections sending at once per mailbox; the next gets 432 4.3.2 [DOC]. */
export const EXCHANGE_CONCURRENT_SUBMISSIONS = 3;
/** Messages a mailbox submits per minute; the excess is carried over to the next minutes [DOC]. */
export const EXCHANGE_MESSAGES_PER_MINUTE = 30;
/** The minute of the rate above, ms of the world clock. */
export const EXCHANGE_MESSAGE_RATE_WINDOW_MS = 60_000;
/** Recipients a mailbox may submit to in a rolling 24 h (not from midnight) [DOC]. */
export const EXCHANGE_RECIPIENTS_PER_DAY = 10_000;
export const EXCHANGE_RECIPIENT_WINDOW_MS = DAY_MS;
/**
 * Continuous-error throttling [DOC]: Microsoft publishes the five reasons but not the numbers
 * ("the throttling period will be decided by Microsoft"). These three are this emulator's guesses,
 * marked uncertain: failures of one reason that throttle a mailbox, the window they are counted
 * in, and how long the throttle lasts.
 */
export const EXCHANGE_CONTINUOUS_ERRORS_THRESHOLD = 10;
export const EXCHANGE_CONTINUOUS_ERRORS_WINDOW_MS = 10 * 60_000;
export const EXCHANGE_CONTINUOUS_ERRORS_THROTTLE_MS = 60 * 60_000;

// ---------------------------------------------------------------------------------------------
// Mailbox (the testers' Mailpit-like store).

export const MAILBOX_LIMITS = {
  /** Messages kept; the oldest go first when a new one would exceed a bound. */
  maxMessages: 500,
  /** Raw bytes kept in RAM across messages. */
  maxMemoryOctets: 256 * MIB,
  /** Raw bytes kept in all, RAM plus spill files. */
  maxTotalOctets: 2048 * MIB,
  /** A message bigger than this goes to a temp file instead of RAM (a bench sends 100 MB). */
  spillAboveOctets: 4 * MIB,
  /** Decoded text and HTML bodies kept for the summary; longer ones are cut and flagged. */
  maxBodyChars: 1 * MIB,
} as const;

/** Longest `waitFor` a caller may ask for (so a typo does not hang a test for an hour). */
export const MAILBOX_MAX_WAIT_MS = 10 * 60_000;

/** How often the cloud looks whether a standard certificate is due for renewal, ms of world time. */
export const CERTIFICATE_RENEWAL_CHECK_MS = 86_400_000;
/** A standard certificate is renewed this long before it ends (real services renew about a month ahead), ms. */
export const STANDARD_RENEW_BEFORE_MS = 30 * 86_400_000;

// ---------------------------------------------------------------------------------------------
// Microsoft Graph mail (graph-api.ts; graph-exchange.md A–D).

/** Graph's request size limit, octets: "a 4MB limit on the size of a request" [OBS], read as 4 MiB. */
export const GRAPH_MAX_REQUEST_OCTETS = 4 * MIB;
/** A mailbox's MaxSendSize, octets of the composed message: 35 MB by default [DOC], read as 35 MiB. */
export const GRAPH_MAX_SEND_SIZE_OCTETS = 35 * MIB;
/** Smallest attachment an upload session takes: "3 MB" [DOC] (a real server was seen to take 2 MiB), read as 3 MiB. */
export const GRAPH_UPLOAD_SESSION_MIN_OCTETS = 3 * MIB;
/**
 * `POST …/attachments` takes files "under 3 MB" [DOC], read as under 3 MiB; the request may then
 * pass 4 MiB by its base64. A real server was seen to refuse 3,145,612 bytes and up (413), the
 * 4 MB request limit showing through [OBS]: which one holds is uncertain.
 */
export const GRAPH_ATTACHMENT_POST_MAX_OCTETS = 3 * MIB;
/** Largest attachment an upload session takes: 150 MB [DOC], read as 150 MiB (MaxSendSize still applies). */
export const GRAPH_UPLOAD_SESSION_MAX_OCTETS = 150 * MIB;
/** Largest PUT to an upload URL: "up to 4 MB each time" [DOC]; a hard maximum is not documented (uncertain). */
export const GRAPH_UPLOAD_MAX_CHUNK_OCTETS = 4 * MIB;
/**
 * Every chunk but the last a multiple of this, octets (320 KiB). Documented for OneDrive and
 * SharePoint only; whether Outlook requires it is not confirmed either way, so the emulator is
 * strict: a client that passes here works on both.
 */
export const GRAPH_UPLOAD_CHUNK_MULTIPLE_OCTETS = 320 * 1024;
/** How long an upload session lives, ms: undocumented (samples show minutes to hours); uncertain. */
export const GRAPH_UPLOAD_SESSION_LIFETIME_MS = 60 * 60_000;
/** How long a created draft is kept without being sent or deleted, ms (the emulator's bound, not Exchange's). */
export const GRAPH_DRAFT_LIFETIME_MS = DAY_MS;
/** Drafts one emulator keeps at once (a runaway client cannot fill the memory). */
export const GRAPH_DRAFTS_MAX = 200;
/** Retry-After of the graph.fault lever's 429 and 503 unless the tester gives one, seconds. */
export const GRAPH_FAULT_RETRY_AFTER_S = 30;

/** A Graph error answer: HTTP status, `error.code`, `error.message`. */
export interface GraphRefusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * A request over GRAPH_MAX_REQUEST_OCTETS. Observed forms differ: 400 BadRequest "Maximum request
 * length exceeded." (2015), 400 "The maximum request length supported is 4MB." (2021), 413
 * RequestEntityTooLarge (2022, SDK) and the generic 413 text [DOC errors.md]. Uncertain: this one.
 */
export const GRAPH_REQUEST_TOO_LARGE: GraphRefusal = { status: 413, code: 'RequestEntityTooLarge', message: 'The request size exceeds the maximum limit.' };
/** No Authorization header or an empty bearer token; the text is not in the reference sheet (uncertain). */
export const GRAPH_TOKEN_EMPTY: GraphRefusal = { status: 401, code: 'InvalidAuthenticationToken', message: 'Access token is empty.' };
/** An expired token; the text is not in the reference sheet (uncertain). */
export const GRAPH_TOKEN_EXPIRED: GraphRefusal = { status: 401, code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' };
/**
 * An app-only token on `/me`: ErrorAccessDenied per the reference sheet (C); a 400 BadRequest
 * "/me request is only valid with delegated authentication flow." is also reported. Uncertain.
 */
export const GRAPH_ME_WITH_APP_TOKEN: GraphRefusal = { status: 403, code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' };
/**
 * A PUT to an upload URL that carries an Authorization header. The URL is pre-authenticated and
 * the documentation says to send none; what Outlook answers is not documented. A Graph token is
 * the wrong audience for outlook.office.com, hence this answer (uncertain).
 */
export const GRAPH_UPLOAD_WITH_AUTHORIZATION: GraphRefusal = { status: 401, code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' };
/** A Content-Range that is missing, malformed or disagrees with the session; Outlook's own code is not confirmed. */
export const GRAPH_UPLOAD_BAD_RANGE: GraphRefusal = { status: 400, code: 'invalidRange', message: 'The Content-Range header is missing or malformed.' };
/** A chunk that does not start at the next expected byte (generic Graph names, OneDrive-derived; uncertain for Outlook). */
export const GRAPH_UPLOAD_OVERLAP: GraphRefusal = { status: 416, code: 'invalidRange', message: 'Uploaded fragment overlaps with existing data.' };
export const GRAPH_UPLOAD_OUT_OF_ORDER: GraphRefusal = { status: 416, code: 'fragmentOutOfOrder', message: 'Uploaded fragment is out of order.' };
/** An upload URL that is unknown, expired or cancelled (generic Graph name; uncertain for Outlook). */
export const GRAPH_UPLOAD_SESSION_NOT_FOUND: GraphRefusal = { status: 404, code: 'uploadSessionNotFound', message: 'The upload session was not found or has expired.' };
/** A chunk that breaks the chunk rules above (size, 320 KiB multiple); uncertain. */
export const GRAPH_UPLOAD_BAD_CHUNK: GraphRefusal = { status: 400, code: 'invalidRange', message: 'The fragment size is not valid.' };
/** An attachment below GRAPH_UPLOAD_SESSION_MIN_OCTETS: the code is documented, the 400 is assumed. */
export const GRAPH_UPLOAD_TOO_SMALL: GraphRefusal = {
  status: 400,
  code: 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
  message: 'Attachment size should not be less than 3 MB. Please use POST attachments for smaller files.',
};
/** A message without Content-Length on `POST …/send` (generic 411 [DOC errors.md]). */
export const GRAPH_LENGTH_REQUIRED: GraphRefusal = { status: 411, code: 'LengthRequired', message: 'Content-Length header is required.' };
/**
 * An app-only token used on a mailbox outside the app's scope (ApplicationAccessPolicy): 403
 * ErrorAccessDenied "Access to OData is disabled." [DOC]. Under RBAC for Applications the answer
 * is not confirmed (expected the same 403), hence configurable.
 */
export const GRAPH_APP_MAILBOX_OUT_OF_SCOPE: GraphRefusal = { status: 403, code: 'ErrorAccessDenied', message: 'Access to OData is disabled.' };
/** An app-only token without any application permission (no admin consent): Graph's 400 NoPermissionsInAccessToken. */
export const GRAPH_NO_PERMISSIONS_IN_TOKEN: GraphRefusal = { status: 400, code: 'NoPermissionsInAccessToken', message: 'The token contains no permissions, or permissions can not be understood.' };
