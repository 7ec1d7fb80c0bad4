/**
 * The directories a fresh emulated cloud starts with, so that `make run` and the tests can sign
 * in without setting anything up: Contoso and Fabrikam (work accounts), the personal Microsoft
 * accounts tenant (what `consumers` allows), the device's own Entra app with public client flows
 * on, and two Gmail accounts. Testers add and remove more through the control API
 * (/sim/api/cloud) or the bench page; the cloud keeps what they made across restarts in its state
 * directory (cloud-state.ts), so this seed is only where a fresh cloud (a new state directory,
 * `make reset`) starts.
 *
 * The Google Desktop-app client is not here: it has a secret, so it is made once per state
 * directory (default-google-client.ts).
 */
import { ENTRA_BUILTIN_CLIENT_ID } from '../../firmware/defaults.ts';

/** The tenant id Entra gives personal Microsoft accounts (the `tid` of every MSA token). */
export const PERSONAL_ACCOUNTS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface EntraTenantSeed {
  readonly id: string;
  readonly displayName: string;
  readonly domains: readonly string[];
}

export interface EntraAppSeed {
  readonly clientId: string;
  readonly displayName: string;
  readonly homeTenantId: string;
  readonly publicClientFlows: boolean;
  readonly builtIn?: boolean;
  /** "Mobile and desktop" (public) or "Web"; default none. */
  readonly platform?: 'public' | 'web';
  readonly redirectUris?: readonly string[];
}

export interface EntraUserSeed {
  readonly userPrincipalName: string;
  readonly displayName: string;
}

export interface EntraDirectorySeed {
  readonly tenants: readonly EntraTenantSeed[];
  readonly apps: readonly EntraAppSeed[];
  /** Each user lands in the tenant that has its domain. */
  readonly users: readonly EntraUserSeed[];
}

export interface GoogleUserSeed {
  readonly email: string;
  readonly displayName: string;
}

/** The device's own app is a "Mobile and desktop" registration with the loopback redirect (the authorization-code path). */
export const BUILTIN_APP_PLATFORM = { platform: 'public', redirectUris: ['http://localhost'] } as const;

const CONTOSO_TENANT_ID = '4a0c7e1b-3f5d-4b8e-9c21-6d7e8f90a1b2';
const FABRIKAM_TENANT_ID = '7b1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

export const DEFAULT_ENTRA_DIRECTORY: EntraDirectorySeed = {
  tenants: [
    { id: CONTOSO_TENANT_ID, displayName: 'Contoso', domains: ['contoso.com', 'contoso.onmicrosoft.com'] },
    { id: FABRIKAM_TENANT_ID, displayName: 'Fabrikam', domains: ['fabrikam.com', 'fabrikam.onmicrosoft.com'] },
    { id: PERSONAL_ACCOUNTS_TENANT_ID, displayName: 'Microsoft accounts (personal)', domains: ['outlook.com', 'hotmail.com'] },
  ],
  apps: [{ clientId: ENTRA_BUILTIN_CLIENT_ID, displayName: 'MFP-Send (device app)', homeTenantId: CONTOSO_TENANT_ID, publicClientFlows: true, builtIn: true, ...BUILTIN_APP_PLATFORM }],
  users: [
    { userPrincipalName: 'scanner@contoso.com', displayName: 'Scanner (3rd floor)' },
    { userPrincipalName: 'alice@contoso.com', displayName: 'Alice Wilber' },
    { userPrincipalName: 'bob@contoso.com', displayName: 'Bob Kelly' },
    { userPrincipalName: 'bob@fabrikam.com', displayName: 'Bob Fabrikam' },
    { userPrincipalName: 'scanner.home@outlook.com', displayName: 'Home scanner' },
  ],
};

export const DEFAULT_GOOGLE_USERS: readonly GoogleUserSeed[] = [
  { email: 'scanner@gmail.com', displayName: 'Scanner' },
  { email: 'scanner.bench@gmail.com', displayName: 'Bench scanner' },
];
