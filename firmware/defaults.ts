/**
 * Every tunable of the firmware, in one place (STYLE.md habit 3). Each line names its unit and
 * the reason behind the number. The simulator, the Remote UI and the tests read these; they never
 * restate them.
 */

export const FIRMWARE_VERSION = '0.1.0';

// --- Accounts and login ----------------------------------------------------------------------

/** PBKDF2-SHA256 iterations for new password hashes: OWASP Password Storage Cheat Sheet (2023+) minimum. */
export const PBKDF2_ITERATIONS = 600_000;
/** Salt length, bytes: NIST SP 800-132 asks for at least 128 bits. */
export const PASSWORD_SALT_BYTES = 16;
/** Derived key length, bytes: one SHA-256 output. */
export const PASSWORD_HASH_BYTES = 32;
/** Shortest password an admin may set, characters (NIST SP 800-63B §5.1.1.2: at least 8). */
export const PASSWORD_MIN_LENGTH = 8;
/** Longest password accepted, characters: bounds the hashing work an anonymous request can cause. */
export const PASSWORD_MAX_LENGTH = 128;
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
/** Most concurrent Remote UI sessions; the oldest idle one is dropped beyond this. */
export const SESSIONS_MAX = 32;
/** Distinct user names whose failed-login history is tracked at once (bounded memory). */
export const LOGIN_FAILURE_TRACK_MAX = 256;

// --- Remote UI HTTP server ---------------------------------------------------------------------

/** Largest request body the Remote UI API accepts, bytes. Settings fit in a few kB. */
export const HTTP_BODY_MAX_BYTES = 64 * 1024;
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
/** Device events kept in memory for the Remote UI and the simulator. */
export const DEVICE_EVENTS_MAX = 200;

// --- Device certificate (Remote UI over HTTPS) -------------------------------------------------

/** Validity of the device's self-signed certificate, days (printers ship multi-year self-signed certificates). */
export const DEVICE_CERT_VALIDITY_DAYS = 3650;
