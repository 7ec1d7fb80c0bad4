/**
 * Settings sections: one zod schema and one factory value each. The firmware validates every
 * section when it is read from NVRAM and when the Remote UI sends it; the Remote UI's forms use
 * the same schemas (through the `public` variants, which never carry secrets).
 *
 * Sections whose behaviour arrives in later firmware (e-mail, OAuth, certificates) are modelled
 * in full now so that NVRAM records keep their shape as features land.
 */
import * as z from 'zod/mini';
import {
  LOCKOUT_DURATION_MIN_DEFAULT,
  LOCKOUT_THRESHOLD_DEFAULT,
  LOCKOUT_WINDOW_MIN_DEFAULT,
  PANEL_AUTO_LOGOUT_MIN_DEFAULT,
  PANEL_AUTO_LOGOUT_MIN_MAX,
  PASSWORD_CHARACTER_CLASSES_DEFAULT,
  PASSWORD_MIN_LENGTH,
  PASSWORD_MIN_LENGTH_DEFAULT,
  PASSWORD_MIN_LENGTH_SETTING_MAX,
  PASSWORD_REFUSE_COMMON_DEFAULT,
  PASSWORD_REFUSE_USER_NAME_DEFAULT,
  SESSION_IDLE_MIN_DEFAULT,
} from '../defaults.ts';
import { hostNameList, oneLine, optionalDnsDomain, optionalDnsServer, optionalEmailAddress, optionalHostName, tcpPort, timeZone } from './fields.ts';
import { httpsEndpointProblem } from './https-endpoint.ts';

const tlsVersion = z.enum(['TLSv1.2', 'TLSv1.3']);
/** What happens to OAuth tokens after the wall clock is changed: Canon's rule is "register again". */
const afterClockChange = z.enum(['register-again', 'revalidate']);

export const deviceSettings = z.object({
  name: oneLine(64, 1),
  location: oneLine(128),
  /**
   * The DNS names the device is reached by (besides its addresses and localhost): the Remote UI
   * answers to no other Host (a name rebound to the device's address by someone else's DNS).
   * Added in a later firmware: older records read none.
   */
  hostNames: z._default(hostNameList, ''),
});

export const dateTimeSettings = z.object({
  timeZone,
  /** 'manual': the RTC is the only source. 'ntp': corrected from `ntpServer` (later firmware). */
  syncMode: z.enum(['manual', 'ntp']),
  ntpServer: optionalHostName,
});

export const emailSettings = z.object({
  /**
   * Communication Type: SMTP, or Microsoft Graph's sendMail API over HTTPS (Microsoft OAuth
   * only). Added in a later firmware: older records read SMTP.
   */
  communicationType: z._default(z.enum(['smtp', 'graph']), 'smtp'),
  smtpHost: optionalHostName,
  smtpPort: tcpPort,
  /** starttls: RFC 3207 on 587; tls: implicit TLS (RFC 8314) on 465; none: plain, shown with a warning. */
  security: z.enum(['starttls', 'tls', 'none']),
  minTlsVersion: tlsVersion,
  verifyServerCertificate: z.boolean(),
  addCnToVerification: z.boolean(),
  authMethod: z.enum(['none', 'plain', 'login', 'oauth-microsoft', 'oauth-google']),
  userName: oneLine(256),
  /** Secret: never returned by the API. */
  password: z.string().check(z.maxLength(256, 'At most 256 characters.')),
  fromAddress: optionalEmailAddress,
  /** Display name of From: the device name, or the operator who scanned (PaperCut's practice). */
  displayNamePolicy: z.enum(['device', 'operator']),
  /** Reply-To: none, the operator who scanned, or a fixed address. */
  replyToPolicy: z.enum(['none', 'operator', 'fixed']),
  replyToAddress: optionalEmailAddress,
  /**
   * Maximum Data Size for Sending, MB (10^6 bytes, as the Job Log counts sizes); 0 = no limit of the device's own. Added in a later
   * firmware: a record written before it reads as 0 (the default), not as a broken record.
   */
  maxMessageMb: z._default(z.int().check(z.minimum(0, '0 (no limit) to 100 MB.'), z.maximum(100, '0 (no limit) to 100 MB.')), 0),
  /** Divided sending: a message over the limit goes as RFC 2046 message/partial parts. */
  dividedSending: z._default(z.boolean(), false),
});

/**
 * The OAuth 2.0 (Microsoft) fields, each checked alone: the Remote UI's form validates with these
 * (SECTION_SCHEMAS). The checks of the endpoint addresses and those that span fields are the
 * device's (`oauthMicrosoftSettings`): the form shows their answer under the field on Save, and
 * the UI's bundle in flash does not carry them.
 */
const oauthMicrosoftFields = z.object({
  enabled: z.boolean(),
  verifyServerCertificate: z.boolean(),
  addCnToVerification: z.boolean(),
  /** 'custom': the authority at `authorityUrl` (a sovereign cloud, a test server). */
  cloud: z.enum(['global', 'usgov', 'custom']),
  /** common, organizations, consumers, a tenant GUID or a verified domain. */
  tenant: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/, 'Enter common, organizations, consumers, a tenant ID or a domain.')),
  /** Empty = the device's built-in application (public, device code only). */
  clientId: z.union([z.literal(''), z.string().check(z.regex(/^[0-9a-fA-F-]{36}$/, 'A client ID is a GUID.'))]),
  afterClockChange,
  /*
   * Added in a later firmware (app-only sending, authorization code, custom endpoints): older
   * records read the defaults, which are what that firmware did.
   */
  /** How the device gets its tokens: device code (RFC 8628), authorization code + PKCE pasted back, or client credentials (no user). */
  grantType: z._default(z.enum(['device-code', 'authorization-code', 'app-only']), 'device-code'),
  /** What the device proves the app with: nothing (a public client), the app's client secret, or the device's own certificate (RFC 7523 assertion). */
  credential: z._default(z.enum(['none', 'certificate', 'secret']), 'none'),
  /** Secret: never returned by the API. */
  clientSecret: z._default(z.string().check(z.maxLength(256, 'At most 256 characters.')), ''),
  /** The client secret's expiry date as the Entra portal shows it (YYYY-MM-DD), or '' when not entered. */
  clientSecretExpires: z._default(z.union([z.literal(''), z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'A date as YYYY-MM-DD, e.g. 2027-06-30.'))]), ''),
  /** The client assertion's header: RS256 with x5t (SHA-1 thumbprint) or PS256 with x5t#S256; Microsoft's documents name both. */
  assertionFormat: z._default(z.enum(['rs256-x5t', 'ps256-x5t-s256']), 'rs256-x5t'),
  /** With cloud 'custom': the authority's base address; the device appends /{tenant}/oauth2/v2.0/…. */
  authorityUrl: z._default(z.string(), ''),
  /** Microsoft Graph's base URL; '' = the cloud's own (https://graph.microsoft.com/v1.0, …). */
  graphUrl: z._default(z.string(), ''),
});

// Pure: the Remote UI's bundle, which validates with the fields alone, drops it.
export const oauthMicrosoftSettings = /* @__PURE__ */ oauthMicrosoftFields.check(
  z.superRefine((s, ctx) => {
    for (const path of ['authorityUrl', 'graphUrl'] as const) {
      const problem = httpsEndpointProblem(s[path]);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [path], input: s[path] });
    }
  }),
  z.refine((s) => s.cloud !== 'custom' || s.authorityUrl !== '', { message: 'Enter the authority URL for a custom cloud, e.g. https://login.microsoftonline.com.', path: ['authorityUrl'] }),
  z.refine((s) => s.grantType === 'device-code' || s.clientId !== '', { message: "Enter the Client ID of your app registration: the device's built-in application does device code only.", path: ['clientId'] }),
  z.refine((s) => s.grantType !== 'app-only' || s.credential !== 'none', { message: 'App-only sign-in needs a credential: the device certificate or a client secret.', path: ['credential'] }),
);

export const oauthGoogleSettings = z.object({
  enabled: z.boolean(),
  verifyServerCertificate: z.boolean(),
  addCnToVerification: z.boolean(),
  clientId: oneLine(256),
  /** Secret: never returned by the API. */
  clientSecret: z.string().check(z.maxLength(256, 'At most 256 characters.')),
  afterClockChange,
});

export const certificateSettings = z.object({
  /** Serve the Remote UI over HTTPS with the device's own certificate (later firmware). */
  remoteUiHttps: z.boolean(),
});

export const securitySettings = z.object({
  lockoutThreshold: z.int().check(z.minimum(1, 'Between 1 and 10.'), z.maximum(10, 'Between 1 and 10.')),
  lockoutWindowMin: z.int().check(z.minimum(1, 'Between 1 and 60 minutes.'), z.maximum(60, 'Between 1 and 60 minutes.')),
  lockoutDurationMin: z.int().check(z.minimum(1, 'Between 1 and 60 minutes.'), z.maximum(60, 'Between 1 and 60 minutes.')),
  sessionIdleMin: z.int().check(z.minimum(1, 'Between 1 and 60 minutes.'), z.maximum(60, 'Between 1 and 60 minutes.')),
  /**
   * Who may add, edit and delete address book entries at the control panel (anyone can pick
   * from it). Printers leave it open by default; offices restrict it. Added in a later firmware:
   * older records read the default.
   */
  panelAddressBookEditing: z._default(z.enum(['anyone', 'logged-in', 'administrators']), 'anyone'),
  /*
   * The password policy (web/password-policy.ts): checked wherever a password is set (an account
   * added, a password reset by an admin, the user's own change), never at login, so a stricter
   * policy does not lock anyone out. Added in a later firmware: older records read the defaults.
   */
  /** Minimum Password Length, characters. */
  passwordMinLength: z._default(
    z.int().check(
      z.minimum(PASSWORD_MIN_LENGTH, `Between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MIN_LENGTH_SETTING_MAX} characters.`),
      z.maximum(PASSWORD_MIN_LENGTH_SETTING_MAX, `Between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MIN_LENGTH_SETTING_MAX} characters.`),
    ),
    PASSWORD_MIN_LENGTH_DEFAULT,
  ),
  /** How many of lowercase, uppercase, digits and symbols a password must use; 0: no rule. */
  passwordCharacterClasses: z._default(z.int().check(z.minimum(0, 'Between 0 (no rule) and 4.'), z.maximum(4, 'Between 0 (no rule) and 4.')), PASSWORD_CHARACTER_CLASSES_DEFAULT),
  /** Refuse a password that is or contains the user name (case-insensitive). */
  passwordRefuseUserName: z._default(z.boolean(), PASSWORD_REFUSE_USER_NAME_DEFAULT),
  /** Refuse a password from the list of the most common ones (web/common-passwords.ts). */
  passwordRefuseCommon: z._default(z.boolean(), PASSWORD_REFUSE_COMMON_DEFAULT),
  /**
   * Auto Logout at the Panel, minutes without a touch (a printer's "auto reset"). No "off": Canon
   * allows 0 (never), but Konica Minolta logs an authenticated user out after 1 minute even with
   * its auto reset off, and an operator left logged in lends their name and address to whoever
   * comes next. Added in a later firmware: older records read the default.
   */
  panelAutoLogoutMin: z._default(z.int().check(z.minimum(1, 'Between 1 and 9 minutes.'), z.maximum(PANEL_AUTO_LOGOUT_MIN_MAX, 'Between 1 and 9 minutes.')), PANEL_AUTO_LOGOUT_MIN_DEFAULT),
});

/**
 * Network (DNS) settings, as printers show them under TCP/IP: where the device's resolver sends
 * its queries and the domain it completes single-label names with. Only what this device's
 * platform honours: on the simulated network the simulator's own DNS answers every name and these
 * are not used; on a host network (NETWORK=host) and on a device they are the resolver's.
 * Added in a later firmware: older devices have no such record and read the factory values.
 */
export const networkSettings = z.object({
  /** Both empty: the servers the network hands out (DHCP; on a host network, the host's own). */
  primaryDnsServer: optionalDnsServer,
  secondaryDnsServer: optionalDnsServer,
  /** Appended to a name without a dot (`mail` → `mail.contoso.com`), as a resolver's search domain. */
  dnsDomainName: optionalDnsDomain,
});

export type DeviceSettings = z.infer<typeof deviceSettings>;
export type DateTimeSettings = z.infer<typeof dateTimeSettings>;
export type EmailSettings = z.infer<typeof emailSettings>;
export type OauthMicrosoftSettings = z.infer<typeof oauthMicrosoftSettings>;
export type OauthGoogleSettings = z.infer<typeof oauthGoogleSettings>;
export type CertificateSettings = z.infer<typeof certificateSettings>;
export type SecuritySettings = z.infer<typeof securitySettings>;
export type NetworkSettings = z.infer<typeof networkSettings>;

/**
 * Each section's schema alone, for a bundle that validates but has no use for the factory values
 * (the Remote UI): SECTIONS below names the same schemas.
 */
export const SECTION_SCHEMAS = {
  device: deviceSettings,
  datetime: dateTimeSettings,
  email: emailSettings,
  oauthMicrosoft: oauthMicrosoftFields,
  oauthGoogle: oauthGoogleSettings,
  certificates: certificateSettings,
  security: securitySettings,
  network: networkSettings,
} as const;

/** The sections, their schemas, factory values and secret fields: one table, read everywhere. */
export const SECTIONS = {
  device: {
    schema: deviceSettings,
    secrets: [],
    factory: (): DeviceSettings => ({ name: 'MFP-Send', location: '', hostNames: '' }),
  },
  datetime: {
    schema: dateTimeSettings,
    secrets: [],
    factory: (): DateTimeSettings => ({ timeZone: 'UTC', syncMode: 'manual', ntpServer: '' }),
  },
  email: {
    schema: emailSettings,
    secrets: ['password'],
    factory: (): EmailSettings => ({
      communicationType: 'smtp',
      smtpHost: 'smtp.office365.com',
      smtpPort: 587,
      security: 'starttls',
      minTlsVersion: 'TLSv1.2',
      verifyServerCertificate: true,
      addCnToVerification: true,
      authMethod: 'oauth-microsoft',
      userName: '',
      password: '',
      fromAddress: '',
      displayNamePolicy: 'operator',
      replyToPolicy: 'operator',
      replyToAddress: '',
      maxMessageMb: 0,
      dividedSending: false,
    }),
  },
  oauthMicrosoft: {
    schema: oauthMicrosoftSettings,
    secrets: ['clientSecret'],
    factory: (): OauthMicrosoftSettings => ({
      enabled: false,
      verifyServerCertificate: true,
      addCnToVerification: true,
      cloud: 'global',
      tenant: 'organizations',
      clientId: '',
      afterClockChange: 'register-again',
      grantType: 'device-code',
      credential: 'none',
      clientSecret: '',
      clientSecretExpires: '',
      assertionFormat: 'rs256-x5t',
      authorityUrl: '',
      graphUrl: '',
    }),
  },
  oauthGoogle: {
    schema: oauthGoogleSettings,
    secrets: ['clientSecret'],
    factory: (): OauthGoogleSettings => ({
      enabled: false,
      verifyServerCertificate: true,
      addCnToVerification: true,
      clientId: '',
      clientSecret: '',
      afterClockChange: 'register-again',
    }),
  },
  certificates: {
    schema: certificateSettings,
    secrets: [],
    factory: (): CertificateSettings => ({ remoteUiHttps: false }),
  },
  security: {
    schema: securitySettings,
    secrets: [],
    factory: (): SecuritySettings => ({
      lockoutThreshold: LOCKOUT_THRESHOLD_DEFAULT,
      lockoutWindowMin: LOCKOUT_WINDOW_MIN_DEFAULT,
      lockoutDurationMin: LOCKOUT_DURATION_MIN_DEFAULT,
      sessionIdleMin: SESSION_IDLE_MIN_DEFAULT,
      panelAddressBookEditing: 'anyone',
      passwordMinLength: PASSWORD_MIN_LENGTH_DEFAULT,
      passwordCharacterClasses: PASSWORD_CHARACTER_CLASSES_DEFAULT,
      passwordRefuseUserName: PASSWORD_REFUSE_USER_NAME_DEFAULT,
      passwordRefuseCommon: PASSWORD_REFUSE_COMMON_DEFAULT,
      panelAutoLogoutMin: PANEL_AUTO_LOGOUT_MIN_DEFAULT,
    }),
  },
  network: {
    schema: networkSettings,
    secrets: [],
    factory: (): NetworkSettings => ({ primaryDnsServer: '', secondaryDnsServer: '', dnsDomainName: '' }),
  },
} as const;

export type SectionName = keyof typeof SECTIONS;
export type SectionValue<S extends SectionName> = ReturnType<(typeof SECTIONS)[S]['factory']>;
// Pure: a bundle that does not use it (the Remote UI) drops it.
export const SECTION_NAMES = /* @__PURE__ */ Object.keys(SECTIONS) as SectionName[];

export function isSectionName(name: string): name is SectionName {
  return Object.hasOwn(SECTION_SCHEMAS, name);
}
