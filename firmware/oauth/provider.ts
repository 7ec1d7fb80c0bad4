/** The identity services the device signs in with, their names as people know them, and their pages. */
import type { PageId } from '../menu.ts';

export type OAuthProvider = 'microsoft' | 'google';

/** The Remote UI page of a provider's OAuth 2.0 settings. */
export function providerPage(provider: OAuthProvider): PageId {
  return provider === 'microsoft' ? 'oauthMicrosoft' : 'oauthGoogle';
}

export const PROVIDER_NAMES: Readonly<Record<OAuthProvider, string>> = { microsoft: 'Microsoft Entra ID', google: 'Google' };

/**
 * What an access token is for: one token is for one resource (Entra refuses scopes of two in one
 * request), so the device keeps one per resource. `smtp`: XOAUTH2 to the mail server; `graph`:
 * Microsoft Graph's mail API.
 */
export type TokenResource = 'smtp' | 'graph';
