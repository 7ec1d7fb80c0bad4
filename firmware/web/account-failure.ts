/**
 * An AccountStore refusal as an API answer, the same at every door (the Remote UI's account and
 * password routes, the control panel's password change): the status, the sentence, and the
 * field it belongs at.
 */
import type { Context } from 'hono';
import type { AccountResult } from './accounts.ts';
import { fail } from './http-helpers.ts';

const ACCOUNT_ERRORS: Record<Exclude<AccountResult, { ok: true }>['error'], [number, string]> = {
  exists: [409, 'An account with this name already exists.'],
  'not-found': [404, 'There is no such account.'],
  'last-admin': [409, 'The device must keep at least one Administrator.'],
  'too-many': [409, 'The device cannot hold more accounts. Delete one first.'],
  'same-password': [400, 'The new password must differ from the current one.'],
  'wrong-password': [400, 'The current password is incorrect.'],
  'weak-password': [400, 'The password does not meet the password policy (Management > Login Security).'],
};

/** `newPasswordField`: where the new password was in the body (`password` unless named). */
export function accountFailure(c: Context, result: Exclude<AccountResult, { ok: true }>, opts: { wrongPasswordField?: string; newPasswordField?: string } = {}): Response {
  const [status, message] = ACCOUNT_ERRORS[result.error];
  // Every rule the password breaks, in one sentence at its field: the form shows one message a field.
  if (result.error === 'weak-password') return fail(c, 400, result.error, message, [{ path: opts.newPasswordField ?? 'password', message: result.problems.map((p) => p.message).join(' ') }]);
  const field = result.error === 'wrong-password' ? opts.wrongPasswordField : result.error === 'same-password' ? 'newPassword' : result.error === 'exists' ? 'name' : undefined;
  return fail(c, status as 400 | 404 | 409, result.error, message, field ? [{ path: field, message }] : undefined);
}
