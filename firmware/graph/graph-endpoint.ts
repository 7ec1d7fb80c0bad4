/**
 * Where the device's Graph requests go: the base URL and the mailbox's path segment.
 *
 * - Base URL: the cloud's Graph, or the one the Microsoft OAuth settings name (entra-endpoints.ts).
 * - Mailbox: `me` for a delegated grant (the signed-in user's own mailbox); `users/{upn}` for a
 *   grant without a user (client credentials), where `/me` means nothing and the mailbox is the
 *   E-mail settings' User Name (graph-exchange.md A, E).
 */
import type { EmailSettings, OauthMicrosoftSettings } from '../settings/schemas.ts';

export { graphBaseUrl } from '../oauth/entra-endpoints.ts';

/** `me`, or the user principal name of the mailbox an app-only grant sends as. */
export type GraphMailbox = { readonly kind: 'me' } | { readonly kind: 'user'; readonly upn: string };

/** The mailbox the requests name: `/users/{upn}` for an app-only grant, `/me` otherwise. */
export function graphMailbox(oauth: OauthMicrosoftSettings, email: EmailSettings): GraphMailbox {
  return oauth.grantType === 'app-only' ? { kind: 'user', upn: email.userName } : { kind: 'me' };
}

/** `https://graph.microsoft.com/v1.0/me` or `…/users/scanner%40contoso.com`. */
export function mailboxUrl(baseUrl: string, mailbox: GraphMailbox): string {
  return mailbox.kind === 'me' ? `${baseUrl}/me` : `${baseUrl}/users/${encodeURIComponent(mailbox.upn)}`;
}
