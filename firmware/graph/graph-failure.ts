/**
 * Graph's refusals as device codes (graph-exchange.md C). The code comes from Graph's `error.code`
 * first, then from the HTTP status; the words Graph sent go along as the detail. 429 and 503
 * (and 504, 509) are "wait and try again": their Retry-After goes to the job queue.
 */
import type { DeviceCodeName } from '../device-codes.ts';
import type { GraphError } from './graph-requests.ts';

export interface GraphFailureName {
  readonly name: DeviceCodeName;
  /** What Graph said, e.g. `HTTP 403 ErrorAccessDenied: Access is denied. Check credentials and try again.` */
  readonly detail: string;
  readonly retryAfterMs?: number;
}

/** Graph's words for a refusal, as the detail of its device code. */
export function graphErrorDetail(e: GraphError): string {
  return `HTTP ${e.status}${e.code ? ` ${e.code}` : ''}: ${e.message}`;
}

export function graphFailureName(e: GraphError): GraphFailureName {
  const detail = graphErrorDetail(e);
  const named = (name: DeviceCodeName): GraphFailureName => ({ name, detail, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) });
  switch (e.code) {
    case 'malformedAnswer':
      return named('protocol');
    case 'InvalidAuthenticationToken':
      return named(/invalid audience/i.test(e.message) ? 'graphWrongAudience' : 'tokenRejected');
    case 'NoPermissionsInAccessToken':
      return named('graphNoPermissions');
    case 'ErrorAccessDenied':
    case 'Authorization_RequestDenied':
    case 'accessDenied':
      return named('graphAccessDenied');
    case 'ErrorSendAsDenied':
      return named('graphSendAsDenied');
    case 'MailboxNotEnabledForRESTAPI':
      return named('graphMailboxNotEnabled');
    case 'ErrorMessageSizeExceeded':
      return named('graphMailboxSizeLimit');
    case 'ErrorInvalidRecipients':
      return named('recipientRefused');
    case 'RequestEntityTooLarge':
      return named('graphRequestTooLarge');
    case 'ApplicationThrottled':
    case 'serviceNotAvailable':
    case 'activityLimitReached':
      return named('graphThrottled');
  }
  if (e.status === 413 || /maximum request length/i.test(e.message)) return named('graphRequestTooLarge');
  if (e.status === 401) return named('tokenRejected');
  if (e.status === 429 || e.status === 503 || e.status === 504 || e.status === 509) return named('graphThrottled');
  if (e.status >= 500) return named('serverBusy');
  return named('rejected');
}
