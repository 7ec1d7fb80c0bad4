/**
 * What the operator at the panel is told, in an operator's words: the device code stays the
 * same as in the Remote UI and the job log (DESIGN.md rule 7), the sentence says what to do at
 * the printer, which is usually "wait", "check the address" or "contact the administrator".
 */
import type { OAuthStatusView } from '../web/api-types.ts';

export interface OperatorProblem {
  readonly code: string;
  readonly message: string;
}

const ADMIN = 'Contact the administrator:';

/** Why sending with OAuth cannot work now, from the provider's token status; undefined when it can. */
export function oauthProblem(status: OAuthStatusView): OperatorProblem | undefined {
  switch (status.tokenStatus) {
    case 'active':
    case 'refreshing':
    case 'revalidating':
      return undefined;
    case 'invalid-clock-changed':
      return { code: status.code ?? '#846', message: `${ADMIN} the e-mail sign-in is no longer valid because the date/time was changed.` };
    case 'reauthorization-needed':
      return { code: status.code ?? '#847', message: `${ADMIN} the e-mail sign-in has expired and must be renewed.` };
    case 'error':
      return { code: status.code ?? '#848', message: `${ADMIN} the e-mail sign-in (OAuth 2.0) reports an error.` };
    default:
      return { code: '#844', message: `${ADMIN} e-mail sign-in (OAuth 2.0) is not set up.` };
  }
}

/** The panel's sentence for a job's result code (the job log keeps the admin's sentence). */
export function operatorMessage(code: string | undefined, transient = false): string {
  if (code === undefined) return 'Sent.';
  if (transient) return 'The mail server could not be reached. The device will try again.';
  switch (code) {
    case '#821':
      return 'The mail server refused a destination address: check it and scan again.';
    case '#820':
    case '#826':
      return 'The scan is too large to send: lower the resolution or the number of pages, or ask the administrator to allow divided sending.';
    case '#825':
      return `${ADMIN} e-mail sending is not set up.`;
    case '#843':
    case '#844':
      return `${ADMIN} the e-mail sign-in is not valid.`;
    case '#846':
      return `${ADMIN} the e-mail sign-in is no longer valid because the date/time was changed.`;
    case '#849':
    case '#801':
    case '#802':
    case '#803':
    case '#804':
    case '#823':
      return 'The mail server could not be reached. Try again later.';
    default:
      return code.startsWith('#85') ? `${ADMIN} the mail server's certificate could not be verified (${code}).` : `Sending failed (${code}). ${ADMIN} quote this code.`;
  }
}
