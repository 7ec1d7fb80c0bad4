/**
 * Where the device reaches Microsoft, from the OAuth 2.0 (Microsoft) settings: the Entra authority
 * of the chosen cloud or the custom one the admin entered (devicecode, authorize and token
 * endpoints), Microsoft Graph's base URL, and the scopes of each resource (graph-exchange.md D).
 *
 * One token is for one resource: Entra refuses scopes of two resources in one token request
 * (AADSTS700022), and a refresh with mixed scopes returns a token for the first one only. So every
 * scope string built here names one resource; a refresh token then mints a token per resource.
 *
 * A custom cloud keeps the global cloud's resource identifiers (the scopes name the resource's
 * app ID URI, which a proxy or test server in front of Graph still checks); the Graph base URL
 * only says where the requests go.
 */
import type { OauthMicrosoftSettings } from '../settings/schemas.ts';
import { withoutTrailingSlash } from '../settings/https-endpoint.ts';
import type { TokenResource } from './provider.ts';

export type EntraCloud = OauthMicrosoftSettings['cloud'];

interface CloudEndpoints {
  /** The authority host (login.microsoftonline.com, …). */
  readonly host: string;
  /** Delegated SMTP AUTH (XOAUTH2): Outlook's SMTP.Send (protocols.md A.10). */
  readonly smtpScope: string;
  /** App-only SMTP AUTH (SMTP.SendAsApp): Exchange Online's .default. */
  readonly smtpAppScope: string;
  /** Microsoft Graph: the resource (scopes hang off it) and the API's base URL. */
  readonly graphResource: string;
  readonly graphBaseUrl: string;
}

/** The clouds the device knows by name; 'custom' takes the global cloud's resources (see above). */
export const ENTRA_CLOUDS: Readonly<Record<Exclude<EntraCloud, 'custom'>, CloudEndpoints>> = {
  global: {
    host: 'login.microsoftonline.com',
    smtpScope: 'https://outlook.office.com/SMTP.Send',
    smtpAppScope: 'https://outlook.office365.com/.default',
    graphResource: 'https://graph.microsoft.com',
    graphBaseUrl: 'https://graph.microsoft.com/v1.0',
  },
  usgov: {
    host: 'login.microsoftonline.us',
    smtpScope: 'https://outlook.office365.us/SMTP.Send',
    smtpAppScope: 'https://outlook.office365.us/.default',
    graphResource: 'https://graph.microsoft.us',
    graphBaseUrl: 'https://graph.microsoft.us/v1.0',
  },
};

function cloudOf(cloud: EntraCloud): CloudEndpoints {
  return ENTRA_CLOUDS[cloud === 'custom' ? 'global' : cloud];
}

/** What decides the endpoints: the cloud, the tenant, and a custom authority. */
export type EntraLocation = Pick<OauthMicrosoftSettings, 'cloud' | 'tenant'> & { readonly authorityUrl?: string };

/** `https://{authority}/{tenant}/oauth2/v2.0`: devicecode, authorize and token hang off it. */
export function entraAuthority(where: EntraLocation): string {
  const base = where.cloud === 'custom' && where.authorityUrl ? withoutTrailingSlash(where.authorityUrl) : `https://${cloudOf(where.cloud).host}`;
  return `${base}/${encodeURIComponent(where.tenant)}/oauth2/v2.0`;
}

/** The token endpoint: also the `aud` of a client assertion (graph-exchange.md E). */
export function entraTokenUrl(where: EntraLocation): string {
  return `${entraAuthority(where)}/token`;
}

/** Microsoft Graph's base URL for the settings, without a trailing slash: the one entered, else the cloud's. */
export function graphBaseUrl(settings: Pick<OauthMicrosoftSettings, 'cloud' | 'graphUrl'>): string {
  return settings.graphUrl ? withoutTrailingSlash(settings.graphUrl) : cloudOf(settings.cloud).graphBaseUrl;
}

/** Whether the tokens come for a signed-in user (delegated) or for the app itself (client credentials). */
export type GrantKind = 'delegated' | 'app-only';

/**
 * The scope of one token request: one resource only. Delegated: Graph's Mail.Send and
 * Mail.ReadWrite (drafts and upload sessions for large scans) or Outlook's SMTP.Send, with
 * offline_access for a refresh token. App-only: the resource's `.default` (its application
 * permissions, consented by an admin).
 */
export function resourceScope(cloud: EntraCloud, resource: TokenResource, kind: GrantKind): string {
  const c = cloudOf(cloud);
  if (kind === 'app-only') return resource === 'graph' ? `${c.graphResource}/.default` : c.smtpAppScope;
  return resource === 'graph' ? `${c.graphResource}/Mail.Send ${c.graphResource}/Mail.ReadWrite offline_access` : `${c.smtpScope} offline_access`;
}

/** The permission the app registration needs for `resource`, as the Entra portal names it. */
export function permissionFor(resource: TokenResource, kind: GrantKind): string {
  if (kind === 'app-only') {
    return resource === 'graph'
      ? 'the application permission Mail.Send of Microsoft Graph, with admin consent'
      : 'the application permission SMTP.SendAsApp of Office 365 Exchange Online, with admin consent (and the service principal added to the mailbox in Exchange)';
  }
  return resource === 'graph' ? 'the delegated permissions Mail.Send and Mail.ReadWrite of Microsoft Graph' : 'the delegated permission SMTP.Send';
}
