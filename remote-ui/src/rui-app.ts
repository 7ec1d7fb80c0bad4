/**
 * The Remote UI shell: who is logged in, which page the address names, and the frame around it
 * (header with product, device and user; the Settings/Registration navigation). Pages fetch
 * their own data; the shell only owns the session.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import type { DeviceInfo, SessionInfo } from '../../firmware/web/api-types.ts';
import { api, setCsrfToken, setSessionLossHandler, type SessionLoss } from './api.ts';
import { interceptLinks, navigate, ROUTE_EVENT } from './router.ts';
import { NAV, NAV_ITEMS, mayOpen, rolesWords, type NavItem } from './nav.ts';
import { SECTION_FORMS } from './section-forms.ts';
import { sharedStyles } from './shared-styles.ts';
import './accounts-page.ts';
import './address-book-page.ts';
import './certificates-page.ts';
import './configuration-page.ts';
import './datetime-page.ts';
import './email-page.ts';
import './events-page.ts';
import './job-log-page.ts';
import './login-page.ts';
import './oauth-page.ts';
import './password-page.ts';
import './portal-page.ts';
import './settings-form.ts';

export class RuiApp extends LitElement {
  static override properties = {
    info: { state: true },
    session: { state: true },
    path: { state: true },
    notice: { state: true },
  };

  /** From `GET /api/info`: product and device name for the header and login page. */
  declare info: DeviceInfo | undefined;
  /** undefined while the first `GET /api/session` runs; null when logged out. */
  declare session: SessionInfo | null | undefined;
  declare path: string;
  /** A line for the login page: why the user is there (session ended, logged out). */
  declare notice: string;
  /** Where to go after login: the page the user asked for. */
  private returnTo = '/';

  constructor() {
    super();
    this.path = location.pathname;
    this.notice = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    interceptLinks();
    window.addEventListener(ROUTE_EVENT, () => (this.path = location.pathname));
    setSessionLossHandler((reason, message) => this.onSessionLoss(reason, message));
    void this.loadInfo();
    void this.loadSession();
  }

  private async loadInfo(): Promise<void> {
    const result = await api('GET /api/info');
    if (result.ok) this.info = result.data;
  }

  private async loadSession(): Promise<void> {
    const result = await api('GET /api/session');
    const data = result.ok ? result.data : undefined;
    // The device says why a session the browser still had is gone (the printer restarted, it ended).
    if (data && !data.loggedIn && data.message) this.notice = data.message;
    this.setSession(data?.loggedIn ? data : null);
  }

  private setSession(session: SessionInfo | null): void {
    setCsrfToken(session?.csrfToken ?? '');
    this.session = session;
  }

  private onSessionLoss(reason: SessionLoss, message: string): void {
    if (reason === 'password-change-required') {
      void this.loadSession();
      return;
    }
    if (this.session) this.notice = message;
    this.setSession(null);
  }

  private onLogin(session: SessionInfo): void {
    this.notice = '';
    this.setSession(session);
    if (!session.mustChangePassword) navigate(this.returnTo, { replace: true });
  }

  private onPasswordChanged(session: SessionInfo, forced: boolean): void {
    this.setSession(session);
    if (forced) navigate(this.returnTo, { replace: true });
  }

  private async logout(): Promise<void> {
    await api('DELETE /api/session');
    this.returnTo = '/';
    this.notice = 'You have logged out.';
    this.setSession(null);
    navigate('/login');
  }

  /** Keep the address bar honest: /login while logged out, /password while a change is forced. */
  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('info') || changed.has('path') || changed.has('session')) document.title = `Remote UI: ${this.pageTitle()}${this.info ? `: ${this.info.deviceName}` : ''}`;
    if (this.session === undefined) return;
    const wanted = this.session === null ? '/login' : this.session.mustChangePassword ? '/password' : undefined;
    if (wanted && location.pathname !== wanted) {
      if (location.pathname !== '/login' && location.pathname !== '/password') this.returnTo = location.pathname;
      navigate(wanted, { replace: true });
    } else if (!wanted && location.pathname === '/login') {
      navigate(this.returnTo, { replace: true });
    }
  }

  private pageTitle(): string {
    if (!this.session) return 'Login';
    if (this.session.mustChangePassword || this.path === '/password') return 'Change Password';
    if (this.path === '/') return 'Portal';
    return NAV_ITEMS.find((i) => i.path === this.path)?.label ?? 'Remote UI';
  }

  override render(): TemplateResult {
    if (this.session === undefined) return html`<p class="loading">Connecting to the device…</p>`;
    if (this.session === null) {
      return html`<rui-login-page .info=${this.info} .notice=${this.notice} @rui-login=${(e: CustomEvent<SessionInfo>) => this.onLogin(e.detail)}></rui-login-page>`;
    }
    const session = this.session;
    const forced = session.mustChangePassword;
    return html`
      <header>
        <div class="brand">
          <span class="product" data-test="product-name">${this.info?.productName ?? 'Remote UI'}</span>
          <span class="device">Device Name: <b data-test="device-name">${this.info?.deviceName ?? ''}</b></span>
        </div>
        <div class="user">
          <span>Login User: <b data-test="login-user">${session.user}</b> (<span data-test="login-role">${session.role}</span>)</span>
          ${forced ? nothing : html`<a href="/password">Change Password</a>`}
          <button type="button" @click=${() => void this.logout()}>Log Out</button>
        </div>
      </header>
      <div class="body">
        ${forced ? nothing : this.renderNav(session)}
        <main
          @rui-saved=${(e: CustomEvent<string>) => e.detail === 'device' && void this.loadInfo()}
          @rui-session-changed=${() => void this.loadSession()}
        >
          ${forced
            ? html`<rui-password-page forced @rui-session=${(e: CustomEvent<SessionInfo>) => this.onPasswordChanged(e.detail, true)}></rui-password-page>`
            : keyed(this.path, this.renderPage(session))}
        </main>
      </div>
    `;
  }

  private renderNav(session: SessionInfo): TemplateResult {
    const link = (path: string, label: string) =>
      html`<li><a href=${path} aria-current=${this.path === path ? 'page' : nothing}>${label}</a></li>`;
    // A group this role can partly open also lists the pages it cannot, greyed, saying who can:
    // a page does not just go missing. A role that can open none of a group does not see it.
    const groups = NAV.filter((g) => g.items.some((i) => mayOpen(session, i)));
    const locked = (i: NavItem) =>
      html`<li><span class="nav-locked" data-test="nav-locked" title=${`${i.label}: ${rolesWords(i)}. Your role is ${session.role}.`}>${i.label} <small>(${rolesWords(i)})</small></span></li>`;
    return html`<nav aria-label="Remote UI">
      <ul>${link('/', 'Portal')}</ul>
      ${groups.length === 0
        ? nothing
        : html`<div class="nav-title">Settings/Registration</div>
            ${groups.map(
              (g) => html`<div class="nav-group">${g.group}</div>
                <ul>${g.items.map((i) => (mayOpen(session, i) ? link(i.path, i.label) : locked(i)))}</ul>`,
            )}`}
    </nav>`;
  }

  private renderPage(session: SessionInfo): TemplateResult {
    const path = this.path;
    if (path === '/' || path === '/login') return html`<rui-portal-page .session=${session}></rui-portal-page>`;
    if (path === '/password') {
      return html`<rui-password-page @rui-session=${(e: CustomEvent<SessionInfo>) => this.onPasswordChanged(e.detail, false)}></rui-password-page>`;
    }
    const item = NAV_ITEMS.find((i) => i.path === path);
    if (!item) return html`<h1>Page Not Found</h1><p>There is no page at ${path}. <a href="/">Back to the portal</a></p>`;
    if (!mayOpen(session, item)) {
      return html`<h1>${item.label}</h1><p class="warning" role="alert" data-test="forbidden">Your role (${session.role}) cannot open this page: it is for ${rolesWords(item)}.</p>`;
    }
    if (item.section === 'datetime') return html`<rui-datetime-page></rui-datetime-page>`;
    if (item.section === 'email') return html`<rui-email-page></rui-email-page>`;
    if (item.section === 'certificates') return html`<rui-certificates-page></rui-certificates-page>`;
    if (item.section === 'oauthMicrosoft') return html`<rui-oauth-page .provider=${'microsoft'}></rui-oauth-page>`;
    if (item.section === 'oauthGoogle') return html`<rui-oauth-page .provider=${'google'}></rui-oauth-page>`;
    if (item.section) return html`<rui-settings-form .section=${item.section} .spec=${SECTION_FORMS[item.section]}></rui-settings-form>`;
    if (path === '/accounts') return html`<rui-accounts-page .session=${session}></rui-accounts-page>`;
    if (path === '/address-book') return html`<rui-address-book-page></rui-address-book-page>`;
    if (path === '/jobs') return html`<rui-job-log-page></rui-job-log-page>`;
    if (path === '/configuration') return html`<rui-configuration-page></rui-configuration-page>`;
    return html`<rui-events-page></rui-events-page>`;
  }

  static override styles = [
    sharedStyles,
    css`
      :host {
        min-height: 100vh;
      }
      .loading {
        padding: 40px;
        text-align: center;
        color: var(--muted);
      }
      header {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 16px;
        padding: 6px 16px;
        background: var(--bar);
        color: #fff;
      }
      .brand {
        display: flex;
        align-items: baseline;
        gap: 18px;
      }
      .product {
        font-size: 15px;
        font-weight: 600;
      }
      .device {
        color: var(--bar-muted);
      }
      .user {
        display: flex;
        align-items: center;
        gap: 12px;
      }
      .user a {
        color: #cfe2f5;
      }
      .body {
        display: flex;
        align-items: flex-start;
        min-height: calc(100vh - 40px);
      }
      nav {
        width: 210px;
        flex: none;
        align-self: stretch;
        background: #f7f8f9;
        border-right: 1px solid var(--line);
        padding: 8px 0;
      }
      nav ul {
        list-style: none;
        margin: 0 0 6px;
        padding: 0;
      }
      nav a {
        display: block;
        padding: 4px 16px 4px 22px;
        text-decoration: none;
        color: var(--ink);
      }
      nav a:hover {
        background: #e3e8ee;
      }
      .nav-locked {
        display: block;
        padding: 4px 16px 4px 22px;
        color: var(--muted);
        cursor: default;
      }
      .nav-locked small {
        font-size: var(--text-small);
      }
      nav a[aria-current='page'] {
        background: #dbe6f1;
        border-left: 3px solid var(--accent);
        padding-left: 19px;
        font-weight: 600;
      }
      .nav-title {
        margin: 8px 0 2px;
        padding: 4px 12px;
        font-weight: 600;
        background: var(--head);
        border-top: 1px solid var(--line);
        border-bottom: 1px solid var(--line);
      }
      .nav-group {
        padding: 6px 12px 2px;
        color: var(--muted);
        font-size: var(--text-small);
        font-weight: 600;
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      main {
        flex: 1;
        min-width: 0;
        max-width: 900px;
        padding: 14px 22px 40px;
      }
    `,
  ];
}

customElements.define('rui-app', RuiApp);

declare global {
  interface HTMLElementTagNameMap {
    'rui-app': RuiApp;
  }
}
