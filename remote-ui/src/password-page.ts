/**
 * Change Password: forced after the first login with a label or reset password
 * (`mustChangePassword`), or chosen from the header. Validated with the server's `password`
 * schema; the server's answer (wrong current password, same password, the password policy's
 * rules) lands at its field. The hint is the device's password policy (`GET /api/password-policy`),
 * the generic length bounds until it arrives.
 */
import { LitElement, html } from 'lit';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../firmware/defaults.ts';
import { passwordChangeRequest } from '../../firmware/web/api-types.ts';
import type * as z from 'zod/mini';
import { api } from './api.ts';
import { errorsFrom, formMessage, input, row, validate, type FieldErrors } from './form-fields.ts';
import { action, ApiTask, pending } from './kit/api-task.ts';
import { sharedStyles } from './shared-styles.ts';

export class PasswordPage extends LitElement {
  static override properties = {
    forced: { type: Boolean },
    errors: { state: true },
    message: { state: true },
  };

  declare forced: boolean;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  private readonly policy = new ApiTask(this, (_, call) => api('GET /api/password-policy', call));
  private readonly change = action(this, async (body: z.infer<typeof passwordChangeRequest>, formElement: HTMLFormElement) => {
    const result = await api('POST /api/session/password', { body });
    if (!result.ok) {
      this.errors = errorsFrom(result.error);
      this.message = { ok: false, text: result.error.message };
      return;
    }
    formElement.reset();
    this.message = { ok: true, text: 'Your password has been changed.' };
    this.dispatchEvent(new CustomEvent('rui-session', { detail: result.data, bubbles: true, composed: true }));
  });

  constructor() {
    super();
    this.forced = false;
    this.errors = {};
  }

  private async onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const formElement = event.target as HTMLFormElement;
    const form = new FormData(formElement);
    const value = (name: string) => String(form.get(name) ?? '');
    const checked = validate(passwordChangeRequest, { currentPassword: value('currentPassword'), newPassword: value('newPassword') });
    const errors: Record<string, string> = { ...checked.errors };
    if (!errors['newPassword'] && value('confirmPassword') !== value('newPassword')) errors['confirmPassword'] = 'The two new passwords do not match.';
    this.errors = errors;
    this.message = undefined;
    if (!checked.data || Object.keys(errors).length > 0) return;
    await this.change.run([checked.data, formElement]);
  }

  override render() {
    const e = this.errors;
    const hint = this.policy.last?.summary ?? `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters.`;
    return html`<h1>Change Password</h1>
      ${this.forced
        ? html`<p class="warning" role="status" data-test="must-change-note">
            You must change your password before you can use the Remote UI. The password printed on the device label, or one
            set by an administrator, is for the first login only.
          </p>`
        : ''}
      ${formMessage(this.message)}
      <form @submit=${this.onSubmit} novalidate data-test="password-form">
        <div class="panel">
          ${row('currentPassword', 'Current Password', input('currentPassword', '', e['currentPassword'], { type: 'password', autocomplete: 'current-password' }), e['currentPassword'])}
          ${row('newPassword', 'New Password', input('newPassword', '', e['newPassword'], { type: 'password', autocomplete: 'new-password' }), e['newPassword'], hint)}
          ${row('confirmPassword', 'Confirm New Password', input('confirmPassword', '', e['confirmPassword'], { type: 'password', autocomplete: 'new-password' }), e['confirmPassword'])}
        </div>
        <div class="actions"><button class="primary" type="submit" ?disabled=${pending(this.change)}>Change Password</button></div>
      </form>`;
  }

  static override styles = sharedStyles;
}

customElements.define('rui-password-page', PasswordPage);
