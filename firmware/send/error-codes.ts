/**
 * The send module's device error codes: one stable code, one sentence and one remedy per failure,
 * shown alike on the panel, in the job log and in the Remote UI (DESIGN.md rule 7).
 *
 * The numbers are ours, in the style of printers' `#8xx` send errors (Canon uses #801 for a server
 * timeout and #839 for SMTP authentication; we follow that spirit, not their full table).
 * Certificate problems have their own table in firmware/pki/cert-problems.ts (#85x).
 */

export interface DeviceError {
  readonly code: string;
  readonly message: string;
  readonly remedy: string;
  /** True when trying again later may work (network, 4xx); false for configuration or 5xx. */
  readonly transient: boolean;
}

const E = (code: string, transient: boolean, message: string, remedy: string): DeviceError => ({ code, message, remedy, transient });

export const SEND_ERRORS = {
  timeout: E('#801', true, 'The mail server did not answer in time.', 'Check the server name and port, and that the server is running. Try again later.'),
  dns: E('#802', true, 'The mail server name could not be resolved.', 'Check the SMTP server name and the device’s DNS settings.'),
  refused: E('#803', true, 'The mail server refused the connection.', 'Check the SMTP port number (587 for STARTTLS, 465 for SSL/TLS) and any firewall.'),
  connectionLost: E('#804', true, 'The connection to the mail server was lost.', 'Try again. If it keeps happening, check the network and the server.'),
  tlsHandshake: E('#805', false, 'A secure (TLS) connection could not be set up with the mail server.', 'Check the connection security and the minimum TLS version; the server may require a newer TLS version or a different port.'),
  speaksTlsAtOnce: E('#806', false, 'This server speaks TLS from the first byte (implicit TLS), but STARTTLS is selected.', 'Choose SSL/TLS as the connection security for this port (usually 465).'),
  tlsVersion: E('#810', false, 'The mail server and the device have no TLS version in common.', 'The server offers only TLS 1.1 or older, which the device does not use: ask its administrator to enable TLS 1.2 or later.'),
  expectsStarttls: E('#807', false, 'This server expects STARTTLS, but SSL/TLS (implicit TLS) is selected.', 'Choose STARTTLS as the connection security for this port (usually 587).'),
  starttlsUnavailable: E('#808', false, 'The mail server does not offer STARTTLS, so the device will not send over this connection.', 'Use a server or port that supports STARTTLS or SSL/TLS.'),
  protocol: E('#809', true, 'The mail server sent a reply the device could not understand.', 'Check that the server name and port belong to an SMTP server.'),
  authFailed: E('#839', false, 'The mail server did not accept the user name or password.', 'Check the user name and password in the e-mail settings.'),
  authMechanism: E('#840', false, 'The mail server does not offer the selected authentication method.', 'Choose an authentication method the server offers (shown in the transcript).'),
  authDisabled: E('#841', false, 'SMTP authentication is disabled for this mailbox or tenant (5.7.139).', 'Ask the mail administrator to enable SMTP AUTH for the sending mailbox.'),
  sendAsDenied: E('#842', false, 'The mailbox may not send as the configured From address (5.2.252 SendAsDenied).', 'Set the From address to the signed-in mailbox, or grant Send As permission.'),
  tokenRejected: E('#843', false, 'The mail server rejected the OAuth 2.0 access token.', 'Register OAuth 2.0 again on the OAuth 2.0 settings page.'),
  oauthNotRegistered: E('#844', false, 'OAuth 2.0 is selected but the device is not registered.', 'Complete the registration on the OAuth 2.0 settings page.'),
  identityUnavailable: E('#849', true, 'The sign-in service (OAuth 2.0) could not be reached to renew the access token.', 'The device will try again later; if it persists, check the network and the OAuth 2.0 page.'),
  oauthClockChanged: E('#846', false, 'The e-mail sign-in (OAuth 2.0) is no longer valid: the date/time was changed after registration.', 'Check the date and time, then register OAuth 2.0 again on the OAuth 2.0 page.'),
  oauthReauthorize: E('#847', false, 'The e-mail sign-in (OAuth 2.0) must be renewed: the identity service refused the device’s refresh token.', 'Register OAuth 2.0 again on the OAuth 2.0 page.'),
  authNotOverTls: E('#845', false, 'The device will not send a password over an unencrypted connection.', 'Choose STARTTLS or SSL/TLS, or no authentication.'),
  tooLarge: E('#820', false, 'The message is larger than the mail server accepts.', 'Reduce the resolution or number of pages, or use divided sending.'),
  overMaxSize: E('#826', false, 'The message is larger than the maximum size set for e-mail on this device.', 'Lower the resolution or the number of pages, or turn on divided sending (E-mail settings).'),
  spoolFull: E('#827', true, 'The device’s scan storage is full.', 'Wait until the jobs in the queue have been sent, then scan again.'),
  queueFull: E('#828', true, 'Too many send jobs are waiting.', 'Wait until the jobs in the queue have been sent, then scan again.'),
  scannerError: E('#829', false, 'The scanner could not complete the scan.', 'Scan again; if it persists, call service.'),
  recipientRefused: E('#821', false, 'The mail server refused the recipient address.', 'Check the destination address.'),
  senderRefused: E('#822', false, 'The mail server refused the sender (From) address.', 'Check the From address in the e-mail settings.'),
  serverBusy: E('#823', true, 'The mail server is temporarily unavailable.', 'The device will try again later.'),
  rejected: E('#824', false, 'The mail server rejected the message.', 'See the server’s reply in the transcript.'),
  notConfigured: E('#825', false, 'E-mail sending is not set up.', 'Enter the SMTP server and the From address in the e-mail settings.'),
  internal: E('#899', false, 'The device could not complete the send.', 'Try again; if it persists, report the transcript.'),
} as const satisfies Record<string, DeviceError>;

export type SendErrorKind = keyof typeof SEND_ERRORS;
