/**
 * The Remote UI's client of the device's HTTP API (docs/api.md; routes in
 * firmware/web/api-routes.ts). Every state-changing request carries the session's CSRF token; a
 * timed refresh carries BACKGROUND_HEADER, so that it does not hold an idle session open. A 401
 * outside login, or a 403 `password-change-required`, is reported to the app shell.
 */
import { BACKGROUND_HEADER, CSRF_HEADER } from '../../firmware/defaults.ts';
import type { RemoteUiRoutes } from '../../firmware/web/api-routes.ts';
import { httpClient } from './kit/http-client.ts';

export type SessionLoss = 'expired' | 'password-change-required';

let csrfToken = '';
let onSessionLoss: (reason: SessionLoss, message: string) => void = () => {};

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** `message`: the device's sentence for the loss (the printer restarted, the session ended). */
export function setSessionLossHandler(handler: (reason: SessionLoss, message: string) => void): void {
  onSessionLoss = handler;
}

export const api = httpClient<RemoteUiRoutes>({
  peer: 'device',
  offline: 'The device did not answer. Check the network connection and try again.',
  headers: (method, background) => ({
    ...(background ? { [BACKGROUND_HEADER]: '1' } : {}),
    ...(method !== 'GET' && csrfToken ? { [CSRF_HEADER]: csrfToken } : {}),
  }),
  onRefusal: (url, status, error) => {
    // 401 on the session resource itself is the login answer, not a lost session.
    if (status === 401 && url !== '/api/session') onSessionLoss('expired', error.message);
    if (status === 403 && error.error === 'password-change-required') onSessionLoss('password-change-required', error.message);
  },
});
