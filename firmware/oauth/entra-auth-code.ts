/**
 * Microsoft Entra ID's authorization code grant with PKCE, pasted back (graph-exchange.md F): the
 * way in when Conditional Access blocks the device code flow. The admin opens the sign-in page;
 * Entra redirects the browser to `http://localhost` ("Mobile and desktop applications" platform,
 * or "Web" for a confidential app), where nothing listens; the admin pastes the address or the
 * code (pasted-code.ts). The exchange sends the PKCE verifier and, for a confidential app, the
 * client secret or the device's client assertion (EntraClient.auth). Its answer is read by
 * entra-device-code.ts's processTokenResponse, as every Entra token answer.
 *
 * The authorize request may name scopes of several resources (consent for several APIs), but the
 * token request must name one: both name the one resource the device sends with.
 */
import { ENTRA_CODE_MAX_LENGTH } from '../defaults.ts';
import type { Random } from '../hal/random.ts';
import type { EntraClient, FormRequest } from './entra-device-code.ts';
import { entraAuthority, entraTokenUrl } from './entra-endpoints.ts';
import { buildPastedCodeAuthorization, readPastedCode, type PastedCodeRead, type PendingAuthorization } from './pasted-code.ts';

/** Entra's loopback redirect: port ignored in matching; an address without a path comes back with a trailing slash (F). */
export const ENTRA_REDIRECT_URI = 'http://localhost';

/** The sign-in address (response_mode=query, so the code shows in the address bar; select_account, so the admin picks the mailbox's account). */
export function buildEntraAuthorizationRequest(client: EntraClient & { readonly scope: string }, random: Random): Promise<PendingAuthorization> {
  return buildPastedCodeAuthorization(
    `${entraAuthority(client)}/authorize`,
    ENTRA_REDIRECT_URI,
    { client_id: client.clientId, response_type: 'code', redirect_uri: ENTRA_REDIRECT_URI, response_mode: 'query', scope: client.scope, prompt: 'select_account' },
    random,
  );
}

/** Read the pasted address or code (Entra's codes are long: ENTRA_CODE_MAX_LENGTH). */
export function processEntraPastedCode(pasted: string, pending: PendingAuthorization): PastedCodeRead {
  return readPastedCode(pasted, pending, ENTRA_CODE_MAX_LENGTH);
}

/** The code redemption: the same redirect_uri and scope, the verifier, and the client's credential if it is confidential. */
export function buildEntraCodeExchangeRequest(client: EntraClient & { readonly scope: string }, code: string, pending: PendingAuthorization): FormRequest {
  return {
    url: entraTokenUrl(client),
    body: new URLSearchParams({
      client_id: client.clientId,
      scope: client.scope,
      code,
      redirect_uri: pending.redirectUri,
      grant_type: 'authorization_code',
      code_verifier: pending.codeVerifier,
      ...client.auth,
    }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  };
}
