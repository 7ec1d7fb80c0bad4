/**
 * The device codes: one stable code per failure, with the administrator's sentence, the remedy,
 * the operator's sentence for the panel, whether trying again later may work, and the Remote UI
 * page that fixes it (DESIGN.md rule 7). The panel, the job log, the OAuth pages and the Remote
 * UI's API all take their words from here.
 *
 * The numbers are ours, in the style of printers' `#8xx` send errors (Canon uses #801 for a server
 * timeout and #839 for SMTP authentication; we follow that spirit, not their full table):
 * #80x the connection, #81x TLS, #82x the message and the queue, #84x authentication and OAuth,
 * #85x–#86x the server's certificate (firmware/pki/cert-problems.ts words the details), #87x
 * Microsoft Graph's answers (Communication Type: Microsoft Graph), #89x the device itself. A code never changes meaning once released; a new problem gets a new code.
 *
 * Remedies name pages by their place in the menu (firmware/menu.ts), so "Management →
 * Certificates" is what the administrator sees in the navigation.
 */
import { menuPage, menuPath, type PageId } from './menu.ts';

export interface DeviceCodeEntry {
  readonly code: `#8${number}`;
  /** What went wrong, in the administrator's words (Remote UI, job log). */
  readonly admin: string;
  /** What to do about it. */
  readonly remedy: string;
  /**
   * What the operator at the panel is told. For a transient code it says only what happened:
   * the panel adds that the device tries again, or that the operator may try later.
   */
  readonly operator: string;
  /** True when trying again later may work (network, a 4xx reply); false when someone must act. */
  readonly transient: boolean;
  /** The Remote UI page where the administrator fixes it; absent when the fix is not on the device. */
  readonly page?: PageId;
}

const ADMIN = 'Contact the administrator:';
const ASK_SERVER_ADMIN = "ask the server's administrator";
const OPERATOR_CERTIFICATE = `${ADMIN} the mail server's certificate could not be verified.`;
const OPERATOR_UNREACHABLE = 'The mail server could not be reached.';
const OPERATOR_SIGN_IN_INVALID = `${ADMIN} the e-mail sign-in is not valid.`;

const email = menuPath('email');
const datetime = menuPath('datetime');
const certificates = menuPath('certificates');
/** Either provider's page: the code does not say which provider, the OAuth status shows it. */
const oauthPages = `${menuPath('oauthMicrosoft')} or ${menuPage('oauthGoogle').label}`;

/** The table. Keys name the failure in code; `code` is what people see. */
export const DEVICE_CODES = {
  // --- The connection to the mail server ------------------------------------------------------
  interactiveDeadline: {
    code: '#800',
    transient: true,
    admin: 'The mail server did not finish within the time the Remote UI waits for a check or a test e-mail.',
    remedy: `The server answers too slowly: the transcript shows where it stopped. Check the network path and the server's load; scan jobs wait longer than this, so they may still get through.`,
    operator: OPERATOR_UNREACHABLE,
    page: 'email',
  },
  timeout: {
    code: '#801',
    transient: true,
    admin: 'The mail server did not answer in time.',
    remedy: `Check the server name and port (${email}) and that the server is running. The device tries again later.`,
    operator: OPERATOR_UNREACHABLE,
    page: 'email',
  },
  dns: {
    code: '#802',
    transient: true,
    admin: 'The mail server name could not be resolved.',
    remedy: `Check the SMTP server name (${email}) and the device's DNS servers (${menuPath('network')}).`,
    operator: OPERATOR_UNREACHABLE,
    page: 'email',
  },
  refused: {
    code: '#803',
    transient: true,
    admin: 'The mail server refused the connection.',
    remedy: `Check the SMTP port number (${email}: 587 for STARTTLS, 465 for SSL/TLS) and any firewall.`,
    operator: OPERATOR_UNREACHABLE,
    page: 'email',
  },
  connectionLost: {
    code: '#804',
    transient: true,
    admin: 'The connection to the mail server was lost.',
    remedy: 'The device tries again. If it keeps happening, check the network and the server.',
    operator: 'The connection to the mail server was lost.',
  },
  tlsHandshake: {
    code: '#805',
    transient: false,
    admin: 'A secure (TLS) connection could not be set up with the mail server.',
    remedy: `Check Connection Security and Minimum TLS Version (${email}); the server may require a newer TLS version or another port.`,
    operator: `${ADMIN} a secure connection to the mail server could not be set up.`,
    page: 'email',
  },
  speaksTlsAtOnce: {
    code: '#806',
    transient: false,
    admin: 'This server speaks TLS from the first byte (implicit TLS), but STARTTLS is selected.',
    remedy: `Choose SSL/TLS as Connection Security for this port, usually 465 (${email}).`,
    operator: `${ADMIN} the e-mail connection settings do not fit the mail server.`,
    page: 'email',
  },
  expectsStarttls: {
    code: '#807',
    transient: false,
    admin: 'This server expects STARTTLS, but SSL/TLS (implicit TLS) is selected.',
    remedy: `Choose STARTTLS as Connection Security for this port, usually 587 (${email}).`,
    operator: `${ADMIN} the e-mail connection settings do not fit the mail server.`,
    page: 'email',
  },
  starttlsUnavailable: {
    code: '#808',
    transient: false,
    admin: 'The mail server does not offer STARTTLS, so the device will not send over this connection.',
    remedy: `Use a server or port that supports STARTTLS or SSL/TLS (${email}).`,
    operator: `${ADMIN} the mail server does not offer a secure connection.`,
    page: 'email',
  },
  protocol: {
    code: '#809',
    transient: true,
    admin: 'The mail server sent a reply the device could not understand.',
    remedy: `Check that the server name and port (${email}) belong to an SMTP server.`,
    operator: 'The mail server answered something the device did not understand.',
    page: 'email',
  },
  tlsVersion: {
    code: '#810',
    transient: false,
    admin: 'The mail server and the device have no TLS version in common.',
    remedy: 'The server offers only TLS 1.1 or older, which the device does not use: ask its administrator to enable TLS 1.2 or later.',
    operator: `${ADMIN} a secure connection to the mail server could not be set up.`,
  },
  // --- The message and the queue ----------------------------------------------------------------
  tooLarge: {
    code: '#820',
    transient: false,
    admin: 'The message is larger than the mail server accepts.',
    remedy: `Reduce the resolution or the number of pages, or turn on Divided Sending (${email}).`,
    operator: 'The scan is too large to send: lower the resolution or the number of pages, or ask the administrator to allow divided sending.',
    page: 'email',
  },
  recipientRefused: {
    code: '#821',
    transient: false,
    admin: 'The mail server refused the recipient address.',
    remedy: 'Check the destination address.',
    operator: 'The mail server refused a destination address: check it and scan again.',
  },
  senderRefused: {
    code: '#822',
    transient: false,
    admin: 'The mail server refused the sender (From) address.',
    remedy: `Check the From address (${email}).`,
    operator: `${ADMIN} the mail server refused the sender address.`,
    page: 'email',
  },
  serverBusy: {
    code: '#823',
    transient: true,
    admin: 'The mail server is temporarily unavailable.',
    remedy: 'The device tries again later.',
    operator: OPERATOR_UNREACHABLE,
  },
  rejected: {
    code: '#824',
    transient: false,
    admin: 'The mail server rejected the message.',
    remedy: 'See the server’s reply in the transcript.',
    operator: `${ADMIN} the mail server rejected the message.`,
  },
  notConfigured: {
    code: '#825',
    transient: false,
    admin: 'E-mail sending is not set up.',
    remedy: `Enter the SMTP server and the From address (${email}).`,
    operator: `${ADMIN} e-mail sending is not set up.`,
    page: 'email',
  },
  overMaxSize: {
    code: '#826',
    transient: false,
    admin: 'The message is larger than the maximum size set for e-mail on this device.',
    remedy: `Lower the resolution or the number of pages, or raise Maximum Data Size for Sending or turn on Divided Sending (${email}).`,
    operator: 'The scan is too large to send: lower the resolution or the number of pages, or ask the administrator to allow divided sending.',
    page: 'email',
  },
  spoolFull: {
    code: '#827',
    transient: true,
    admin: 'The device’s scan storage is full.',
    remedy: 'Wait until the jobs in the queue have been sent, then scan again.',
    operator: 'The scan storage is full: wait until the waiting jobs have been sent.',
  },
  queueFull: {
    code: '#828',
    transient: true,
    admin: 'Too many send jobs are waiting.',
    remedy: 'Wait until the jobs in the queue have been sent, then scan again.',
    operator: 'Too many jobs are waiting to be sent.',
  },
  scannerError: {
    code: '#829',
    transient: false,
    admin: 'The scanner could not complete the scan.',
    remedy: 'Scan again; if it persists, call service.',
    operator: 'The scanner could not complete the scan: scan again. If it persists, call service.',
  },
  // --- Authentication and OAuth 2.0 ---------------------------------------------------------------
  basicAuthRetired: {
    code: '#838',
    transient: false,
    admin: 'The mail server no longer accepts a password (basic authentication is disabled): it takes OAuth 2.0 only.',
    remedy: `Choose OAuth 2.0 (Microsoft) as Authentication (${email}), then register the device (${menuPath('oauthMicrosoft')}).`,
    operator: `${ADMIN} the mail server no longer accepts the device's password.`,
    page: 'email',
  },
  authRequired: {
    code: '#837',
    transient: false,
    admin: 'The mail server takes mail only from a sender who signs in, and no authentication is set.',
    remedy: `Set Authentication (${email}) to a method the server offers (the transcript lists them), with its user name and password. If the server should take mail from this device without sign-in, ask its administrator to allow (relay for) the device's address; if it refused only some recipients ("Relay access denied"), check their domains too.`,
    operator: `${ADMIN} the mail server requires the device to sign in.`,
    page: 'email',
  },
  authFailed: {
    code: '#839',
    transient: false,
    admin: 'The mail server did not accept the user name or password.',
    remedy: `Check the user name and password (${email}).`,
    operator: `${ADMIN} the mail server did not accept the device's sign-in.`,
    page: 'email',
  },
  authMechanism: {
    code: '#840',
    transient: false,
    admin: 'The mail server does not offer the selected authentication method.',
    remedy: `Choose an authentication method the server offers (the transcript shows them; ${email}).`,
    operator: `${ADMIN} the mail server does not offer the device's sign-in method.`,
    page: 'email',
  },
  authDisabled: {
    code: '#841',
    transient: false,
    admin: 'SMTP authentication is disabled for this mailbox or tenant (5.7.139).',
    remedy: 'Ask the mail administrator to enable SMTP AUTH for the sending mailbox.',
    operator: `${ADMIN} the mailbox may not send with SMTP.`,
  },
  sendAsDenied: {
    code: '#842',
    transient: false,
    admin: 'The mailbox may not send as the configured From address (5.2.252 SendAsDenied).',
    remedy: `Set the From address to the signed-in mailbox (${email}), or grant Send As permission.`,
    operator: `${ADMIN} the mailbox may not send as the sender address.`,
    page: 'email',
  },
  senderThrottled: {
    code: '#830',
    // Retrying does not help until the cause is fixed, and each refusal prolongs the block.
    transient: false,
    admin: 'Exchange Online is holding back this mailbox\'s messages for a while after repeated errors of one kind (550 5.2.251–5.2.255 "Sender throttled").',
    remedy: `Fix what the reply names (a full mailbox, Send As permission, the licence, too many or invalid recipients; ${email}), then send again once Exchange Online lifts the block; it chooses how long, and Microsoft support cannot shorten it.`,
    operator: `${ADMIN} the mail service is holding back messages from this mailbox.`,
    page: 'email',
  },
  tokenRejected: {
    code: '#843',
    transient: false,
    admin: 'The mail server rejected the OAuth 2.0 access token.',
    remedy: `Check that the user name (${email}) is the signed-in account, then press Register again (${oauthPages}).`,
    operator: OPERATOR_SIGN_IN_INVALID,
    page: 'email',
  },
  oauthNotRegistered: {
    code: '#844',
    transient: false,
    admin: 'OAuth 2.0 is selected but the device is not registered.',
    remedy: `Press Register and complete the sign-in (${oauthPages}).`,
    operator: `${ADMIN} e-mail sign-in (OAuth 2.0) is not set up.`,
  },
  authNotOverTls: {
    code: '#845',
    transient: false,
    admin: 'The device will not send a password over an unencrypted connection.',
    remedy: `Choose STARTTLS or SSL/TLS as Connection Security, or no authentication (${email}).`,
    operator: `${ADMIN} e-mail sending is not set up securely.`,
    page: 'email',
  },
  oauthClockChanged: {
    code: '#846',
    transient: false,
    admin: 'The e-mail sign-in (OAuth 2.0) is no longer valid: the date/time was changed after registration.',
    remedy: `Check the date and time (${datetime}), then press Register again (${oauthPages}).`,
    operator: `${ADMIN} the e-mail sign-in is no longer valid because the date/time was changed.`,
    page: 'datetime',
  },
  oauthReauthorize: {
    code: '#847',
    transient: false,
    admin: 'The e-mail sign-in (OAuth 2.0) must be renewed: the identity service refused the device’s refresh token.',
    remedy: `Press Register and sign in again (${oauthPages}).`,
    operator: `${ADMIN} the e-mail sign-in has expired and must be renewed.`,
  },
  oauthRefused: {
    code: '#848',
    transient: false,
    admin: 'The identity service refused the device’s OAuth 2.0 request.',
    remedy: `Check the OAuth 2.0 settings against the app registration, then press Register again (${oauthPages}).`,
    operator: `${ADMIN} the e-mail sign-in (OAuth 2.0) reports an error.`,
  },
  identityUnreachable: {
    code: '#849',
    transient: true,
    admin: 'The sign-in service (OAuth 2.0) could not be reached or is not available.',
    remedy: `The device tries again later; if it persists, check the network and Server Connection Status (${oauthPages}).`,
    operator: 'The e-mail sign-in service is not available.',
  },
  clientSecretExpired: {
    code: '#836',
    transient: false,
    admin: 'The client secret of the Microsoft app registration has expired: Entra ID no longer issues tokens with it.',
    remedy: `Add a new client secret in the app registration (Certificates & secrets), enter its Value and expiry date (${menuPath('oauthMicrosoft')}) and save; or use the device certificate as Credential.`,
    operator: `${ADMIN} the e-mail sign-in's client secret has expired.`,
    page: 'oauthMicrosoft',
  },
  // --- The server's certificate (details: firmware/pki/cert-problems.ts) ---------------------------
  clockNotSet: {
    code: '#850',
    transient: false,
    admin: 'The device clock is not set, so certificates cannot be checked.',
    remedy: `Set the date and time (${datetime}), then try again.`,
    operator: `${ADMIN} the device's date and time are not set.`,
    page: 'datetime',
  },
  untrusted: {
    code: '#851',
    transient: false,
    admin: "The server's certificate chain does not lead to a CA in the device's CA store.",
    remedy: `If you trust the CA named above, import its certificate (${certificates}); otherwise check the server name (${email}).`,
    operator: OPERATOR_CERTIFICATE,
    page: 'certificates',
  },
  expired: {
    code: '#852',
    transient: false,
    admin: "A certificate in the server's chain has expired at the device's date.",
    remedy: `If the device date is wrong, correct it (${datetime}); otherwise ${ASK_SERVER_ADMIN} to renew the certificate.`,
    operator: OPERATOR_CERTIFICATE,
    page: 'datetime',
  },
  notYetValid: {
    code: '#853',
    transient: false,
    admin: "A certificate in the server's chain is not yet valid at the device's date.",
    remedy: `Check the device date and time (${datetime}): it is probably behind.`,
    operator: OPERATOR_CERTIFICATE,
    page: 'datetime',
  },
  hostMismatch: {
    code: '#854',
    transient: false,
    admin: "The server's certificate is not for the server name the device connected to.",
    remedy: `Enter the server name the certificate names (${email}), or ${ASK_SERVER_ADMIN} for a certificate that names this one.`,
    operator: OPERATOR_CERTIFICATE,
    page: 'email',
  },
  missingIntermediate: {
    code: '#855',
    transient: false,
    admin: 'The server sent its certificate without the CA certificate that issued it.',
    remedy: `Ask the server's administrator to send the full chain, or import the issuing CA's certificate (${certificates}).`,
    operator: OPERATOR_CERTIFICATE,
    page: 'certificates',
  },
  badSignature: {
    code: '#856',
    transient: false,
    admin: "A signature in the server's certificate chain does not verify.",
    remedy: `Do not trust this server and import nothing for it: the chain is forged or mixed up. ${capitalized(ASK_SERVER_ADMIN)} to check the certificates it sends.`,
    operator: OPERATOR_CERTIFICATE,
  },
  notCa: {
    code: '#857',
    transient: false,
    admin: "A certificate that issues others in the server's chain is not a CA certificate.",
    remedy: `${capitalized(ASK_SERVER_ADMIN)} for a correctly issued certificate chain; nothing on the device can make this chain valid.`,
    operator: OPERATOR_CERTIFICATE,
  },
  pathLenExceeded: {
    code: '#858',
    transient: false,
    admin: "A CA in the server's chain has more CA certificates below it than its path length allows.",
    remedy: `${capitalized(ASK_SERVER_ADMIN)} for a chain within its CA's limits; nothing on the device can make this chain valid.`,
    operator: OPERATOR_CERTIFICATE,
  },
  noServerAuth: {
    code: '#859',
    transient: false,
    admin: "The server's certificate is not meant for TLS servers (no serverAuth extended key usage).",
    remedy: `${capitalized(ASK_SERVER_ADMIN)} for a certificate issued for TLS servers; importing a CA does not change this.`,
    operator: OPERATOR_CERTIFICATE,
  },
  badKeyUsage: {
    code: '#860',
    transient: false,
    admin: "The server's certificate's key usage does not allow securing a TLS connection.",
    remedy: `${capitalized(ASK_SERVER_ADMIN)} for a certificate issued for TLS servers; importing a CA does not change this.`,
    operator: OPERATOR_CERTIFICATE,
  },
  unsupportedAlgorithm: {
    code: '#861',
    transient: false,
    admin: "A certificate in the server's chain uses an algorithm the device does not accept.",
    remedy: `${capitalized(ASK_SERVER_ADMIN)} for a certificate with RSA (2048 bits or more, SHA-256 or better) or ECDSA P-256/P-384.`,
    operator: OPERATOR_CERTIFICATE,
  },
  unknownCriticalExtension: {
    code: '#862',
    transient: false,
    admin: "A certificate in the server's chain has a critical extension the device does not know, so it must refuse it (RFC 5280 §4.2).",
    remedy: `${capitalized(ASK_SERVER_ADMIN)} about this extension.`,
    operator: OPERATOR_CERTIFICATE,
  },
  malformed: {
    code: '#863',
    transient: false,
    admin: 'The server sent a certificate the device cannot read.',
    remedy: `${capitalized(ASK_SERVER_ADMIN)} to check the server's certificate configuration.`,
    operator: OPERATOR_CERTIFICATE,
  },
  emptyChain: {
    code: '#864',
    transient: false,
    admin: 'The server sent no certificate.',
    remedy: `${capitalized(ASK_SERVER_ADMIN)} to configure a certificate for TLS.`,
    operator: OPERATOR_CERTIFICATE,
  },
  chainTooLong: {
    code: '#865',
    transient: false,
    admin: 'The server sent more certificates than the device checks.',
    remedy: `${capitalized(ASK_SERVER_ADMIN)} to send only its certificate and the intermediate CA certificates.`,
    operator: OPERATOR_CERTIFICATE,
  },
  selfSigned: {
    code: '#866',
    transient: false,
    admin: "The server's certificate is self-signed: no CA issued it.",
    remedy:
      `The device trusts servers through CA certificates only (${certificates} accepts CA certificates, not a server's own). ` +
      `${capitalized(ASK_SERVER_ADMIN)} for a certificate issued by a CA (your organisation's or a public one), and import that CA's certificate if it is not in the list. ` +
      `Turning off Verify Server Certificate (${email}) would send the password to any server that answers.`,
    operator: OPERATOR_CERTIFICATE,
    page: 'certificates',
  },
  // --- Microsoft Graph (Communication Type: Microsoft Graph; graph-exchange.md C) ----------------------
  graphNeedsOAuth: {
    code: '#870',
    transient: false,
    admin: 'Communication Type is Microsoft Graph, which signs in with OAuth 2.0 (Microsoft) only.',
    remedy: `Choose OAuth 2.0 (Microsoft) as Authentication (${email}) and register the device (${menuPath('oauthMicrosoft')}), or choose SMTP as Communication Type.`,
    operator: `${ADMIN} e-mail sending is not set up.`,
    page: 'email',
  },
  graphAccessDenied: {
    code: '#871',
    transient: false,
    admin: 'Microsoft Graph denied access to the mailbox (ErrorAccessDenied).',
    remedy: `The app registration needs Microsoft Graph's Mail.Send, and Mail.ReadWrite for scans over 3 MB, with consent; for a registration without a user, the Application permission and an access policy that includes this mailbox. Then press Register again (${menuPath('oauthMicrosoft')}).`,
    operator: `${ADMIN} the mailbox does not let the device send.`,
    page: 'oauthMicrosoft',
  },
  graphMailboxNotEnabled: {
    code: '#872',
    transient: false,
    admin: 'The mailbox cannot be used through Microsoft Graph: it is inactive, soft-deleted, unlicensed or on-premises (MailboxNotEnabledForRESTAPI).',
    remedy: `Check that the User Name (${email}) is an Exchange Online mailbox with a licence; for a mailbox on an on-premises Exchange server, choose SMTP as Communication Type.`,
    operator: `${ADMIN} the sending mailbox is not available.`,
    page: 'email',
  },
  graphMailboxSizeLimit: {
    code: '#873',
    transient: false,
    admin: "The message is larger than the mailbox's maximum send size (ErrorMessageSizeExceeded; 35 MB unless the Exchange administrator raised it).",
    remedy: `Lower the resolution or the number of pages; or turn on Divided Sending with a Maximum Data Size below the mailbox's limit (${email}); or ask the Exchange administrator to raise the mailbox's MaxSendSize (up to 150 MB).`,
    operator: 'The scan is too large for the mailbox: lower the resolution or the number of pages.',
    page: 'email',
  },
  graphMessageTooLarge: {
    code: '#874',
    transient: false,
    admin: 'The message is larger than the 150 MB Exchange Online takes, so the device did not send it.',
    remedy: `Lower the resolution or the number of pages, or turn on Divided Sending with a Maximum Data Size (${email}).`,
    operator: 'The scan is too large to send: lower the resolution or the number of pages.',
    page: 'email',
  },
  graphSendAsDenied: {
    code: '#875',
    transient: false,
    admin: 'Microsoft Graph refused to send as the From address: the mailbox has no right to send as it (ErrorSendAsDenied).',
    remedy: `Set E-mail Address (From) to the mailbox of the User Name (${email}), or have the Exchange administrator grant the mailbox Send As for that address (delegated sign-in also needs Mail.Send.Shared).`,
    operator: `${ADMIN} the mailbox may not send as the sender address.`,
    page: 'email',
  },
  graphWrongAudience: {
    code: '#876',
    transient: false,
    admin: 'Microsoft Graph refused the access token as one for another service (Invalid audience): the device holds a token for Exchange (SMTP), not for Microsoft Graph.',
    remedy: `The app registration must hold Microsoft Graph's Mail.Send permission (not only Office 365 Exchange Online's SMTP.Send); add it, consent, then press Register again (${menuPath('oauthMicrosoft')}). Or choose SMTP as Communication Type (${email}).`,
    operator: OPERATOR_SIGN_IN_INVALID,
    page: 'oauthMicrosoft',
  },
  graphNoPermissions: {
    code: '#877',
    transient: false,
    admin: 'Microsoft Graph found no permissions in the access token (NoPermissionsInAccessToken).',
    remedy: `Give the app registration Microsoft Graph's Mail.Send as an Application permission and grant admin consent, then press Register again (${menuPath('oauthMicrosoft')}).`,
    operator: OPERATOR_SIGN_IN_INVALID,
    page: 'oauthMicrosoft',
  },
  graphRequestTooLarge: {
    code: '#878',
    transient: false,
    admin: 'Microsoft Graph refused a request as too large (413 or "Maximum request length exceeded").',
    remedy: 'The device keeps each request under 4 MB; a proxy or a Graph endpoint that takes less refused it. Report the transcript.',
    operator: `Sending failed. ${ADMIN} quote this code.`,
  },
  graphThrottled: {
    code: '#879',
    transient: true,
    admin: 'Microsoft Graph asked the device to wait (429 throttled or 503 unavailable, with Retry-After).',
    remedy: 'The job waits as long as Microsoft Graph asked, then tries again. Many devices sending through one mailbox and one app share its limits (4 requests at once).',
    operator: 'The mail service asked the device to wait.',
  },
  // --- The device itself ----------------------------------------------------------------------------
  paperJam: {
    code: '#890',
    transient: false,
    admin: 'The paper jammed in the feeder during a scan.',
    remedy: 'Open the feeder cover, remove the jammed paper, and scan the pages again.',
    operator: 'Paper jam: open the feeder cover, remove the jammed paper, then scan again.',
  },
  internal: {
    code: '#899',
    transient: false,
    admin: 'The device could not complete the send.',
    remedy: 'Try again; if it persists, report the transcript.',
    operator: `Sending failed. ${ADMIN} quote this code.`,
  },
} as const satisfies Record<string, DeviceCodeEntry>;

/** #810's remedy when the device's own Minimum TLS Version (1.3) is what leaves no version in common. */
export const TLS_13_ONLY_REMEDY = `The server does not offer TLS 1.3: set Minimum TLS Version to TLS 1.2 (${email}), or ask the server’s administrator to enable TLS 1.3.`;

/**
 * #821's remedy when the device did not sign in and the server refused the recipient for a reason of
 * policy (5.7.x): some servers word "sign in first" that way, others refuse that one address.
 */
export const RECIPIENT_POLICY_WITHOUT_AUTH_REMEDY = `Check the destination address. The server refused it for a reason of policy and the device did not sign in: if the server takes mail only from senders who sign in, set Authentication (${email}).`;

/** #825 naming exactly the settings that are empty, by their labels (e.g. "User Name"). */
export function notConfiguredError(emptyFields: readonly string[]): DeviceError {
  const list = emptyFields.length < 2 ? (emptyFields[0] ?? '') : `${emptyFields.slice(0, -1).join(', ')} and ${emptyFields.at(-1)!}`;
  return { ...deviceError('notConfigured'), message: `E-mail sending is not set up: ${list} ${emptyFields.length === 1 ? 'is' : 'are'} empty.`, remedy: `Enter ${list} (${email}).` };
}

/** A failure's name in the table, e.g. `timeout`. */
export type DeviceCodeName = keyof typeof DEVICE_CODES;
/** A device code, e.g. `#801`. */
export type DeviceCode = (typeof DEVICE_CODES)[DeviceCodeName]['code'];

const BY_CODE = new Map<string, DeviceCodeEntry>(Object.values(DEVICE_CODES).map((e) => [e.code, e]));

/** Every device code, in table order. */
export const DEVICE_CODE_LIST = Object.values(DEVICE_CODES).map((e) => e.code) as [DeviceCode, ...DeviceCode[]];

export function isDeviceCode(value: string): value is DeviceCode {
  return BY_CODE.has(value);
}

export function codeEntry(code: DeviceCode): DeviceCodeEntry {
  return BY_CODE.get(code)!;
}

/** A failure as results carry it: the code, the admin's sentence, the remedy, transient or not. */
export interface DeviceError {
  readonly code: DeviceCode;
  readonly message: string;
  readonly remedy: string;
  readonly transient: boolean;
}

/** The failure `name` as a result carries it. */
export function deviceError(name: DeviceCodeName): DeviceError {
  const e = DEVICE_CODES[name];
  return { code: e.code, message: e.admin, remedy: e.remedy, transient: e.transient };
}

/** Where a job (or the device) stands when the operator is told about a code. */
export type OperatorPhase = 'failed' | 'retrying' | 'delivered-with-problem';

/**
 * The panel's sentence for a code. A transient code says what happened and then that the device
 * tries again (a job still retrying) or that the operator may try later (a job that gave up).
 */
export function operatorSentence(code: DeviceCode, phase: OperatorPhase = 'failed'): string {
  const e = codeEntry(code);
  if (!e.transient || phase === 'delivered-with-problem') return e.operator;
  return `${e.operator} ${phase === 'retrying' ? 'The device will try again.' : 'Try again later.'}`;
}

/**
 * A remedy as the OAuth page of one provider shows it: "the OAuth 2.0 pages", and the E-mail page
 * where a certificate problem points at the server's settings, become that provider's page.
 */
export function remedyOnPage(remedy: string, page: PageId): string {
  return remedy.replaceAll(oauthPages, menuPath(page)).replaceAll(email, menuPath(page));
}

/** Why the operator cannot send, or why a job failed, as the panel shows it. */
export interface OperatorProblem {
  readonly code: DeviceCode;
  readonly message: string;
}

export function operatorProblem(code: DeviceCode): OperatorProblem {
  return { code, message: operatorSentence(code) };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
