/**
 * Log In at the panel with a device account (the same accounts as the Remote UI), so that jobs
 * carry the operator's name. The device's own sentence is shown for a refused login.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type * as z from 'zod/mini';
import { loginRequest, type PanelOperator } from '../../../firmware/web/api-types.ts';
import { action, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { panelApi } from './panel-api.ts';
import { navigate } from './panel-navigation.ts';
import { panelStyles } from './panel-styles.ts';

export const LOGGED_IN_EVENT = 'panel-logged-in';

export class PanelLoginScreen extends LitElement {
  static override properties = { message: { state: true } };

  declare message: string | undefined;
  private readonly login = action(this, async (body: z.infer<typeof loginRequest>) => {
    const result = await panelApi('POST /panel/api/login', { body });
    if (!result.ok) {
      this.message = result.error.message;
      const password = this.renderRoot.querySelector<HTMLInputElement>('#password');
      if (password) password.value = '';
      return;
    }
    this.dispatchEvent(new CustomEvent<PanelOperator>(LOGGED_IN_EVENT, { detail: result.data.operator, bubbles: true, composed: true }));
    navigate(this, { name: 'home' });
  });

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLInputElement>('#user')?.focus();
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

  override render(): TemplateResult {
    return html`<div class="titlebar">
        <button type="button" class="back" data-test="back" @click=${() => navigate(this, { name: 'home' })}>◀ Cancel</button>
        <h1>Log In</h1>
      </div>
      <div class="content">
        <form class="box" novalidate @submit=${this.onSubmit}>
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
        </form>
      </div>`;
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
