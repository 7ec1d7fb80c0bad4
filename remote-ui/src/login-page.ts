/**
 * Login: the device names itself (`GET /api/info`), the admin gives a user name and password.
 * The server's own sentence is shown for a wrong login (401) and a locked one (429).
 */
import { LitElement, css, html, nothing } from 'lit';
import { loginRequest, type DeviceInfo } from '../../firmware/web/api-types.ts';
import type * as z from 'zod/mini';
import { api } from './api.ts';
import { errorsFrom, formMessage, input, row, validate, type FieldErrors } from './form-fields.ts';
import { action, pending } from './kit/api-task.ts';
import { sharedStyles } from './shared-styles.ts';

export class LoginPage extends LitElement {
  static override properties = {
    info: { attribute: false },
    notice: {},
    errors: { state: true },
    message: { state: true },
  };

  declare info: DeviceInfo | undefined;
  declare notice: string;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  private readonly login = action(this, async (body: z.infer<typeof loginRequest>) => {
    const result = await api('POST /api/session', { body });
    if (result.ok) {
      this.dispatchEvent(new CustomEvent('rui-login', { detail: result.data, bubbles: true, composed: true }));
      return;
    }
    this.errors = errorsFrom(result.error);
    this.message = { ok: false, text: result.error.message };
    // Clear the refused password, unless the user has already typed another one meanwhile.
    const password = this.renderRoot.querySelector<HTMLInputElement>('#password');
    if (password?.value === body.password) password.value = '';
  });

  constructor() {
    super();
    this.notice = '';
    this.errors = {};
  }

  private async onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const checked = validate(loginRequest, { user: String(form.get('user') ?? ''), password: String(form.get('password') ?? '') });
    this.message = undefined;
    this.errors = checked.errors ?? {};
    if (checked.data) await this.login.run([checked.data]);
  }

  override render() {
    const e = this.errors;
    return html`<div class="box">
      <div class="title">
        <div class="product">${this.info?.productName ?? 'Remote UI'}</div>
        <div class="device">Device Name: <b data-test="device-name">${this.info?.deviceName ?? '—'}</b></div>
      </div>
      <form @submit=${this.onSubmit} novalidate data-test="login-form">
        <h1>Remote UI: Login</h1>
        ${this.notice && !this.message ? html`<p class="note" role="status" data-test="login-notice">${this.notice}</p>` : nothing}
        ${formMessage(this.message)}
        <div class="panel">
          ${row('user', 'User Name', input('user', '', e['user'], { autocomplete: 'username' }), e['user'])}
          ${row('password', 'Password', input('password', '', e['password'], { type: 'password', autocomplete: 'current-password' }), e['password'])}
        </div>
        <div class="actions"><button class="primary" type="submit" ?disabled=${pending(this.login)}>Log In</button></div>
      </form>
      ${this.info ? html`<div class="fw">Firmware ${this.info.firmwareVersion}</div>` : nothing}
    </div>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .box {
        width: 560px;
        margin: 70px auto;
        background: #fff;
        border: 1px solid var(--line);
        box-shadow: 0 1px 4px rgb(0 0 0 / 8%);
      }
      .title {
        padding: 12px 18px;
        background: var(--bar);
        color: #fff;
      }
      .product {
        font-size: 16px;
        font-weight: 600;
      }
      .device {
        color: var(--bar-muted);
        margin-top: 2px;
      }
      form {
        padding: 16px 18px 4px;
      }
      .row {
        grid-template-columns: 130px 1fr;
      }
      .fw {
        padding: 0 18px 10px;
        color: var(--muted);
        font-size: var(--text-small);
      }
    `,
  ];
}

customElements.define('rui-login-page', LoginPage);
