/**
 * The simulator's control API as the bench and panel pages see it (routes in ../sim-routes.ts,
 * served by ../control-api.ts and ../cloud-api.ts). A refusal keeps its `fields`; the pages show
 * them after the sentence (describeError), as the simulator names them.
 */
import { httpClient, type HttpApi } from '../../../remote-ui/src/kit/http-client.ts';
import type { SimRoutes } from '../sim-routes.ts';

/** Who answers the simulator's APIs (the mailbox's too), and what a page says when nobody does. */
export const SIMULATOR: HttpApi = {
  peer: 'simulator',
  offline: 'The simulator does not answer. Is device-sim/main.ts running?',
};

export const simApi = httpClient<SimRoutes>(SIMULATOR);
