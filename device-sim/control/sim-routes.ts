/**
 * The simulator's own HTTP APIs as route maps, types only (no runtime code, so the browser pages
 * pull in nothing from Node): the control API (control-api.ts, with the identity services'
 * directories of cloud-api.ts under /sim/api/cloud) and the mailbox API (mailbox-api.ts). A route
 * is named `"<METHOD> <path>"` as it is registered; its entry says what goes up and what comes
 * back on success (`undefined` for a 204). Refusals are `{error, message, fields?}` (json-api.ts).
 *
 * The request bodies restate the zod schemas of control-api.ts and cloud-api.ts, which are
 * Node-side modules; docs/api.md ("Simulator control API") describes the same.
 */
import type { MailboxList, MailboxMessage } from '../cloud/mailbox-types.ts';
import type { EntraAppView, EntraDirectoryView, EntraTenantView, EntraUserView, GoogleClientView, GoogleDirectoryView, GoogleUserView, IdentityDirectoryView } from '../cloud/identity-views.ts';
import type { FaultView, LeverInfo, LeverPull, SimEvent, SimState } from './sim-state.ts';

/** `POST /sim/api/clock` (`clockAction` in control-api.ts). */
export type ClockAction =
  | { readonly action: 'set'; readonly wallMs: number }
  | { readonly action: 'jump'; readonly deltaMs: number }
  | { readonly action: 'drift'; readonly ppm: number }
  | { readonly action: 'battery-loss' };

/** The password and revoke levers' answer: how many refresh tokens died, and the user now. */
export interface UserLeverResult<U> {
  readonly revokedRefreshTokens: number;
  readonly user: U;
}

type NoBody = Readonly<Record<string, never>>;

/** The control API: `/sim/api/*` on the simulator port. */
export interface SimRoutes {
  'GET /sim/api/state': { response: SimState };
  'GET /sim/api/levers': { response: LeverInfo[] };
  /** The lever's arguments are checked by its schema on the server (levers.ts). */
  'POST /sim/api/levers/:name': { body: Readonly<Record<string, unknown>>; response: LeverPull };
  'GET /sim/api/faults': { response: FaultView[] };
  'DELETE /sim/api/faults': { response: { readonly cleared: number } };
  'DELETE /sim/api/faults/:id': { response: undefined };
  'GET /sim/api/history': { response: LeverPull[] };
  'POST /sim/api/clock': { body: ClockAction; response: SimState };
  /** Only with `--virtual-time`. */
  'POST /sim/api/time/advance': { body: { readonly ms: number }; response: SimState };
  'POST /sim/api/power': { body: { readonly action: 'cycle' | 'off' | 'on' }; response: SimState };
  'GET /sim/api/events': { query: { after: number }; response: SimEvent[] };

  // The emulated identity services' directories (cloud-api.ts, mounted at /sim/api/cloud)
  'GET /sim/api/cloud': { response: IdentityDirectoryView };
  'PATCH /sim/api/cloud/entra': { body: { readonly accessTokenLifetimeS: number }; response: EntraDirectoryView };
  'POST /sim/api/cloud/entra/tenants': { body: { readonly displayName: string; readonly domains: readonly string[]; readonly id?: string }; response: EntraTenantView };
  /** `:tenant` is an id or a verified domain; its users go too. */
  'DELETE /sim/api/cloud/entra/tenants/:tenant': { response: undefined };
  'POST /sim/api/cloud/entra/apps': {
    body: { readonly displayName: string; readonly homeTenant: string; readonly clientId?: string; readonly publicClientFlows?: boolean };
    response: EntraAppView;
  };
  'PATCH /sim/api/cloud/entra/apps/:clientId': { body: { readonly displayName?: string; readonly publicClientFlows?: boolean }; response: EntraAppView };
  'DELETE /sim/api/cloud/entra/apps/:clientId': { response: undefined };
  'POST /sim/api/cloud/entra/users': { body: { readonly userPrincipalName: string; readonly displayName?: string }; response: EntraUserView };
  'DELETE /sim/api/cloud/entra/users/:upn': { response: undefined };
  'POST /sim/api/cloud/entra/users/:user/password': { body: NoBody; response: UserLeverResult<EntraUserView> };
  'POST /sim/api/cloud/entra/users/:user/revoke': { body: NoBody; response: UserLeverResult<EntraUserView> };
  'PATCH /sim/api/cloud/google': { body: { readonly accessTokenLifetimeS: number }; response: GoogleDirectoryView };
  'POST /sim/api/cloud/google/clients': {
    body: { readonly displayName?: string; readonly testing?: boolean; readonly clientId?: string; readonly clientSecret?: string };
    response: GoogleClientView;
  };
  'PATCH /sim/api/cloud/google/clients/:clientId': { body: { readonly displayName?: string; readonly testing?: boolean }; response: GoogleClientView };
  'DELETE /sim/api/cloud/google/clients/:clientId': { response: undefined };
  'POST /sim/api/cloud/google/users': { body: { readonly email: string; readonly displayName?: string }; response: GoogleUserView };
  'DELETE /sim/api/cloud/google/users/:email': { response: undefined };
  'POST /sim/api/cloud/google/users/:user/password': { body: NoBody; response: UserLeverResult<GoogleUserView> };
  'POST /sim/api/cloud/google/users/:user/revoke': { body: NoBody; response: UserLeverResult<GoogleUserView> };
}

/** The mailbox API: `/sim/api/mailbox/*` on the simulator port (mailbox-api.ts). */
export interface MailboxRoutes {
  'GET /sim/api/mailbox': { response: MailboxList };
  'DELETE /sim/api/mailbox': { response: undefined };
  'GET /sim/api/mailbox/:id': { response: MailboxMessage };
  /** The message as received (`message/rfc822`, a download; the page reads the head of it as a stream). */
  'GET /sim/api/mailbox/:id/raw': { response: string };
  /** Attachment `n` (0-based), decoded, as a download. */
  'GET /sim/api/mailbox/:id/attachments/:n': { response: string };
  'DELETE /sim/api/mailbox/:id': { response: undefined };
  /** Divided sending: the `message/partial` parts with this id joined into the message they carry. */
  'GET /sim/api/mailbox/partials/:partialId/raw': { response: string };
}
