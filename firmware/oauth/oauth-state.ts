/**
 * Where a provider's OAuth 2.0 grant stands, as the OAuth service reports it: a typed value the
 * web layer words for the OAuth page (firmware/web/presenters/oauth-status.ts) and the panel and
 * the send path turn into their device codes.
 */
import type { SkewView } from '../clock/server-time.ts';
import type { DeviceCode } from '../device-codes.ts';
import type { OAuthProvider, TokenResource } from './provider.ts';

export type TokenStatusName =
  | 'not-configured'
  | 'waiting-for-user'
  | 'active'
  | 'refreshing'
  | 'revalidating'
  | 'invalid-clock-changed'
  | 'reauthorization-needed'
  | 'error';

/** Server Connection Status: the authorization server reachable and its certificate accepted. */
export interface ServerConnection {
  readonly ok: boolean;
  readonly message: string;
  readonly checkedWallMs?: number;
}

/** Why the grant does not work, with its device code and, when known, what the admin can do. */
export interface OAuthProblem {
  readonly code: DeviceCode;
  /** What happened, as the evidence says it (the identity server's error, the clock change). */
  readonly detail?: string;
  readonly remedy?: string;
}

/** The registration in progress: what the admin must do in the browser. */
export type PendingSignIn =
  | {
      readonly kind: 'device-code';
      readonly userCode: string;
      readonly verificationUri: string;
      readonly message?: string;
      readonly userCodeExpiresInS: number;
    }
  | { readonly kind: 'pasted-code'; readonly authorizationUrl: string };

export interface OAuthState {
  readonly provider: OAuthProvider;
  readonly tokenStatus: TokenStatusName;
  readonly problem?: OAuthProblem;
  readonly serverConnection: ServerConnection;
  readonly pending?: PendingSignIn;
  /** Seconds until the device checks the grant with a refresh of its own, when Active. */
  readonly nextCheckInS?: number;
  /** The device clock against the latest server time seen, when beyond tolerance. */
  readonly skew?: SkewView;
  /** Microsoft: how the device signs in (the grant's type, the app's credential) and the resource it sends with now. */
  readonly mode?: {
    readonly grantType: 'device-code' | 'authorization-code' | 'app-only';
    readonly credential: 'none' | 'certificate' | 'secret';
    readonly resource: TokenResource;
  };
}
