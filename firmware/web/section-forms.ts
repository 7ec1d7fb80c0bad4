/**
 * What each settings section's page shows: its title, the field labels (worded as printers word
 * them), hints, the choices of each list, and a note for sections whose behaviour arrives in later
 * firmware. Served with the section (`GET /api/settings/:section`, `form`), so the Remote UI's
 * bundle in flash does not carry the words. Values and validation come from the section's schema
 * (settings/schemas.ts); the advice that follows what the admin types is the Remote UI's own
 * (remote-ui/src/section-forms.ts).
 */
import { PASSWORD_MIN_LENGTH, PASSWORD_MIN_LENGTH_SETTING_MAX } from '../defaults.ts';
import type { SectionName } from '../settings/schemas.ts';

type Options = readonly (readonly [value: string, text: string])[];

export type FormField = {
  readonly key: string;
  readonly label: string;
  readonly hint?: string;
  /** A long value (e.g. a Google client id, ~75 characters): a field wide enough to check it by eye. */
  readonly wide?: boolean;
} & (
  | { readonly kind: 'text' | 'check' | 'secret' }
  | { readonly kind: 'number'; readonly min: number; readonly max: number; readonly unit?: string }
  /** `'timeZones'`: every IANA zone the browser knows. */
  | { readonly kind: 'select'; readonly options: Options | 'timeZones' }
);

export interface SectionForm {
  readonly title: string;
  /** Plain statement at the top of the page (e.g. what arrives in a later firmware). */
  readonly note?: string;
  readonly fields: readonly FormField[];
}

const verifyFields: readonly FormField[] = [
  { key: 'verifyServerCertificate', label: 'Verify Server Certificate', kind: 'check' },
  { key: 'addCnToVerification', label: 'Add CN to Verification Items', kind: 'check' },
];

const afterClockChange: FormField = {
  key: 'afterClockChange',
  label: 'After the Date/Time Is Changed',
  kind: 'select',
  options: [
    ['register-again', 'Register again (tokens become void)'],
    ['revalidate', 'Check the tokens with the server again'],
  ],
};

export const SECTION_FORMS: Readonly<Record<SectionName, SectionForm>> = {
  device: {
    title: 'Device Settings',
    fields: [
      { key: 'name', label: 'Device Name', kind: 'text', hint: 'Shown on the control panel, in the Remote UI and as the sender name of e-mail.' },
      { key: 'location', label: 'Location', kind: 'text', hint: 'Where the device stands, e.g. "2nd floor, copy room".' },
      {
        key: 'hostNames',
        label: 'Host Names',
        kind: 'text',
        wide: true,
        hint: 'DNS names people use to reach this Remote UI, e.g. mfp-2f.contoso.com, separated by spaces. The device always answers to its IP addresses; a request for any other name is refused.',
      },
    ],
  },
  network: {
    title: 'DNS Settings',
    note: 'The device looks up the names of its servers (SMTP, OAuth 2.0, Graph) with these DNS servers; changes apply to the next connection. With both left empty it uses the servers the network hands out (DHCP). On the simulator\'s simulated network its own DNS answers instead and these are not used.',
    fields: [
      { key: 'primaryDnsServer', label: 'Primary DNS Server', kind: 'text', hint: 'IPv4 or IPv6 address, e.g. 192.0.2.53; a port other than 53 after it: 192.0.2.53:5353 or [2001:db8::53]:5353.' },
      { key: 'secondaryDnsServer', label: 'Secondary DNS Server', kind: 'text', hint: 'Asked when the primary does not answer.' },
      { key: 'dnsDomainName', label: 'Domain Name', kind: 'text', hint: 'Completes a server name without a dot: mail → mail.contoso.com.' },
    ],
  },
  datetime: {
    title: 'Time Zone and Synchronization',
    fields: [
      { key: 'timeZone', label: 'Time Zone', kind: 'select', options: 'timeZones' },
      {
        key: 'syncMode',
        label: 'Time Synchronization',
        kind: 'select',
        options: [
          ['manual', 'Manual (set by an administrator)'],
          ['ntp', 'NTP (later firmware)'],
        ],
      },
      { key: 'ntpServer', label: 'NTP Server', kind: 'text', hint: 'Host name or IP address, e.g. pool.ntp.org.' },
    ],
  },
  email: {
    title: 'E-mail Settings',
    fields: [
      {
        key: 'communicationType',
        label: 'Communication Type',
        kind: 'select',
        options: [
          ['smtp', 'SMTP'],
          ['graph', 'API (Microsoft Graph)'],
        ],
        hint: 'API sends through Microsoft Graph over HTTPS with Microsoft Entra ID OAuth 2.0; the SMTP fields below are then not used.',
      },
      { key: 'smtpHost', label: 'SMTP Server', kind: 'text', hint: 'e.g. smtp.office365.com or smtp.gmail.com' },
      { key: 'smtpPort', label: 'SMTP Port Number', kind: 'number', min: 1, max: 65535 },
      {
        key: 'security',
        label: 'Connection Security',
        kind: 'select',
        options: [
          ['starttls', 'STARTTLS (usually port 587)'],
          ['tls', 'SSL/TLS (usually port 465)'],
          ['none', 'None (not encrypted)'],
        ],
      },
      {
        key: 'minTlsVersion',
        label: 'Minimum TLS Version',
        kind: 'select',
        options: [
          ['TLSv1.2', 'TLS 1.2'],
          ['TLSv1.3', 'TLS 1.3'],
        ],
      },
      ...verifyFields,
      {
        key: 'authMethod',
        label: 'Authentication',
        kind: 'select',
        options: [
          ['none', 'None'],
          ['plain', 'SMTP AUTH (PLAIN)'],
          ['login', 'SMTP AUTH (LOGIN)'],
          ['oauth-microsoft', 'OAuth 2.0 (Microsoft)'],
          ['oauth-google', 'OAuth 2.0 (Google)'],
        ],
      },
      { key: 'userName', label: 'User Name', kind: 'text', hint: 'The mailbox the device sends from, e.g. scanner@example.com.' },
      { key: 'password', label: 'Password', kind: 'secret', hint: 'For SMTP AUTH only.' },
      { key: 'fromAddress', label: 'E-mail Address (From)', kind: 'text' },
      {
        key: 'displayNamePolicy',
        label: 'Sender Display Name',
        kind: 'select',
        options: [
          ['operator', 'Name of the user who scanned'],
          ['device', 'Device name'],
        ],
      },
      {
        key: 'replyToPolicy',
        label: 'Reply-To',
        kind: 'select',
        options: [
          ['operator', 'The user who scanned'],
          ['fixed', 'A fixed address'],
          ['none', 'None'],
        ],
      },
      { key: 'replyToAddress', label: 'Reply-To Address', kind: 'text', hint: 'Used when Reply-To is "A fixed address".' },
      { key: 'maxMessageMb', label: 'Maximum Data Size for Sending', kind: 'number', min: 0, max: 100, unit: 'MB', hint: '0 = no limit of the device’s own (the server’s SIZE still applies).' },
      {
        key: 'dividedSending',
        label: 'Divided Sending',
        kind: 'check',
        hint: 'A scan over the maximum size is sent as several e-mails ("[1/3]" …) that the recipient’s mail program joins (RFC 2046 message/partial). Many programs cannot: leave off unless the recipients can.',
      },
    ],
  },
  oauthMicrosoft: {
    title: 'OAuth 2.0 (Microsoft) Settings',
    note: 'Save the settings first (the page then checks the connection) and check the device date and time, then press Register below. Device Code: open the address shown and enter the User Code before it expires. Authorization Code: open the sign-in link, sign in, and paste the address of the page that fails to load (http://localhost/…). App-only: upload the device certificate (or enter a client secret) first; Register gets a token at once. Token Status becomes "Active"; to register again, press Deregister first. If your tenant blocks the device code flow (Conditional Access, AADSTS53003), choose Authorization Code.',
    fields: [
      { key: 'enabled', label: 'Use OAuth 2.0 (Microsoft)', kind: 'check' },
      ...verifyFields,
      {
        key: 'cloud',
        label: 'Microsoft Cloud',
        kind: 'select',
        options: [
          ['global', 'Global (login.microsoftonline.com)'],
          ['usgov', 'US Government (login.microsoftonline.us)'],
          ['custom', 'Custom authority (below)'],
        ],
      },
      {
        key: 'authorityUrl',
        label: 'Authority URL',
        kind: 'text',
        wide: true,
        hint: 'With a custom cloud: the authorization server, e.g. https://login.partner.microsoftonline.cn; the device adds /{tenant}/oauth2/v2.0/…. https only. Tokens are asked for the global cloud’s resources.',
      },
      { key: 'tenant', label: 'Tenant', kind: 'text', hint: 'common, organizations, consumers, a tenant ID or a verified domain (app-only: the tenant ID or domain, not common).' },
      {
        key: 'grantType',
        label: 'Grant Type',
        kind: 'select',
        options: [
          ['device-code', 'Device Code (enter a code at microsoft.com/devicelogin)'],
          ['authorization-code', 'Authorization Code (sign in, paste the address back)'],
          ['app-only', 'App-only (no user: the app sends as the mailbox)'],
        ],
        hint: 'App-only needs the application permission Mail.Send (Graph) or SMTP.SendAsApp (SMTP) with admin consent; the E-mail page’s User Name is the mailbox it sends as.',
      },
      { key: 'clientId', label: 'Client ID', kind: 'text', wide: true, hint: "The app registration's Application (client) ID. Leave empty only for Device Code, to use the device's built-in application." },
      {
        key: 'credential',
        label: 'Credential',
        kind: 'select',
        options: [
          ['none', 'None (public client: "Mobile and desktop applications")'],
          ['certificate', 'Device certificate (upload it to the app registration)'],
          ['secret', 'Client secret'],
        ],
        hint: 'For Authorization Code with a "Web" platform app, and for App-only. Not used with Device Code.',
      },
      { key: 'clientSecret', label: 'Client Secret', kind: 'secret', hint: 'The secret’s Value (not its Secret ID), from Certificates & secrets.' },
      { key: 'clientSecretExpires', label: 'Client Secret Expires', kind: 'text', hint: 'YYYY-MM-DD, as the Entra portal shows it: the portal warns before it lapses.' },
      {
        key: 'assertionFormat',
        label: 'Assertion Format',
        kind: 'select',
        options: [
          ['rs256-x5t', 'RS256 with x5t (SHA-1 thumbprint)'],
          ['ps256-x5t-s256', 'PS256 with x5t#S256 (SHA-256)'],
        ],
        hint: 'How the device certificate’s signature is sent. Microsoft documents both; change it only if Entra refuses the assertion (AADSTS700027) although the certificate is uploaded.',
      },
      { key: 'graphUrl', label: 'Microsoft Graph URL', kind: 'text', wide: true, hint: 'Empty: the cloud’s own (https://graph.microsoft.com/v1.0). https only.' },
      afterClockChange,
    ],
  },
  oauthGoogle: {
    title: 'OAuth 2.0 (Google) Settings',
    note: 'Save the Client ID and Client Secret first (the page then checks the connection) and check the device date and time. Press Register below, open the Google address shown, allow access and paste the address of the page that fails to load, then press Submit Code: Token Status becomes "Active". To register again, press Deregister first.',
    fields: [
      { key: 'enabled', label: 'Use OAuth 2.0 (Google)', kind: 'check' },
      ...verifyFields,
      { key: 'clientId', label: 'Client ID', kind: 'text', wide: true, hint: 'From the Google Cloud project (OAuth client of type "Desktop app").' },
      { key: 'clientSecret', label: 'Client Secret', kind: 'secret' },
      afterClockChange,
    ],
  },
  certificates: {
    title: 'Remote UI Settings',
    fields: [
      {
        key: 'remoteUiHttps',
        label: 'Use HTTPS for the Remote UI',
        kind: 'check',
        hint: "Serves the Remote UI with the device's key and certificate (above). Takes effect after the device is restarted (power cycle).",
      },
    ],
  },
  security: {
    title: 'Login Security',
    note: 'Failed logins lock the user name for a while; an idle Remote UI session or panel login ends by itself. New passwords must meet the policy.',
    fields: [
      { key: 'lockoutThreshold', label: 'Lockout Threshold', kind: 'number', min: 1, max: 10, unit: 'failed logins (1–10)' },
      { key: 'lockoutWindowMin', label: 'Failure Counting Period', kind: 'number', min: 1, max: 60, unit: 'min (1–60)' },
      { key: 'lockoutDurationMin', label: 'Lockout Period', kind: 'number', min: 1, max: 60, unit: 'min (1–60)' },
      { key: 'sessionIdleMin', label: 'Session Timeout (Idle)', kind: 'number', min: 1, max: 60, unit: 'min (1–60)' },
      {
        key: 'panelAddressBookEditing',
        label: 'Address Book Editing at the Panel',
        kind: 'select',
        options: [
          ['anyone', 'Anyone at the panel'],
          ['logged-in', 'Logged-in users only'],
          ['administrators', 'Administrators only (Administrator, DeviceAdmin)'],
        ],
        hint: 'Who may add, change and delete entries at the control panel. Everyone can still send to the entries.',
      },
      {
        key: 'passwordMinLength',
        label: 'Minimum Password Length',
        kind: 'number',
        min: PASSWORD_MIN_LENGTH,
        max: PASSWORD_MIN_LENGTH_SETTING_MAX,
        unit: `characters (${PASSWORD_MIN_LENGTH}–${PASSWORD_MIN_LENGTH_SETTING_MAX})`,
      },
      {
        key: 'passwordCharacterClasses',
        label: 'Required Character Types',
        kind: 'number',
        min: 0,
        max: 4,
        unit: 'of lowercase, uppercase, digits, symbols (0–4)',
        hint: '0: none. NIST SP 800-63B advises length and refusing common passwords instead.',
      },
      { key: 'passwordRefuseUserName', label: 'Refuse Passwords Containing the User Name', kind: 'check' },
      {
        key: 'passwordRefuseCommon',
        label: 'Refuse Common Passwords',
        kind: 'check',
        hint: 'Such as password, 12345678, admin. Only spaces or one repeated character are always refused.',
      },
      { key: 'panelAutoLogoutMin', label: 'Auto Logout at the Panel', kind: 'number', min: 1, max: 9, unit: 'min (1–9)' },
    ],
  },
};
