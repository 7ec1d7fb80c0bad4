/** The identity services the device signs in with, and their names as people know them. */
export type OAuthProvider = 'microsoft' | 'google';

export const PROVIDER_NAMES: Readonly<Record<OAuthProvider, string>> = { microsoft: 'Microsoft Entra ID', google: 'Google' };
