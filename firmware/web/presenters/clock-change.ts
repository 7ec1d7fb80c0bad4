/**
 * The Date/Time page's question before a change of the device clock that voids OAuth grants
 * (`PUT /api/clock` answers 409 `confirm` with it): which registration, of which account, and
 * what the admin does after.
 */
import { menuPath } from '../../menu.ts';
import { providerPage } from '../../oauth/provider.ts';
import type { GrantAtStake } from '../api-types.ts';

const NAMES = { microsoft: 'Microsoft', google: 'Google' } as const;

/** One sentence per grant at stake, then the question. */
export function clockChangeQuestion(grants: readonly GrantAtStake[]): string {
  const parts = grants.map((g) => {
    const which = `the ${NAMES[g.provider]} registration${g.account ? ` of ${g.account}` : ''}`;
    const page = menuPath(providerPage(g.provider));
    return g.outcome === 'void'
      ? `This voids ${which}: register again after (${page}).`
      : `This sends ${which} to re-validation against server time: if the server's time disagrees, it is void and must be registered again (${page}).`;
  });
  return `${parts.join(' ')} Set the date/time anyway?`;
}
