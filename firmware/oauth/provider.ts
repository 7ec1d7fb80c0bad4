/** The identity services the device signs in with, their names as people know them, and their pages. */
import type { PageId } from '../menu.ts';

export type OAuthProvider = 'microsoft' | 'google';

/** The Remote UI page of a provider's OAuth 2.0 settings. */
export function providerPage(provider: OAuthProvider): PageId {
  return provider === 'microsoft' ? 'oauthMicrosoft' : 'oauthGoogle';
}

export const PROVIDER_NAMES: Readonly<Record<OAuthProvider, string>> = { microsoft: 'Microsoft Entra ID', google: 'Google' };
