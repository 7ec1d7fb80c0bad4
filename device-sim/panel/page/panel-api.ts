/**
 * The control panel API as the panel page sees it (routes in firmware/web/api-routes.ts, served by
 * firmware/web/panel-routes.ts and forwarded by the simulator's control server at /panel/api/*).
 * A 400 keeps its `fields` (to be shown at the field), a 409 its device `code` (to be shown with
 * the operator's sentence). A timed refresh carries BACKGROUND_HEADER, as the Remote UI's does:
 * it is not a touch, so it does not keep an idle operator logged in.
 */
import { BACKGROUND_HEADER } from '../../../firmware/defaults.ts';
import type { PanelRoutes } from '../../../firmware/web/api-routes.ts';
import { httpClient } from '../../../remote-ui/src/kit/http-client.ts';

export const panelApi = httpClient<PanelRoutes>({
  peer: 'printer',
  offline: 'The printer does not answer.',
  headers: (_, background): Record<string, string> => (background ? { [BACKGROUND_HEADER]: '1' } : {}),
});
