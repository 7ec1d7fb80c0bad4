/**
 * What an administrator should act on soon, shown on the portal (`GET /api/status`): certificates
 * that end within CERT_EXPIRY_WARNING_MS or have ended (the CA store and the device's own), and
 * OAuth grants that need the admin (void after a clock change, re-authorization, an error), the
 * Microsoft app's client secret near or past the expiry date entered for it, and
 * faults of the device's own since power-on (an NVRAM write refused, background work that failed).
 * Printers tell nobody until sending fails; admins ask for a warning before (devices.md). Worked
 * out at each call from the device clock: nothing is stored.
 */
import { presentOAuthStatus } from './presenters/oauth-status.ts';
import { CERT_EXPIRY_WARNING_MS, CLIENT_SECRET_EXPIRY_WARNING_MS, DAY_MS } from '../defaults.ts';
import { DEVICE_CODES } from '../device-codes.ts';
import { clientSecretExpiry } from '../oauth/entra-requests.ts';
import { formatLocal } from '../clock/local-time.ts';
import type { DeviceEvents } from '../events.ts';
import type { OAuthService } from '../oauth/oauth-service.ts';
import type { CaStore } from '../pki/ca-store.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { DeviceNotice } from './api-types.ts';
import { UNVERIFIED_CERTIFICATE_RISK } from '../send/send-outcome.ts';

/** Token statuses the admin must act on. */
const OAUTH_NEEDS_ADMIN = new Set(['invalid-clock-changed', 'reauthorization-needed', 'error']);

/** A certificate's validity at `nowMs`, as the Certificates page shows it. */
export function expiryAt(notBeforeMs: number, notAfterMs: number, nowMs: number): { expired: boolean; expiresInDays?: number } {
  if (nowMs < notBeforeMs || nowMs > notAfterMs) return { expired: true };
  const leftMs = notAfterMs - nowMs;
  return leftMs <= CERT_EXPIRY_WARNING_MS ? { expired: false, expiresInDays: Math.floor(leftMs / DAY_MS) } : { expired: false };
}

export interface NoticeDeps {
  readonly caStore: CaStore;
  /** The device certificate's validity, if one could be read. */
  readonly deviceCertificate: () => Promise<{ readonly notBeforeMs: number; readonly notAfterMs: number } | undefined>;
  readonly oauth: { readonly microsoft: OAuthService; readonly google: OAuthService };
  readonly settings: SettingsStore;
  readonly events: DeviceEvents;
}

export async function deviceNotices(deps: NoticeDeps, nowMs: number): Promise<DeviceNotice[]> {
  const timeZone = deps.settings.get('datetime').timeZone;
  const day = (wallMs: number) => formatLocal(wallMs, timeZone).slice(0, 10);
  const inDays = (n: number) => (n === 0 ? 'within a day' : `in ${n} day${n === 1 ? '' : 's'}`);
  const notices: DeviceNotice[] = [];

  // The event ring lives in RAM: a fault is shown until the next power-on, as a printer's service message is.
  const faults = deps.events.since().filter((e) => e.code === 'nvram-write-failed' || e.code === 'internal-error');
  const last = faults.at(-1);
  if (last) {
    const more = faults.length > 1 ? ` (${faults.length} faults since power-on)` : '';
    notices.push({
      code: 'device-fault',
      level: 'error',
      page: 'events',
      message: `The device had a fault at ${formatLocal(last.wallMs, timeZone).replace('T', ' ')}${more}: ${last.message}. If it happens again, have the device serviced.`,
    });
  }

  for (const [provider, section, name] of [
    ['microsoft', 'oauthMicrosoft', 'Microsoft'],
    ['google', 'oauthGoogle', 'Google'],
  ] as const) {
    if (!deps.settings.get(section).enabled) continue;
    const status = presentOAuthStatus(deps.oauth[provider].status());
    if (!OAUTH_NEEDS_ADMIN.has(status.tokenStatus)) continue;
    const remedy = status.remedy ? ` ${status.remedy}` : '';
    notices.push({ code: `oauth-${provider}`, level: 'error', page: section, message: `OAuth 2.0 (${name}): ${status.statusMessage}${status.code ? ` (${status.code})` : ''}${remedy}` });
  }

  // The Microsoft app's client secret, by the expiry date the admin entered: Entra sends no warning to the device.
  const ms = deps.settings.get('oauthMicrosoft');
  const secret = ms.enabled && ms.grantType !== 'device-code' ? clientSecretExpiry(ms, nowMs) : undefined;
  if (secret?.expired) {
    notices.push({ code: 'oauth-client-secret-expired', level: 'error', page: 'oauthMicrosoft', message: `OAuth 2.0 (Microsoft): the client secret expired on ${ms.clientSecretExpires} (${DEVICE_CODES.clientSecretExpired.code}). ${DEVICE_CODES.clientSecretExpired.remedy}` });
  } else if (secret && secret.daysLeft * DAY_MS <= CLIENT_SECRET_EXPIRY_WARNING_MS) {
    notices.push({ code: 'oauth-client-secret-expiring', level: 'warning', page: 'oauthMicrosoft', message: `OAuth 2.0 (Microsoft): the client secret expires ${inDays(secret.daysLeft)} (${ms.clientSecretExpires}): add a new secret in the app registration and enter it before then.` });
  }

  // A device out of the box says Ready: say too that it cannot send e-mail until the server and the sender are entered.
  const mail = deps.settings.get('email');
  const unset = [mail.smtpHost ? '' : 'the SMTP server', mail.fromAddress ? '' : 'the e-mail address (From)'].filter(Boolean);
  if (unset.length > 0) {
    notices.push({ code: 'email-not-set-up', level: 'warning', page: 'email', message: `E-mail is not set up: enter ${unset.join(' and ')}. Until then no scan can be sent by e-mail.` });
  }

  // Verify Server Certificate off: every send takes whatever certificate answers, until it is turned on again.
  const email = deps.settings.get('email');
  if (!email.verifyServerCertificate && email.security !== 'none' && email.smtpHost !== '') {
    notices.push({ code: 'server-certificate-unverified', level: 'warning', page: 'email', message: `Server certificate is not verified. ${UNVERIFIED_CERTIFICATE_RISK} Turn Verify Server Certificate on.` });
  }

  const device = await deps.deviceCertificate();
  if (device) {
    const v = expiryAt(device.notBeforeMs, device.notAfterMs, nowMs);
    if (v.expired) notices.push({ code: 'device-certificate-expired', level: 'error', page: 'certificates', message: 'The device certificate is not valid at the device time: regenerate it.' });
    else if (v.expiresInDays !== undefined) {
      notices.push({ code: 'device-certificate-expiring', level: 'warning', page: 'certificates', message: `The device certificate expires ${inDays(v.expiresInDays)} (${day(device.notAfterMs)}): regenerate it before then.` });
    }
  }

  const cas = deps.caStore.list(nowMs);
  const ended = cas.filter((c) => c.expired);
  if (ended.length > 0) {
    const names = ended.map((c) => `"${c.certificate.subject}"`).join(', ');
    notices.push({
      code: 'ca-expired',
      level: 'warning',
      page: 'certificates',
      message: `${ended.length === 1 ? 'A CA certificate has' : `${ended.length} CA certificates have`} expired: ${names}. Servers whose chains end there are no longer trusted: import the current CA certificate.`,
    });
  }
  const ending = cas
    .filter((c) => !c.expired && !c.notYetValid && c.certificate.notAfterMs - nowMs <= CERT_EXPIRY_WARNING_MS)
    .sort((a, b) => a.certificate.notAfterMs - b.certificate.notAfterMs);
  const first = ending[0];
  if (first) {
    const when = `${inDays(Math.floor((first.certificate.notAfterMs - nowMs) / DAY_MS))} (${day(first.certificate.notAfterMs)})`;
    notices.push({
      code: 'ca-expiring',
      level: 'warning',
      page: 'certificates',
      message:
        ending.length === 1
          ? `The CA certificate "${first.certificate.subject}" expires ${when}: import its successor before then.`
          : `${ending.length} CA certificates expire within ${CERT_EXPIRY_WARNING_MS / DAY_MS} days, the first "${first.certificate.subject}" ${when}: import their successors before then.`,
    });
  }
  return notices;
}
