/**
 * The bench's "Identity Services" sections: the emulated Entra ID's tenants, app registrations
 * (with "Allow public client flows") and users (password change, revoke sessions), and the
 * emulated Google project's Desktop-app clients (id and secret to copy, Testing status) and
 * accounts, each list with its add form. Talks to /sim/api/cloud (device-sim/control/cloud-api.ts)
 * and polls it every few seconds, so the live-grant counts follow what the device does.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { EntraDirectoryView, EntraUserView, GoogleDirectoryView, GoogleUserView } from '../../cloud/identity-views.ts';
import { action, ApiTask, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { describeError, type HttpResult } from '../../../remote-ui/src/kit/http-client.ts';
import { formatUtc } from './bench-time.ts';
import { simApi } from './sim-api.ts';
import { benchFormStyles, benchTableStyles, benchHeadingStyles } from './bench-styles.ts';

const POLL_MS = 3000;
const MAX_LIFETIME_S = 2 * 86_400;

export class SimIdentityServices extends LitElement {
  static override properties = { message: { state: true } };

  declare message: { ok: boolean; text: string } | undefined;
  private readonly directories = new ApiTask(this, (_, call) => simApi('GET /sim/api/cloud', call), { everyMs: POLL_MS });
  /** One lever; the message says what happened, and the lists are read again at once. */
  private readonly lever = action(this, async (request: Promise<HttpResult<unknown>>, done: string, form?: HTMLFormElement) => {
    const result = await request;
    this.message = result.ok ? { ok: true, text: done } : { ok: false, text: describeError(result.error) };
    if (!result.ok) return;
    form?.reset();
    await this.directories.refresh();
  });

  private act(request: Promise<HttpResult<unknown>>, done: string): void {
    void this.lever.run([request, done]);
  }

  /** An add form: its fields to a request, the form cleared when the simulator took it. */
  private submit(build: (fields: Record<string, string>) => readonly [request: Promise<HttpResult<unknown>>, done: string]) {
    return (event: SubmitEvent): void => {
      event.preventDefault();
      const form = event.target as HTMLFormElement;
      const fields: Record<string, string> = {};
      for (const [name, value] of new FormData(form)) fields[name] = String(value).trim();
      void this.lever.run([...build(fields), form]);
    };
  }

  private async copy(text: string, what: string, event: Event): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.message = { ok: true, text: `${what} copied to the clipboard.` };
    } catch {
      const shown = (event.currentTarget as HTMLElement).previousElementSibling;
      if (shown) window.getSelection()?.selectAllChildren(shown);
      this.message = { ok: false, text: `The browser refused the clipboard: the ${what.toLowerCase()} is selected, press Ctrl+C.` };
    }
  }

  override render(): TemplateResult {
    return html`${this.message
        ? html`<p class="msg ${this.message.ok ? 'ok' : 'error'}" role=${this.message.ok ? 'status' : 'alert'} data-test="identity-message">${this.message.text}</p>`
        : nothing}
      ${this.directories.view(
        (v) => html`${this.renderEntra(v.entra)}${this.renderGoogle(v.google)}`,
        html`<section><p class="muted">Asking the emulated identity services…</p></section>`,
        (e) => html`<p class="msg error" role="alert" data-test="identity-error">${describeError(e)}</p>`,
      )}`;
  }

  // --- Entra ID -------------------------------------------------------------------------------

  private renderEntra(e: EntraDirectoryView): TemplateResult {
    const tenantName = (id: string) => e.tenants.find((t) => t.id === id)?.displayName ?? id;
    const off = pending(this.lever);
    return html`<section data-test="entra-directory">
      <h2>Microsoft Entra ID <span class="muted">login.microsoftonline.com/{tenant}: a verified domain, a tenant ID, or ${e.aliases.join(' / ')}</span></h2>
      <h3>Tenants</h3>
      <table>
        <tr><th>Name</th><th>Tenant ID</th><th>Verified domains</th><th class="num">Users</th><th></th></tr>
        ${e.tenants.map(
          (t) => html`<tr data-test="entra-tenant" data-id=${t.id}>
            <td>${t.displayName}${t.personalAccounts ? html` <span class="tag">personal accounts</span>` : nothing}</td>
            <td class="mono">${t.id}</td>
            <td>${t.domains.join(', ')}</td>
            <td class="num">${e.users.filter((u) => u.tenantId === t.id).length}</td>
            <td class="actions"><button type="button" class="small" ?disabled=${off} @click=${() => this.act(simApi('DELETE /sim/api/cloud/entra/tenants/:tenant', { params: { tenant: t.id } }), `Tenant ${t.displayName} removed, with its users.`)}>Remove</button></td>
          </tr>`,
        )}
      </table>
      <form
        class="line add"
        @submit=${this.submit((f) => [
          simApi('POST /sim/api/cloud/entra/tenants', { body: { displayName: f['displayName'] ?? '', domains: splitList(f['domains']) } }),
          `Tenant ${f['displayName']} added.`,
        ])}
      >
        <input name="displayName" aria-label="Tenant name" placeholder="Tenant name" required />
        <input name="domains" class="wide" aria-label="Verified domains" placeholder="Domains, e.g. northwind.com" required />
        <button type="submit" ?disabled=${off}>Add Tenant</button>
      </form>

      <h3>App registrations</h3>
      <table>
        <tr><th>Name</th><th>Application (client) ID</th><th>Home tenant</th><th>Allow public client flows</th><th></th></tr>
        ${e.apps.map(
          (a) => html`<tr data-test="entra-app" data-client-id=${a.clientId}>
            <td>${a.displayName}${a.builtIn ? html` <span class="tag">the device's own app</span>` : nothing}</td>
            <td class="mono">${a.clientId}</td>
            <td>${tenantName(a.homeTenantId)}</td>
            <td>
              <label class="switch">
                <input type="checkbox" data-test="public-client-flows" aria-label=${`Allow public client flows for ${a.displayName}`} .checked=${a.publicClientFlows} ?disabled=${off}
                  @change=${(ev: Event) => this.onPublicClientFlows(a.clientId, a.displayName, (ev.target as HTMLInputElement).checked)} />
                ${a.publicClientFlows ? 'Yes' : html`<span class="warn">No (AADSTS7000218)</span>`}
              </label>
            </td>
            <td class="actions"><button type="button" class="small" ?disabled=${off} @click=${() => this.act(simApi('DELETE /sim/api/cloud/entra/apps/:clientId', { params: { clientId: a.clientId } }), `App ${a.displayName} removed: its client ID now gets AADSTS700016.`)}>Remove</button></td>
          </tr>`,
        )}
      </table>
      <form
        class="line add"
        @submit=${this.submit((f) => [
          simApi('POST /sim/api/cloud/entra/apps', {
            body: { displayName: f['displayName'] ?? '', homeTenant: f['homeTenant'] ?? '', publicClientFlows: f['publicClientFlows'] === 'on', ...(f['clientId'] ? { clientId: f['clientId'] } : {}) },
          }),
          `App ${f['displayName']} registered.`,
        ])}
      >
        <input name="displayName" aria-label="App name" placeholder="App name" required />
        <select name="homeTenant" aria-label="Home tenant">${e.tenants.map((t) => html`<option value=${t.id}>${t.displayName}</option>`)}</select>
        <input name="clientId" class="guid" aria-label="Client ID" placeholder="Client ID (empty: a new one)" />
        <label class="check"><input type="checkbox" name="publicClientFlows" /> Allow public client flows</label>
        <button type="submit" ?disabled=${off}>Add App</button>
      </form>

      <h3>Users</h3>
      <table>
        <tr><th>User principal name</th><th>Name</th><th>Tenant</th><th class="num">Live grants</th><th>Password changed (UTC)</th><th></th></tr>
        ${e.users.map(
          (u) => html`<tr data-test="entra-user" data-upn=${u.userPrincipalName}>
            <td class="mono">${u.userPrincipalName}</td>
            <td>${u.displayName}</td>
            <td>${tenantName(u.tenantId)}</td>
            ${this.userCells('entra', u.userPrincipalName, u, 'AADSTS50173')}
          </tr>`,
        )}
      </table>
      <form
        class="line add"
        @submit=${this.submit((f) => [
          simApi('POST /sim/api/cloud/entra/users', { body: { userPrincipalName: f['userPrincipalName'] ?? '', ...(f['displayName'] ? { displayName: f['displayName'] } : {}) } }),
          `User ${f['userPrincipalName']} added.`,
        ])}
      >
        <input name="userPrincipalName" type="email" aria-label="User principal name" placeholder="name@verified-domain" required />
        <input name="displayName" aria-label="Display name" placeholder="Display name (optional)" />
        <button type="submit" ?disabled=${off}>Add User</button>
      </form>
      ${this.lifetimeForm('entra', e.accessTokenLifetimeS)}
    </section>`;
  }

  private onPublicClientFlows(clientId: string, name: string, on: boolean): void {
    this.act(
      simApi('PATCH /sim/api/cloud/entra/apps/:clientId', { params: { clientId }, body: { publicClientFlows: on } }),
      `${name}: public client flows ${on ? 'allowed' : 'off (the token endpoint now answers AADSTS7000218)'}.`,
    );
  }

  // --- Google ---------------------------------------------------------------------------------

  private renderGoogle(g: GoogleDirectoryView): TemplateResult {
    const off = pending(this.lever);
    return html`<section data-test="google-directory">
      <h2>Google <span class="muted">accounts.google.com, oauth2.googleapis.com: Desktop-app clients to paste into the Remote UI</span></h2>
      <h3>OAuth clients</h3>
      <table>
        <tr><th>Name</th><th>Client ID and secret (paste them into the Remote UI)</th><th>Publishing status</th><th class="num">Live grants</th><th></th></tr>
        ${g.clients.map(
          (c) => html`<tr data-test="google-client" data-client-id=${c.clientId}>
            <td>${c.displayName}${c.isDefault ? html` <span class="tag">default</span>` : nothing}</td>
            <td class="credentials">
              <div><span class="key">ID</span><code data-test="client-id">${c.clientId}</code><button type="button" class="copy" data-test="copy-client-id" aria-label=${`Copy the client ID of ${c.displayName}`} @click=${(ev: Event) => this.copy(c.clientId, 'Client ID', ev)}>Copy</button></div>
              <div><span class="key">Secret</span><code data-test="client-secret">${c.clientSecret}</code><button type="button" class="copy" data-test="copy-client-secret" aria-label=${`Copy the client secret of ${c.displayName}`} @click=${(ev: Event) => this.copy(c.clientSecret, 'Client secret', ev)}>Copy</button></div>
            </td>
            <td>
              <label class="switch">
                <input type="checkbox" data-test="google-testing" aria-label=${`Testing for ${c.displayName}`} .checked=${c.testing} ?disabled=${off}
                  @change=${(ev: Event) => this.onTesting(c.clientId, c.displayName, (ev.target as HTMLInputElement).checked)} />
                ${c.testing ? html`<span class="warn">Testing (7-day tokens)</span>` : 'In production'}
              </label>
            </td>
            <td class="num">${c.liveRefreshTokens}</td>
            <td class="actions"><button type="button" class="small" ?disabled=${off} @click=${() => this.act(simApi('DELETE /sim/api/cloud/google/clients/:clientId', { params: { clientId: c.clientId } }), `Client ${c.displayName} deleted.`)}>Remove</button></td>
          </tr>`,
        )}
      </table>
      <form
        class="line add"
        @submit=${this.submit((f) => [
          simApi('POST /sim/api/cloud/google/clients', { body: { displayName: f['displayName'] ?? '', testing: f['testing'] === 'on' } }),
          `Client ${f['displayName']} created: copy its ID and secret from the list.`,
        ])}
      >
        <input name="displayName" aria-label="Client name" placeholder="Client name" required />
        <label class="check"><input type="checkbox" name="testing" /> Testing</label>
        <button type="submit" ?disabled=${off}>Add Client</button>
        <span class="muted">ID and secret are made up by the emulator.</span>
      </form>

      <h3>Accounts</h3>
      <table>
        <tr><th>Account</th><th>Name</th><th class="num">Live grants</th><th>Password changed (UTC)</th><th></th></tr>
        ${g.users.map(
          (u) => html`<tr data-test="google-user" data-email=${u.email}>
            <td class="mono">${u.email}</td>
            <td>${u.displayName}</td>
            ${this.userCells('google', u.email, u, 'invalid_grant')}
          </tr>`,
        )}
      </table>
      <form
        class="line add"
        @submit=${this.submit((f) => [
          simApi('POST /sim/api/cloud/google/users', { body: { email: f['email'] ?? '', ...(f['displayName'] ? { displayName: f['displayName'] } : {}) } }),
          `Account ${f['email']} added.`,
        ])}
      >
        <input name="email" type="email" aria-label="Google account" placeholder="name@gmail.com" required />
        <input name="displayName" aria-label="Account name" placeholder="Display name (optional)" />
        <button type="submit" ?disabled=${off}>Add Account</button>
      </form>
      ${this.lifetimeForm('google', g.accessTokenLifetimeS)}
    </section>`;
  }

  private onTesting(clientId: string, name: string, testing: boolean): void {
    this.act(
      simApi('PATCH /sim/api/cloud/google/clients/:clientId', { params: { clientId }, body: { testing } }),
      `${name}: ${testing ? 'Testing (refresh tokens issued from now on expire after 7 days)' : 'In production'}.`,
    );
  }

  // --- shared ---------------------------------------------------------------------------------

  /** The last cells of a user's row: live grants, the last password change, and the levers. */
  private userCells(provider: 'entra' | 'google', user: string, u: EntraUserView | GoogleUserView, refusal: string): TemplateResult {
    const lever = (what: 'password' | 'revoke') => simApi(`POST /sim/api/cloud/${provider}/users/:user/${what}` as const, { params: { user }, body: {} });
    const remove = () =>
      provider === 'entra' ? simApi('DELETE /sim/api/cloud/entra/users/:upn', { params: { upn: user } }) : simApi('DELETE /sim/api/cloud/google/users/:email', { params: { email: user } });
    const off = pending(this.lever);
    return html`<td class="num" data-test="live-grants">${u.liveRefreshTokens}</td>
      <td>${u.passwordChangedAtMs === null ? '—' : formatUtc(u.passwordChangedAtMs)}</td>
      <td class="actions">
        <button type="button" class="small" ?disabled=${off} @click=${() => this.act(lever('password'), `${user} changed the password: refresh tokens now get ${refusal}.`)}>Change Password</button>
        <button type="button" class="small" ?disabled=${off} @click=${() => this.act(lever('revoke'), `${user}: every refresh token revoked (${refusal}).`)}>Revoke</button>
        <button type="button" class="small" ?disabled=${off} @click=${() => this.act(remove(), `${user} removed.`)}>Remove</button>
      </td>`;
  }

  private lifetimeForm(provider: 'entra' | 'google', lifetimeS: number): TemplateResult {
    const id = `${provider}-lifetime`;
    const onSubmit = (event: SubmitEvent) => {
      event.preventDefault();
      const seconds = Number(new FormData(event.target as HTMLFormElement).get('seconds'));
      this.act(simApi(`PATCH /sim/api/cloud/${provider}` as const, { body: { accessTokenLifetimeS: seconds } }), `Access tokens issued from now on live ${seconds} s.`);
    };
    return html`<form class="line lifetime" @submit=${onSubmit}>
      <label for=${id}>Access tokens issued from now on live</label>
      <input id=${id} name="seconds" class="seconds" type="number" min="1" max=${MAX_LIFETIME_S} step="1" required .value=${String(lifetimeS)} />
      <span>s</span>
      <button type="submit" ?disabled=${pending(this.lever)}>Apply</button>
    </form>`;
  }

  static override styles = [
    benchHeadingStyles,
    benchFormStyles,
    benchTableStyles,
    css`
      :host {
        display: block;
      }
      /* The lists are long: the result of a lever stays in sight while the tester scrolls. */
      p.msg {
        position: sticky;
        top: 0;
        z-index: 1;
      }
      h3 {
        font-size: var(--text-small);
        margin: 10px 0 2px;
        color: #2b333b;
      }
      .num {
        text-align: right;
        font-variant-numeric: tabular-nums;
        width: 70px;
      }
      .mono,
      code {
        font-family: var(--mono);
        font-size: 11.5px;
      }
      .actions {
        text-align: right;
        white-space: nowrap;
        width: 1%;
      }
      .actions button.small {
        margin-left: 4px;
      }
      .credentials div {
        display: flex;
        align-items: center;
        white-space: nowrap;
        margin: 1px 0;
      }
      .credentials .key {
        width: 44px;
        color: var(--label);
      }
      button.copy {
        font-size: 11px;
        padding: 0 6px;
        margin-left: 6px;
      }
      .warn {
        color: var(--warn-ink);
      }
      .switch,
      .check {
        display: inline-flex;
        align-items: center;
        gap: 4px;
        white-space: nowrap;
      }
      .switch input,
      .check input {
        width: auto;
        margin: 0;
      }
      form.add {
        margin-top: 6px;
      }
      input.wide {
        width: 340px;
      }
      input.guid {
        width: 250px;
      }
      input.seconds {
        width: 80px;
      }
      select {
        font: inherit;
        padding: 2px 4px;
      }
      .lifetime {
        margin-top: 10px;
      }
    `,
  ];
}

customElements.define('sim-identity-services', SimIdentityServices);

function splitList(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,;]+/).filter((s) => s !== '');
}
