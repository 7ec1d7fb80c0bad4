/**
 * Accounts (Administrator only): the login accounts, adding one (it must change its password at
 * first login), changing a role or the user's e-mail address (what the panel's "Send to Myself"
 * sends to, and the Reply-To of their scans), resetting a password, deleting one after a
 * confirmation, and unlocking one that too many failed logins locked (until when on the device
 * clock, and the failures). The server guards the rules (the last Administrator, yourself); its
 * sentence is shown as it is.
 */
import { LitElement, css, html, nothing } from 'lit';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../firmware/defaults.ts';
import { accountCreateRequest, accountUpdateRequest, type SessionInfo } from '../../firmware/web/api-types.ts';
import { ROLES } from '../../firmware/web/roles.ts';
import { api } from './api.ts';
import { DeviceZone } from './device-zone.ts';
import { confirmStrip, errorsFrom, formMessage, input, row, select, validate, type FieldErrors } from './form-fields.ts';
import { action, ApiTask, pending } from './kit/api-task.ts';
import type { HttpResult } from './kit/http-client.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatWall } from './time-format.ts';

type Mode = { kind: 'list' } | { kind: 'add' } | { kind: 'edit'; name: string } | { kind: 'delete'; name: string };

const ROLE_OPTIONS = ROLES.map((r) => [r, r] as const);
const ADDRESS_HINT = 'Optional. The user’s own address: “Send to Myself” at the control panel, and Reply-To of their scans.';

export class AccountsPage extends LitElement {
  static override properties = {
    session: { attribute: false },
    mode: { state: true },
    errors: { state: true },
    message: { state: true },
  };

  declare session: SessionInfo | undefined;
  declare mode: Mode;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  private readonly accounts = new ApiTask(this, (_, call) => api('GET /api/accounts', call));
  /** The device's password policy for the hints; the generic length bounds until it arrives. */
  private readonly policy = new ApiTask(this, (_, call) => api('GET /api/password-policy', call));
  private readonly zone = new DeviceZone(this);
  /** One change at a time; on success it shows `done`, returns to the list and re-reads it. */
  private readonly send = action(this, async (request: Promise<HttpResult<unknown>>, done: string, touchesSelf = false) => {
    const result = await request;
    if (!result.ok) {
      this.errors = errorsFrom(result.error);
      this.message = { ok: false, text: result.error.message };
      return;
    }
    this.mode = { kind: 'list' };
    this.errors = {};
    this.message = { ok: true, text: done };
    void this.accounts.refresh();
    if (touchesSelf) this.dispatchEvent(new CustomEvent('rui-session-changed', { bubbles: true, composed: true }));
  });

  constructor() {
    super();
    this.mode = { kind: 'list' };
    this.errors = {};
  }

  private open(mode: Mode): void {
    this.mode = mode;
    this.errors = {};
    this.message = undefined;
  }

  /** Reads password + confirmation from a form; adds a mismatch error. */
  private passwords(form: FormData, errors: Record<string, string>): string {
    const password = String(form.get('password') ?? '');
    if (!errors['password'] && password !== String(form.get('confirm') ?? '')) errors['confirm'] = 'The two passwords do not match.';
    return password;
  }

  private async onAdd(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const body = { name: String(form.get('name') ?? ''), role: String(form.get('role') ?? ''), password: String(form.get('password') ?? ''), address: String(form.get('address') ?? '').trim() };
    const checked = validate(accountCreateRequest, body);
    const errors: Record<string, string> = { ...checked.errors };
    this.passwords(form, errors);
    this.errors = errors;
    this.message = undefined;
    if (!checked.data || Object.keys(errors).length > 0) return;
    await this.send.run([api('POST /api/accounts', { body: checked.data }), `The account "${checked.data.name}" was added. It must change its password at the first login.`]);
  }

  private async onChangeDetails(event: SubmitEvent, name: string): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const checked = validate(accountUpdateRequest, { role: String(form.get('role') ?? ''), address: String(form.get('address') ?? '').trim() });
    this.errors = checked.errors ?? {};
    this.message = undefined;
    if (!checked.data) return;
    const address = checked.data.address ? `e-mail address ${checked.data.address}` : 'no e-mail address';
    await this.send.run([api('PUT /api/accounts/:name', { params: { name }, body: checked.data }), `"${name}" is now ${checked.data.role} with ${address}.`, name === this.session?.user]);
  }

  private async onResetPassword(event: SubmitEvent, name: string): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const checked = validate(accountUpdateRequest, { password: String(form.get('password') ?? '') });
    const errors: Record<string, string> = { ...checked.errors };
    this.passwords(form, errors);
    this.errors = errors;
    this.message = undefined;
    if (!checked.data || Object.keys(errors).length > 0) return;
    await this.send.run([api('PUT /api/accounts/:name', { params: { name }, body: checked.data }), `The password of "${name}" was reset. The user must change it at the next login.`]);
  }

  private async onDelete(name: string): Promise<void> {
    await this.send.run([api('DELETE /api/accounts/:name', { params: { name } }), `The account "${name}" was deleted.`]);
  }

  override render() {
    const list = this.accounts.last;
    return html`<h1>Accounts</h1>
      ${formMessage(this.message)}
      ${this.accounts.failure()}
      ${this.renderMode()}
      <div class="toolbar">
        <button type="button" @click=${() => this.open({ kind: 'add' })} ?disabled=${this.mode.kind === 'add'}>Add Account</button>
        <span>${list ? `${list.length} account${list.length === 1 ? '' : 's'}` : 'Reading the accounts…'}</span>
      </div>
      <table data-test="accounts-table">
        <thead>
          <tr><th>User Name</th><th>Role</th><th>E-mail Address</th><th>Must Change Password</th><th>Actions</th></tr>
        </thead>
        <tbody>
          ${(list ?? []).map(
            (a) => html`<tr data-test="account-row" data-name=${a.name} class=${a.locked ? 'error' : ''}>
              <td>
                ${a.name}${a.name === this.session?.user ? html` <span class="you">(you)</span>` : nothing}
                ${a.locked ? html`<div data-test="account-locked">Locked until ${formatWall(a.locked.untilWallMs, this.zone.name)} (${a.locked.failures} failed logins)</div>` : nothing}
              </td>
              <td data-test="account-role">${a.role}</td>
              <td data-test="account-address">${a.address ?? html`<span class="none">—</span>`}</td>
              <td data-test="account-must-change">${a.mustChangePassword ? 'Yes' : 'No'}</td>
              <td class="row-actions">
                ${a.locked ? html`<button type="button" @click=${() => this.send.run([api('POST /api/accounts/:name/unlock', { params: { name: a.name }, body: {} }), `"${a.name}" can log in again.`])}>Unlock</button>` : nothing}
                <button type="button" aria-label=${`Edit ${a.name}`} @click=${() => this.open({ kind: 'edit', name: a.name })}>Edit</button>
                <button type="button" class="danger" aria-label=${`Delete ${a.name}`} @click=${() => this.open({ kind: 'delete', name: a.name })}>Delete</button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>`;
  }

  private renderMode() {
    const e = this.errors;
    const passwordHint = `${this.policy.last?.summary ?? `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters.`} The user must change it at the next login.`;
    const mode = this.mode;
    const cancel = html`<button type="button" @click=${() => this.open({ kind: 'list' })}>Cancel</button>`;
    if (mode.kind === 'add') {
      return html`<h2>Add Account</h2>
        <form @submit=${this.onAdd} novalidate data-test="add-account-form">
          <div class="panel">
            ${row('name', 'User Name', input('name', '', e['name']), e['name'], 'Letters, digits and . _ - @ (1–32).')}
            ${row('role', 'Role', select('role', 'GeneralUser', ROLE_OPTIONS, e['role']), e['role'])}
            ${row('address', 'E-mail Address', input('address', '', e['address'], { type: 'email', autocomplete: 'off', placeholder: 'name@example.com' }), e['address'], ADDRESS_HINT)}
            ${row('password', 'Password', input('password', '', e['password'], { type: 'password', autocomplete: 'new-password' }), e['password'], passwordHint)}
            ${row('confirm', 'Confirm Password', input('confirm', '', e['confirm'], { type: 'password', autocomplete: 'new-password' }), e['confirm'])}
          </div>
          <div class="actions">${cancel}<button class="primary" type="submit" ?disabled=${pending(this.send)}>Add</button></div>
        </form>`;
    }
    if (mode.kind === 'edit') {
      const account = this.accounts.last?.find((a) => a.name === mode.name);
      return html`<h2>Edit Account: ${mode.name}</h2>
        <form @submit=${(ev: SubmitEvent) => this.onChangeDetails(ev, mode.name)} novalidate data-test="role-form">
          <div class="panel">
            ${row('role', 'Role', select('role', account?.role ?? 'GeneralUser', ROLE_OPTIONS, e['role']), e['role'])}
            ${row('address', 'E-mail Address', input('address', account?.address ?? '', e['address'], { type: 'email', autocomplete: 'off', placeholder: 'name@example.com' }), e['address'], ADDRESS_HINT)}
          </div>
          <div class="actions"><button class="primary" type="submit" ?disabled=${pending(this.send)}>Save Role and Address</button></div>
        </form>
        <form @submit=${(ev: SubmitEvent) => this.onResetPassword(ev, mode.name)} novalidate data-test="reset-password-form">
          <div class="panel">
            ${row('password', 'New Password', input('password', '', e['password'], { type: 'password', autocomplete: 'new-password' }), e['password'], passwordHint)}
            ${row('confirm', 'Confirm New Password', input('confirm', '', e['confirm'], { type: 'password', autocomplete: 'new-password' }), e['confirm'])}
          </div>
          <div class="actions">${cancel}<button class="primary" type="submit" ?disabled=${pending(this.send)}>Reset Password</button></div>
        </form>`;
    }
    if (mode.kind === 'delete') {
      return confirmStrip({
        label: 'Delete account',
        test: 'delete-confirm',
        text: `Delete the account "${mode.name}"? This cannot be undone.`,
        yes: 'Yes, Delete',
        busy: pending(this.send),
        onCancel: () => this.open({ kind: 'list' }),
        onYes: () => void this.onDelete(mode.name),
      });
    }
    return nothing;
  }

  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        gap: var(--space-3);
        margin: 10px 0 6px;
        color: var(--muted);
      }
      .you,
      .none {
        color: var(--muted);
      }
    `,
  ];
}

customElements.define('rui-accounts-page', AccountsPage);
