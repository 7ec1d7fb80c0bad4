/**
 * Login: the device names itself (`GET /api/info`), the admin gives a user name and password.
 * The server's own sentence is shown for a wrong login (401) and a locked one (429).
 */
import { LitElement, css, html, nothing } from 'lit';
import { loginRequest, type DeviceInfo, type SessionInfo } from '../../firmware/web/api-types.ts';
import { request } from './api.ts';
import { errorsFrom, formMessage, input, row, validate, type FieldErrors } from './form-fields.ts';
import { sharedStyles } from './shared-styles.ts';

export class LoginPage extends LitElement {
  static override properties = {
    info: { attribute: false },
    notice: {},
    errors: { state: true },
    message: { state: true },
    busy: { state: true },
  };

  declare info: DeviceInfo | undefined;
  declare notice: string;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  declare busy: boolean;

  constructor() {
    super();
    this.notice = '';
    this.errors = {};
    this.busy = false;
  }

  private async onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const checked = validate(loginRequest, { user: String(form.get('user') ?? ''), password: String(form.get('password') ?? '') });
    this.message = undefined;
    this.errors = checked.errors ?? {};
    if (!checked.data) return;
    this.busy = true;
    const result = await request<SessionInfo>('POST', '/api/session', checked.data);
    this.busy = false;
    if (result.ok) {
      this.dispatchEvent(new CustomEvent('rui-login', { detail: result.data, bubbles: true, composed: true }));
      return;
    }
    this.errors = errorsFrom(result.error);
    this.message = { ok: false, text: result.error.message };
    // Clear the refused password, unless the user has already typed another one meanwhile.
    const password = this.renderRoot.querySelector<HTMLInputElement>('#password');
    if (password?.value === checked.data.password) password.value = '';
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
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>Log In</button></div>
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
        background: linear-gradient(#3b4652, #28313a);
        color: #fff;
      }
      .product {
        font-size: 16px;
        font-weight: 600;
      }
      .device {
        color: #d5dbe1;
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
        color: #5b636d;
        font-size: 12px;
      }
    `,
  ];
}

customElements.define('rui-login-page', LoginPage);
