/**
 * Every tunable of the firmware, in one place (STYLE.md habit 3). Each line names its unit and
 * the reason behind the number. The simulator, the Remote UI and the tests read these; they never
 * restate them.
 */

export const FIRMWARE_VERSION = '0.1.0';

/** One day, milliseconds: the unit the day-counted tunables below are written in. */
export const DAY_MS = 86_400_000;

// --- Accounts and login ----------------------------------------------------------------------

/** PBKDF2-SHA256 iterations for new password hashes: OWASP Password Storage Cheat Sheet (2023+) minimum. */
export const PBKDF2_ITERATIONS = 600_000;
/** Salt length, bytes: NIST SP 800-132 asks for at least 128 bits. */
export const PASSWORD_SALT_BYTES = 16;
/** Derived key length, bytes: one SHA-256 output. */
export const PASSWORD_HASH_BYTES = 32;
/**
 * Shortest password any policy allows, characters (NIST SP 800-63B §5.1.1.2: at least 8): the
 * floor of the Minimum Password Length setting, which decides (web/password-policy.ts).
 */
export const PASSWORD_MIN_LENGTH = 8;
/** Host names an administrator can give the device (Device → Host Names), and the field's length. */
export const HOST_NAMES_MAX = 8;
export const HOST_NAME_LIST_MAX_LENGTH = 512;
/** Longest password accepted, characters: bounds the hashing work an anonymous request can cause. */
export const PASSWORD_MAX_LENGTH = 128;
/** Highest Minimum Password Length an admin may set, characters. */
export const PASSWORD_MIN_LENGTH_SETTING_MAX = 32;
/** Minimum Password Length, factory value, characters: the NIST floor (SP 800-63B §5.1.1.2). */
export const PASSWORD_MIN_LENGTH_DEFAULT = 8;
/**
 * How many of the four character classes (lowercase, uppercase, digits, symbols) a password
 * must use, factory value: 0, none. NIST SP 800-63B §5.1.1.2 asks verifiers not to impose
 * composition rules (they breed `Password1!`) and to refuse known-bad passwords instead, which
 * the common-password check does; printers ship their password policy switched off as well. A
 * site whose policy demands classes sets 1–4. 0 also keeps every label password (12 random
 * characters that may by chance all be of one class) a valid password under the factory policy.
 */
export const PASSWORD_CHARACTER_CLASSES_DEFAULT = 0;
/** Refuse a password that is or contains the user name (case-insensitive), factory value (NIST SP 800-63B §5.1.1.2: context-specific words). */
export const PASSWORD_REFUSE_USER_NAME_DEFAULT = true;
/** Refuse a password from the common-password list (web/common-passwords.ts), factory value (NIST SP 800-63B §5.1.1.2: a blocklist). */
export const PASSWORD_REFUSE_COMMON_DEFAULT = true;
/**
 * Shortest user name the "contains the user name" rule looks for inside a password, characters;
 * a shorter name is refused only as the whole password. Windows' complexity rule skips names
 * under three characters for the same reason: `al` would forbid half the dictionary.
 */
export const PASSWORD_USER_NAME_CONTAINED_MIN = 3;
/** Length of the per-device factory password printed on the label, characters (ETSI EN 303 645 5.1-1: unique per device). */
export const FACTORY_PASSWORD_LENGTH = 12;
/** Most accounts the device stores: a printer's address book for logins is small. */
export const ACCOUNTS_MAX = 50;

/** Failed logins that lock an account (Canon: 1–10; ours defaults to 5). */
export const LOCKOUT_THRESHOLD_DEFAULT = 5;
/** Window in which failures are counted, minutes (Canon counts within three minutes). */
export const LOCKOUT_WINDOW_MIN_DEFAULT = 3;
/** How long a lock lasts, minutes (Canon: 1–60). */
export const LOCKOUT_DURATION_MIN_DEFAULT = 5;
/** Idle time after which a Remote UI session ends, minutes (Konica Minolta: 10 in admin mode). */
export const SESSION_IDLE_MIN_DEFAULT = 10;
/**
 * Idle time after which the operator at the control panel is logged out, minutes: a printer's
 * "auto reset" (Canon's Auto Clear Time and Konica Minolta's System Auto Reset default to 1–2).
 */
export const PANEL_AUTO_LOGOUT_MIN_DEFAULT = 2;
/** The setting's range, minutes (Konica Minolta's System Auto Reset Time: 1–9). */
export const PANEL_AUTO_LOGOUT_MIN_MAX = 9;
/**
 * Most concurrent Remote UI sessions of one user (browsers, tabs after a new login): beyond it that
 * user's longest-unused session ends, never another user's. With ACCOUNTS_MAX this bounds the table.
 */
export const SESSIONS_PER_USER_MAX = 4;
/**
 * User names whose logins are being counted at once (locked, failing in the window, or being
 * verified): bounded memory, a few numbers each. A live name is never dropped to make room (that
 * would flush its lock); beyond this, attempts for names not yet counted are refused until
 * windows end.
 */
export const LOGIN_FAILURE_TRACK_MAX = 4096;
/** Logins one client address may have verified at once (each holds a password hash); more are refused with 429 at once. */
export const LOGIN_ADDRESS_IN_FLIGHT_MAX = 2;
/** Failed logins one client address may make in the lockout window, whatever the names; then it waits out the lockout duration. */
export const LOGIN_ADDRESS_FAILURE_MAX = 30;
/** Retry-After for a login refused because others are being verified, ms. */
export const LOGIN_BUSY_RETRY_MS = 1000;

// --- Remote UI HTTP server ---------------------------------------------------------------------

/** Largest request body the Remote UI API accepts, bytes. Settings fit in a few kB. */
export const HTTP_BODY_MAX_BYTES = 64 * 1024;
/**
 * Largest configuration file imported (`POST /api/configuration`), bytes: it carries the whole CA
 * store, up to PKI_CA_STORE_MAX_ENTRIES certificates in base64 (a host network device's ~150
 * public roots alone are ~280 kB), beside the settings, address book and accounts.
 */
export const CONFIGURATION_BODY_MAX_BYTES = 1024 * 1024;
/** Session cookie name. */
export const SESSION_COOKIE = 'rui_session';
/** Header that carries the CSRF token on state-changing requests. */
export const CSRF_HEADER = 'x-csrf-token';
/** Header a page's timed refresh sends ("1") so that polling does not count as user activity. */
export const BACKGROUND_HEADER = 'x-rui-background';

// --- Clock -------------------------------------------------------------------------------------

/** The RTC's factory date, ms since epoch: where the clock restarts after battery loss (2024-01-01T00:00:00Z). */
export const RTC_FACTORY_WALL_MS = Date.UTC(2024, 0, 1);
/** Earliest wall time the device treats as plausibly set (the firmware's build year); earlier = "clock not set". */
export const WALL_PLAUSIBLE_AFTER_MS = Date.UTC(2026, 0, 1);
/** Drift the simulated RTC accepts, parts per million either way (a cheap crystal drifts 20–100 ppm). */
export const RTC_DRIFT_MAX_PPM = 100_000;

// --- NVRAM -------------------------------------------------------------------------------------

/** Largest NVRAM record, bytes; a larger one is treated as corrupt. */
export const NVRAM_RECORD_MAX_BYTES = 1024 * 1024;
/**
 * Device events kept (firmware/events.ts), count: in RAM and in NVRAM (record `events/log`, the
 * audit trail that survives a power cycle); the oldest dropped first. With the bounds below the
 * record stays far below NVRAM_RECORD_MAX_BYTES (200 × ~2 kB at most).
 */
export const DEVICE_EVENTS_MAX = 200;
/** Of those, failed logins at most, count: a flood of guesses drops older guesses, not the rest of the audit trail. */
export const DEVICE_EVENTS_LOGIN_FAILED_MAX = 100;
/** Longest event message kept, characters (longer ones end in "…"). */
export const DEVICE_EVENT_MESSAGE_MAX_CHARS = 500;
/** Longest text field of an event kept, characters. */
export const DEVICE_EVENT_FIELD_MAX_CHARS = 128;
/** Longest user name a failed-login event shows as typed, characters: the login form's own bound. */
export const LOGIN_EVENT_USER_MAX_CHARS = 64;

// --- Device certificate (Remote UI over HTTPS) -------------------------------------------------

/** Validity of the device's self-signed certificate, days (printers ship multi-year self-signed certificates). */
export const DEVICE_CERT_VALIDITY_DAYS = 3650;

// --- SMTP --------------------------------------------------------------------------------------
// Timeouts: RFC 5321 §4.5.3.2 lists per-command MINIMUM values for a client. The device keeps
// them for every command the RFC lists: a send job runs in the background queue (nobody stares at
// a spinner), and a shorter wait after the final "." risks a duplicate delivery (§4.5.3.2.6: the
// server may still be delivering). Commands the RFC does not list get shorter device values, each
// saying why. The Remote UI's actions (Check Connection, Send Test E-mail, Validate and Save) pass
// the SMTP_INTERACTIVE_* values instead, because an admin is watching and no scan is at stake.

/** TCP connect (and, for implicit TLS, the handshake), ms. Not in RFC 5321; a host that has not answered in 30 s is unreachable for an operator. */
export const SMTP_CONNECT_TIMEOUT_MS = 30_000;
/** Wait for the 220 greeting, ms: RFC 5321 §4.5.3.2.1 "Initial 220 Message: 5 minutes" (servers may delay it on purpose). */
export const SMTP_GREETING_TIMEOUT_MS = 5 * 60_000;
/** Wait for the EHLO/HELO reply, ms. Not listed in §4.5.3.2; like DATA initiation it has no work behind it, so 2 minutes. */
export const SMTP_EHLO_TIMEOUT_MS = 2 * 60_000;
/** Wait for the STARTTLS 220, ms. Not listed in §4.5.3.2 (RFC 3207); same reasoning as EHLO. */
export const SMTP_STARTTLS_TIMEOUT_MS = 2 * 60_000;
/** TLS handshake after STARTTLS, ms. Not an SMTP timer; a handshake is a few round trips, 30 s is generous. */
export const SMTP_TLS_HANDSHAKE_TIMEOUT_MS = 30_000;
/** Wait for each AUTH reply (235/334/535), ms. Not listed in §4.5.3.2; the server may call its identity provider (XOAUTH2), so 2 minutes. */
export const SMTP_AUTH_TIMEOUT_MS = 2 * 60_000;
/** Wait for the MAIL FROM reply, ms: RFC 5321 §4.5.3.2.2 "MAIL Command: 5 minutes". */
export const SMTP_MAIL_TIMEOUT_MS = 5 * 60_000;
/** Wait for each RCPT TO reply, ms: RFC 5321 §4.5.3.2.3 "RCPT Command: 5 minutes". */
export const SMTP_RCPT_TIMEOUT_MS = 5 * 60_000;
/** Wait for the 354 after DATA, ms: RFC 5321 §4.5.3.2.4 "DATA Initiation: 2 minutes". */
export const SMTP_DATA_INIT_TIMEOUT_MS = 2 * 60_000;
/** Each write of message data must complete within, ms: RFC 5321 §4.5.3.2.5 "Data Block: 3 minutes". */
export const SMTP_DATA_BLOCK_TIMEOUT_MS = 3 * 60_000;
/** Wait for the reply to the final ".", ms: RFC 5321 §4.5.3.2.6 "DATA Termination: 10 minutes" (shorter risks duplicates). */
export const SMTP_DATA_END_TIMEOUT_MS = 10 * 60_000;
/** Wait for the RSET reply, ms. Not listed in §4.5.3.2; RSET has no work behind it. */
export const SMTP_RSET_TIMEOUT_MS = 2 * 60_000;
/** Wait for the 221 after QUIT, ms. The outcome is already known; waiting only lets the server close first (§4.1.1.10). */
export const SMTP_QUIT_TIMEOUT_MS = 30_000;
/** Every reply wait of the Remote UI's actions (Check Connection, Send Test E-mail, Validate and Save), ms: an admin is watching and no scan is at stake. */
export const SMTP_INTERACTIVE_REPLY_TIMEOUT_MS = 30_000;
/**
 * The greeting wait of those actions, ms. A server that expects TLS from the first byte (port 465
 * with STARTTLS chosen) sends nothing at all, and this is how long the admin waits to be told
 * (#806). Servers that hold their banner on purpose do it for a few seconds (sendmail's
 * greet_pause is usually 5 s; postscreen sends its "220-" at once), so 10 s still lets them greet.
 */
export const SMTP_INTERACTIVE_GREETING_TIMEOUT_MS = 10_000;
/**
 * The whole of one of those actions, ms (from the start, an OAuth token included, to the last
 * reply of its last session): past it the action ends with #800, however slowly the server is
 * still answering. The Remote UI
 * tells the admin this limit while it waits.
 */
export const SMTP_INTERACTIVE_DEADLINE_MS = 30_000;
/** Least time the deadline must leave for the second session after a refused XOAUTH2 token, ms (else the refusal is the answer). */
export const SMTP_INTERACTIVE_RETRY_MIN_MS = 5_000;

/**
 * Longest reply line accepted, bytes including CRLF. RFC 5321 §4.5.3.1.5 says 512, but real
 * servers exceed it with long texts (Office 365's 5.7.139 line, URLs) and §4.5.3.1 asks receivers
 * to be liberal; 8× the RFC value still bounds memory.
 */
export const SMTP_REPLY_LINE_MAX_BYTES = 4096;
/** Most lines in one reply (an EHLO reply lists about 10 extensions; 200 is far beyond any real server). */
export const SMTP_REPLY_LINES_MAX = 200;
/** Largest reply, bytes over all its lines: bounds memory against a server that never sends a final line. */
export const SMTP_REPLY_MAX_BYTES = 64 * 1024;
/**
 * Longest command line we send, octets including CRLF: RFC 4954 §4 raises the 512-octet limit of
 * RFC 5321 §4.5.3.1.4 to 12288 for AUTH. A longer AUTH initial response is sent after a 334 instead.
 */
export const SMTP_AUTH_LINE_MAX_OCTETS = 12_288;
/** Longest reverse- or forward-path, octets including "<" and ">": RFC 5321 §4.5.3.1.3. */
export const SMTP_PATH_MAX_OCTETS = 256;
/** Longest text line of message data, octets including CRLF and not counting a stuffed dot: RFC 5321 §4.5.3.1.6. */
export const SMTP_DATA_LINE_MAX_OCTETS = 1000;
/**
 * Size of each write of message data, bytes. One TLS record carries at most 16 KiB of plaintext
 * (RFC 8446 §5.1): a multiple of it keeps every record full (one write per line would cost the
 * server a record, and a decrypt, per line). 256 KiB rather than 16: each write is an awaited
 * round through the platform, and at 16 KiB a 100 MiB attachment takes ~8,800 of them (bench:
 * test/bench/smtp-bench.ts). The DATA encoder reuses its chunks, so it holds two or three.
 */
export const SMTP_DATA_CHUNK_BYTES = 256 * 1024;
/** Size bound of one SMTP transcript, bytes of text; beyond it the middle is dropped with a marker. */
export const SMTP_TRANSCRIPT_MAX_BYTES = 64 * 1024;

// --- PKI: server certificate verification and the device CA store (firmware/pki) ----------------

/**
 * Most certificates a server may send, and the longest path built from the leaf to a trust anchor,
 * certificates. RFC 5280 sets no limit; Mbed TLS allows 8 intermediates (MBEDTLS_X509_MAX_INTERMEDIATE_CA);
 * real chains have 2–4. Bounds the parsing and signature checks one hostile server can cause.
 */
export const PKI_CHAIN_MAX_CERTS = 8;
/** Largest single certificate parsed, bytes of DER. CA and server certificates are 1–3 kB; ones with hundreds of SANs reach ~10 kB. */
export const PKI_CERT_MAX_BYTES = 16 * 1024;
/** Deepest nesting of DER elements read, levels (firmware/pki/der.ts). A certificate nests 5–7 levels deep, a name constraint 8; the bound stops hostile nesting from costing work or stack. */
export const PKI_DER_MAX_DEPTH = 16;
/** Smallest RSA key accepted in a chain, bits: NIST SP 800-131A and CA/Browser Forum BR §6.1.5 (2048). */
export const PKI_RSA_MIN_BITS = 2048;
/** Largest RSA key verified, bits: bounds the cost of one signature check (16384-bit keys exist only to slow verifiers down). */
export const PKI_RSA_MAX_BITS = 8192;
/**
 * Most CA certificates in the device CA store: the Mozilla set (~150, the factory store of a device
 * on a host network, device-sim/hal/host-roots.ts) with room for an office's own CAs beside it.
 */
export const PKI_CA_STORE_MAX_ENTRIES = 200;
/**
 * Certificates the device keeps parsed in RAM, by their DER (a server's chain and the CA store's
 * anchors on the next connection cost a lookup, not a parse and a digest); oldest dropped.
 */
export const PKI_PARSED_CERTS_MAX = 16;
/**
 * Signatures the chain check remembers as verified, by the SHA-256 fingerprints of certificate and
 * issuer (a server's chain seen again costs a lookup, not a public-key operation); oldest dropped.
 */
export const PKI_VERIFIED_SIGNATURES_MAX = 32;
/** Total DER bytes in the CA store: as base64 it stays below NVRAM_RECORD_MAX_BYTES (512 kB × 4/3 < 1 MiB). */
export const PKI_CA_STORE_MAX_DER_BYTES = 512 * 1024;
/** Largest certificate upload (PEM text or DER), bytes: a PEM bundle of about 20 CA certificates; the same as HTTP_BODY_MAX_BYTES. */
export const PKI_CA_IMPORT_MAX_BYTES = 64 * 1024;
/** Most names listed in a "this certificate is for: …" message; the rest are counted ("and 12 more"). */
export const PKI_MESSAGE_MAX_NAMES = 5;

// --- Send module -------------------------------------------------------------------------------

/** SMTP transcripts kept in RAM for the Remote UI, count (each is bounded by SMTP_TRANSCRIPT_MAX_BYTES). */
export const TRANSCRIPTS_KEPT = 20;
/**
 * Transcripts of send jobs also kept in NVRAM, for the job log across power cycles
 * (firmware/send/transcript-log.ts): at most one per job the job log keeps, count, and at most
 * this many bytes in all; the oldest dropped first. A transcript is usually 2–5 kB (the message
 * data is counted, not copied), so 2 MiB holds the whole job log's; a job whose transcript was
 * dropped says "no longer kept".
 */
export const TRANSCRIPTS_STORED_MAX = 500;
export const TRANSCRIPTS_STORED_MAX_BYTES = 2 * 1024 * 1024;
/** EHLO name the device announces when it has no DNS name of its own (RFC 5321 §4.1.3 address literal). */
export const SMTP_CLIENT_NAME = '[127.0.0.1]';

// --- OAuth 2.0 ---------------------------------------------------------------------------------

/** Poll interval when the device authorization response has none, s: RFC 8628 §3.2 "MUST use 5". */
export const OAUTH_DEVICE_POLL_DEFAULT_S = 5;
/** Added to the poll interval on each `slow_down`, s: RFC 8628 §3.5 "MUST increase … by 5 seconds". */
export const OAUTH_SLOW_DOWN_STEP_S = 5;
/**
 * Longest poll interval the device accepts from a server, s: only a bound against absurd values.
 * RFC 8628 §3.2/§3.5 has the client wait the interval the server advertises, however long; this
 * is the longest device-code lifetime accepted (OAUTH_DEVICE_CODE_MAX_LIFETIME_S), and the flow
 * never waits past its code's expiry anyway (oauth/device-flow.ts).
 */
export const OAUTH_DEVICE_POLL_MAX_S = 3600;
/** Longest device-code lifetime accepted, s (Entra issues 900; RFC 8628 gives no maximum). */
export const OAUTH_DEVICE_CODE_MAX_LIFETIME_S = 3600;
/** Largest OAuth JSON response accepted, bytes (Google's tokens are ≤ 2 kB; Entra's a few kB). */
export const OAUTH_RESPONSE_MAX_BYTES = 64 * 1024;
/** Loopback port in the Google redirect_uri: nothing listens there (the admin pastes the code back). RFC 8252 §7.3 lets any port. */
export const GOOGLE_LOOPBACK_REDIRECT_PORT = 8994;
/** PKCE code_verifier length, characters (RFC 7636 §4.1: 43–128). */
export const PKCE_VERIFIER_LENGTH = 64;
/** Longest authorization code accepted from a paste, characters (Google: ≤ 256 bytes, protocols.md B.5). */
export const GOOGLE_CODE_MAX_LENGTH = 512;
/** A certificate (CA or the device's own) this close to its end is reported on the portal and the Certificates page, ms (30 days, as Windows and ACME clients warn). */
export const CERT_EXPIRY_WARNING_MS = 30 * DAY_MS;
/** Google: refresh tokens of an app in "Testing" publishing status expire this long after they are issued (protocols.md B.8). */
export const GOOGLE_TESTING_REFRESH_TOKEN_LIFETIME_MS = 7 * 24 * 3_600_000;
/** A refused Google refresh this close to (or past) that lifetime is reported as the likely Testing expiry, ms. */
export const GOOGLE_TESTING_AGE_SLACK_MS = 3_600_000;
/** Refresh an access token this long before it expires, ms (MSAL and google-auth-library both use 5 min; protocols.md D.1). */
export const OAUTH_REFRESH_MARGIN_MS = 5 * 60_000;
/** …but never more than this share of the token's lifetime, so a short-lived token is still used (a 60 s token for 54 s). */
export const OAUTH_REFRESH_MARGIN_SHARE = 0.1;
/**
 * With no send asking for a token, the device checks its grant with a refresh this long after the
 * last good one, ms: the refresh token never lies unused long enough to expire (Entra: 90 days
 * inactive; Google: 6 months), and a grant that ended shows on the OAuth page within a day rather
 * than at the next send. Access tokens are otherwise refreshed when a send needs one (as MSAL and
 * google-auth-library do), not hourly in the background.
 */
export const OAUTH_CHECK_INTERVAL_MS = DAY_MS;
/** A check that could not reach the identity service is tried again after this, doubled each time, ±20 % jitter, ms. */
export const OAUTH_CHECK_RETRY_FIRST_MS = 5 * 60_000;
/** Longest wait between those tries, ms. */
export const OAUTH_CHECK_RETRY_MAX_MS = 2 * 3_600_000;
/** Device clock vs a server's Date header: more apart than this is reported as skew, ms (Entra and .NET use 5 min; D.1). */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60_000;
/** The device's own Entra app (a vendor ships its own public client; the admin may override it). */
export const ENTRA_BUILTIN_CLIENT_ID = '4e6b43d3-0000-4000-8000-00000000f1f0';
/** Timeout of one request to an identity server, ms. */
export const OAUTH_HTTP_TIMEOUT_MS = 30_000;
/** Longest Entra authorization code accepted from a paste, characters (Entra's codes run to ~1–2 kB, far longer than Google's). */
export const ENTRA_CODE_MAX_LENGTH = 3000;
/**
 * Validity of the device's own certificate for app-only sign-in (client assertions), days. Entra
 * takes a self-signed certificate of any length; two years keeps the rotation a yearly-ish chore,
 * as the Entra portal's own certificate guidance suggests.
 */
export const APP_CREDENTIAL_VALIDITY_DAYS = 730;
/** RSA modulus of that key pair, bits (Entra verifies RS256/PS256 client assertions only, never ES256: graph-exchange.md E). */
export const APP_CREDENTIAL_RSA_BITS = 2048;
/** Lifetime of a client assertion (RFC 7523 JWT), s: Entra asks for "5-10 minutes after nbf at most" (graph-exchange.md E). */
export const CLIENT_ASSERTION_LIFETIME_S = 600;
/** The portal warns this long before the entered client secret expiry date, ms (Entra offers secrets of 6, 12 or 24 months). */
export const CLIENT_SECRET_EXPIRY_WARNING_MS = 30 * DAY_MS;
/**
 * Timeout of a token revocation (RFC 7009) the device sends for a token it abandons, ms. Best
 * effort, in the background: Deregister never waits for it; a new Register waits at most this.
 */
export const OAUTH_REVOKE_TIMEOUT_MS = 10_000;
/**
 * A change of the wall clock by at most this much is not a change for the clock rules, ms: setting
 * the time it already is (the Date/Time page has 1 s resolution, and the request takes a moment)
 * or an NTP nudge leaves the OAuth grants alone. Small changes still add up: the drift watch
 * (oauth/drift-watch.ts) compares the wall clock with the monotonic clock since registration and
 * applies the rule beyond CLOCK_SKEW_TOLERANCE_MS.
 */
export const CLOCK_CHANGE_TOLERANCE_MS = 5_000;

// --- Address book (firmware/send/address-book.ts) ------------------------------------------------

/**
 * Most address book entries, count. One entry is about 100 bytes of JSON, so the record stays far
 * below NVRAM_RECORD_MAX_BYTES; a touch panel's list is searched rather than scrolled, and an
 * office with more people than this uses a directory server (LDAP), not the device's own book.
 */
export const ADDRESS_BOOK_MAX = 500;
/** Longest entry name, characters: what a panel row shows without losing the point of the name. */
export const ADDRESS_BOOK_NAME_MAX = 64;
/** Longest search text, characters (a name or an address is shorter than this). */
export const ADDRESS_BOOK_QUERY_MAX = 100;
/** Longest field in an imported address book CSV file, characters: far above a name or an address, so a longer one is not an address book. */
export const ADDRESS_BOOK_CSV_FIELD_MAX = 1000;

// --- Send jobs: scan-to-email (firmware/send/job-queue.ts) --------------------------------------

/** Attempts per job, the first included: a transient failure (4xx, network, identity service down) is retried this often. */
export const SEND_JOB_MAX_ATTEMPTS = 4;
/** Wait before the first retry, ms; doubled for each later one, ±20 % jitter (hal/backoff.ts; printers retry after ~1 min). */
export const SEND_JOB_RETRY_FIRST_MS = 60_000;
/** Longest wait between retries, ms. */
export const SEND_JOB_RETRY_MAX_MS = 15 * 60_000;
/** Finished jobs (delivered or failed) kept for the job log, count; the oldest go first. */
export const SEND_JOB_LOG_MAX = 500;
/** Jobs waiting or being sent at once, count: beyond it a new scan is refused ("queue full"). */
export const SEND_JOB_QUEUE_MAX = 500;
/** Jobs the panel's Job Status lists, newest first, count: a screen's worth of scrolling (the job log keeps more). */
export const PANEL_JOBS_SHOWN = 50;
/** Read size from the spool into the composer, bytes (one reused buffer). */
export const SPOOL_READ_CHUNK_BYTES = 256 * 1024;

/**
 * How often the device compares its RTC with its monotonic clock for drift while OAuth is Active, ms
 * (beyond CLOCK_SKEW_TOLERANCE_MS the tokens are void). Drift builds up slowly (a crystal is off by
 * tens of ppm, a failing one by a few percent), so a quarter of an hour finds it long before a
 * token's validity could be misjudged; a jump of the clock is seen at once, by the clock itself.
 */
export const OAUTH_DRIFT_CHECK_MS = 15 * 60_000;

// --- Microsoft Graph sending (firmware/graph, firmware/send/graph-transport.ts; graph-exchange.md A–C) ---

/** Largest Graph request, bytes: "a 4MB limit on the size of a request" (graph-exchange.md A), read as 4 MiB; sendMail is used when the whole request fits. */
export const GRAPH_REQUEST_MAX_BYTES = 4 * 1024 * 1024;
/** Attachments smaller than this go to a draft by `POST …/attachments` ("under 3 MB", A); the rest through an upload session (B). */
export const GRAPH_ATTACHMENT_POST_MAX_BYTES = 3 * 1024 * 1024;
/** Largest message Exchange Online takes (150 MB after MIME conversion, A), bytes of the composed message: the device refuses a larger one before sending. */
export const GRAPH_MESSAGE_MAX_BYTES = 150 * 1024 * 1024;
/** One PUT of an upload session, bytes: a multiple of 320 KiB (required by OneDrive, safe for Outlook) and at most 4 MiB ("up to 4 MB each time", B). One buffer of this size is all the memory an upload takes. */
export const GRAPH_UPLOAD_CHUNK_BYTES = 12 * 320 * 1024;
/** Times an upload asks its session what it still needs after a dropped or timed-out PUT, per attachment, before the attempt fails (transient). */
export const GRAPH_UPLOAD_RESUME_MAX = 5;
/** Times an attachment starts over in a new upload session after its session expired or was lost, per attempt. */
export const GRAPH_UPLOAD_RESTART_MAX = 1;
/** One Graph request (a chunk PUT included: 4 MiB at a slow 1 Mbit/s is about 34 s), ms. */
export const GRAPH_HTTP_TIMEOUT_MS = 120_000;
/** One Graph request of an action an administrator waits for (Check Connection, a test e-mail), ms: a few of them fit in SMTP_INTERACTIVE_DEADLINE_MS. */
export const GRAPH_INTERACTIVE_TIMEOUT_MS = 8_000;
/** Largest Graph answer the device reads, bytes (errors and small JSON objects). */
export const GRAPH_RESPONSE_MAX_BYTES = 64 * 1024;
/** Longest Retry-After (429, 503) a job waits before its next attempt, ms; a longer one is cut to this. */
export const GRAPH_RETRY_AFTER_MAX_MS = 15 * 60_000;
/**
 * Largest part in divided sending with Graph, bytes of MIME: a part goes as MIME sendMail, whose
 * request is the part in base64 (4/3 of it), so 4 MiB of request holds 3 MiB less room for line ends.
 */
export const GRAPH_MIME_PART_MAX_BYTES = 3 * 1024 * 1024 - 64 * 1024;
