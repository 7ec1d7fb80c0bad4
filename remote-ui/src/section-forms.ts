/**
 * What a settings page adds to the section's form the device serves (labels, hints and choices
 * come with `GET /api/settings/:section`, firmware/web/section-forms.ts): advice under a field
 * that follows what the admin has typed but not yet saved, and the time zones this browser knows.
 */
import type { SectionName } from '../../firmware/settings/schemas.ts';

type Options = readonly (readonly [value: string, text: string])[];

/** A sentence under a field that depends on what the form holds right now (not yet saved). */
export interface Advice {
  /** 'warning' for a choice that weakens security; 'note' for a consequence worth knowing. */
  readonly level: 'warning' | 'note';
  readonly text: string;
}

/** Re-evaluated on every edit with the form's current values. */
export type AdviceRule = (values: Readonly<Record<string, unknown>>) => Advice | undefined;

/** A section's advice rules by field key. */
export type SectionForm = Readonly<Record<string, AdviceRule>>;

/** Every IANA zone this browser knows, with the device's factory zone (UTC) first. */
export function timeZoneOptions(current: string): Options {
  const zones = Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC');
  if (current && current !== 'UTC' && !zones.includes(current)) zones.unshift(current);
  return ['UTC', ...zones].map((z) => [z, z.replaceAll('_', ' ')] as const);
}

// Moot over an unencrypted connection: the warning on Connection Security says it all.
const verifyAdvice: SectionForm = {
  verifyServerCertificate: (v) =>
    v['verifyServerCertificate'] === false && v['security'] !== 'none'
      ? { level: 'note', text: 'The server certificate is not checked: the device cannot tell the real server from an impostor on the network path. Turn this on once the server works.' }
      : undefined,
};

export const SECTION_FORMS: Readonly<Record<SectionName, SectionForm>> = {
  device: {},
  datetime: {},
  network: {},
  email: {
    ...verifyAdvice,
    // RFC 8314 §7.3: port 465 speaks TLS from the first byte; 587 is submission with STARTTLS.
    smtpPort: (v) => {
      const p = Number(v['smtpPort']);
      const tls = p === 465;
      return (tls || p === 587) && v['security'] !== (tls ? 'tls' : 'starttls') ? { level: 'note', text: `Port ${p} usually takes ${tls ? 'SSL/TLS' : 'STARTTLS'} as Connection Security.` } : undefined;
    },
    security: (v) =>
      v['security'] === 'none'
        ? {
            level: 'warning',
            text: `Mail and passwords will cross the network unencrypted.${v['authMethod'] === 'plain' || v['authMethod'] === 'login' ? ' The device will not send a password this way (#845): choose STARTTLS or SSL/TLS, or no authentication.' : ''}`,
          }
        : undefined,
    communicationType: (v) =>
      v['communicationType'] === 'graph' && v['authMethod'] !== 'oauth-microsoft' ? { level: 'warning', text: 'Graph needs Authentication = OAuth 2.0 (Microsoft).' } : undefined,
    authMethod: (v) =>
      v['authMethod'] === 'oauth-microsoft' || v['authMethod'] === 'oauth-google'
        ? { level: 'note', text: 'Register the device on the OAuth 2.0 page of the same name: mail is sent only while its Token Status is "Active".' }
        : undefined,
  },
  oauthMicrosoft: verifyAdvice,
  oauthGoogle: verifyAdvice,
  certificates: {},
  security: {
    passwordRefuseCommon: (v) =>
      v['passwordRefuseCommon'] === false ? { level: 'warning', text: 'Passwords attackers try first (password, 12345678, admin) will be accepted.' } : undefined,
  },
};
