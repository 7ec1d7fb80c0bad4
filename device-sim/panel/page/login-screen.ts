/**
 * Log In at the panel with a device account (the same accounts as the Remote UI), so that jobs
 * carry the operator's name. The device's own sentence is shown for a refused login. An account
 * whose password must be changed (an initial one, or one an administrator reset) gets a Change
 * Password form instead: the new password twice, refused at the field by the device's password
 * policy, then the operator is logged in. The current password is kept in memory only until then.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type * as z from 'zod/mini';
import { loginRequest, type PanelOperator } from '../../../firmware/web/api-types.ts';
import { action, pending } from '../../../remote-ui/src/kit/api-task.ts';
import type { HttpResult } from '../../../remote-ui/src/kit/http-client.ts';
import { panelApi } from './panel-api.ts';
import { navigate } from './panel-navigation.ts';
import { fieldsToErrors } from './scan-draft.ts';
import { panelStyles } from './panel-styles.ts';

export const LOGGED_IN_EVENT = 'panel-logged-in';

type Credentials = z.infer<typeof loginRequest>;

export class PanelLoginScreen extends LitElement {
  static override properties = { message: { state: true }, change: { state: true }, errors: { state: true } };

  declare message: string | undefined;
  /** The account whose password must be changed first: the Change Password form is shown. */
  declare change: Credentials | undefined;
  /** Field errors of the Change Password form, by field (`newPassword`, `confirm`). */
  declare errors: Readonly<Record<string, string>>;

  constructor() {
    super();
    this.errors = {};
  }

  private readonly login = action(this, async (body: Credentials) => {
    const result = await panelApi('POST /panel/api/login', { body });
    if (!result.ok && result.error.error === 'password-change-required') {
      this.change = body;
      this.message = result.error.message;
      return;
    }
    this.loggedIn(result);
  });

  private readonly changePassword = action(this, async (newPassword: string) => {
    const result = await panelApi('POST /panel/api/password', { body: { ...this.change!, newPassword } });
    if (!result.ok && result.status === 400 && result.error.fields) {
      this.errors = fieldsToErrors(result.error.fields);
      this.clear('#new-password', '#confirm');
      return;
    }
    // Refused otherwise (locked, the password changed meanwhile): back to Log In with the device's sentence.
    if (!result.ok) this.change = undefined;
    this.loggedIn(result);
  });

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLInputElement>('#user')?.focus();
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('change') && this.change) this.renderRoot.querySelector<HTMLInputElement>('#new-password')?.focus();
  }

  private loggedIn(result: HttpResult<{ readonly operator: PanelOperator }>): void {
    if (!result.ok) {
      this.message = result.error.message;
      this.clear('#password');
      return;
    }
    this.change = undefined;
    this.dispatchEvent(new CustomEvent<PanelOperator>(LOGGED_IN_EVENT, { detail: result.data.operator, bubbles: true, composed: true }));
    navigate(this, { name: 'home' });
  }

  private clear(...selectors: string[]): void {
    for (const s of selectors) {
      const input = this.renderRoot.querySelector<HTMLInputElement>(s);
      if (input) input.value = '';
    }
  }

  private async onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const parsed = loginRequest.safeParse({ user: String(form.get('user') ?? ''), password: String(form.get('password') ?? '') });
    if (!parsed.success) {
      this.message = parsed.error.issues[0]?.message ?? 'Enter the user name and the password.';
      return;
    }
    await this.login.run([parsed.data]);
  }

  private async onChange(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const newPassword = String(form.get('newPassword') ?? '');
    this.errors =
      newPassword === '' ? { newPassword: 'Enter a new password.' } : newPassword !== String(form.get('confirm') ?? '') ? { confirm: 'The two entries differ: enter the new password again.' } : {};
    if (Object.keys(this.errors).length === 0) await this.changePassword.run([newPassword]);
  }

  override render(): TemplateResult {
    return html`<div class="titlebar">
        <button type="button" class="back" data-test="back" @click=${() => navigate(this, { name: 'home' })}>◀ Cancel</button>
        <h1>${this.change ? 'Change Password' : 'Log In'}</h1>
      </div>
      <div class="content">${this.change ? this.renderChange(this.change.user) : this.renderLogin()}</div>`;
  }

  private renderLogin(): TemplateResult {
    return html`<form class="box" novalidate @submit=${this.onSubmit}>
      <p class="hint">Log in with your device account to have your name on the jobs you send.</p>
      <div>
        <label class="field" for="user">User Name</label>
        <input id="user" name="user" type="text" autocomplete="username" autocapitalize="off" spellcheck="false" data-test="login-user" />
      </div>
      <div>
        <label class="field" for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" data-test="login-password" />
      </div>
      ${this.message ? html`<div class="alert error" role="alert" data-test="login-error">${this.message}</div>` : nothing}
      <button type="submit" class="primary" data-test="login-submit" ?disabled=${pending(this.login)}>Log In</button>
    </form>`;
  }

  private renderChange(user: string): TemplateResult {
    const field = (id: string, name: string, label: string) => {
      const error = this.errors[name];
      return html`<div>
        <label class="field" for=${id}>${label}</label>
        <input id=${id} name=${name} type="password" autocomplete="new-password" data-test=${id} aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? `${id}-error` : nothing} />
        ${error ? html`<div class="field-error" id=${`${id}-error`} role="alert" data-test=${`error-${name}`}>${error}</div>` : nothing}
      </div>`;
    };
    return html`<form class="box" novalidate @submit=${this.onChange}>
      <p class="hint" data-test="change-password-hint"><strong>${user}</strong>: ${this.message}</p>
      ${field('new-password', 'newPassword', 'New Password')} ${field('confirm', 'confirm', 'New Password Again')}
      <button type="submit" class="primary" data-test="change-password-submit" ?disabled=${pending(this.changePassword)}>Change and Log In</button>
    </form>`;
  }

  static override styles = [
    panelStyles,
    css`
      .content {
        flex: 1;
        display: flex;
        justify-content: center;
        align-items: flex-start;
        padding-top: 30px;
      }
      .box {
        width: 460px;
        display: flex;
        flex-direction: column;
        gap: 14px;
      }
      .box .hint {
        margin: 0;
        font-size: 16px;
      }
      .box button {
        min-height: 56px;
        font-size: 19px;
      }
    `,
  ];
}

customElements.define('panel-login-screen', PanelLoginScreen);
