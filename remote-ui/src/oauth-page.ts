/**
 * OAuth 2.0 (Microsoft) and OAuth 2.0 (Google): the settings form, then the registration status
 * (`GET /api/oauth/:provider`, polled every 2 s in the background) with Register and Deregister.
 * Microsoft's device code flow: the page shows the user code, the message and the verification
 * address, with a countdown ticking locally between polls. The authorization code flow (Google's,
 * and Microsoft's when its Grant Type says so): the page links to the sign-in page and takes the
 * pasted code (or the whole address of the error page the browser shows for the loopback
 * address). Microsoft app-only with the device certificate: its thumbprint, a download and a new
 * key pair. See docs/api.md, "OAuth 2.0".
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { googlePastedCodeRequest, type AppCertificateView, type OAuthProvider, type OAuthStatusView, type TokenStatusName } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { confirmStrip, errorsFrom, formMessage, invalid, row, validate } from './form-fields.ts';
import { action, ApiTask, pending } from './kit/api-task.ts';
import type { HttpResult } from './kit/http-client.ts';
import { SECTION_FORMS } from './section-forms.ts';
import { sharedStyles } from './shared-styles.ts';
import { TickController } from './tick-controller.ts';
import { formatDuration } from './time-format.ts';
import './settings-form.ts';

const POLL_MS = 2000;

/** Token Status as the page words it, and the badge colour. */
const TOKEN_STATUS: Readonly<Record<TokenStatusName, readonly [text: string, tone: 'ok' | 'wait' | 'bad' | 'off']>> = {
  'not-configured': ['Not configured', 'off'],
  'waiting-for-user': ['Waiting for user', 'wait'],
  active: ['Active', 'ok'],
  refreshing: ['Active (refreshing)', 'ok'],
  revalidating: ['Checking with the server', 'wait'],
  'invalid-clock-changed': ['Invalid', 'bad'],
  'reauthorization-needed': ['Reauthorization needed', 'bad'],
  error: ['Error', 'bad'],
};

/** Statuses in which the device may hold tokens (a grant) that Deregister deletes. */
const HAS_GRANT: readonly TokenStatusName[] = ['active', 'refreshing', 'revalidating', 'invalid-clock-changed', 'reauthorization-needed', 'error'];

/** Statuses in which the tokens are working: Register stays off until Deregister. */
const IN_USE: readonly TokenStatusName[] = ['active', 'refreshing', 'revalidating'];

/** One labelled row of the status panel. */
const row2 = (label: string, value: unknown) => html`<div class="row"><span class="label">${label}</span><div class="cell">${value}</div></div>`;

/** "Invalid: the date…" next to the badge "Invalid" reads twice: drop the repeated word. */
function withoutPrefix(message: string, badge: string): string {
  return message.startsWith(`${badge}: `) ? message.charAt(badge.length + 2).toUpperCase() + message.slice(badge.length + 3) : message;
}

export class OAuthPage extends LitElement {
  static override properties = {
    provider: { attribute: false },
    confirming: { state: true },
    confirmingKey: { state: true },
    message: { state: true },
    pasted: { state: true },
    pastedError: { state: true },
  };

  declare provider: OAuthProvider;
  /** The Deregister confirmation strip is open. */
  declare confirming: boolean;
  /** The New Key Pair confirmation strip is open. */
  declare confirmingKey: boolean;
  declare message: { ok: boolean; text: string } | undefined;
  declare pasted: string;
  declare pastedError: string | undefined;
  /** The Token Status a success message spoke about: it goes once the status moves on. */
  private messageStatus: TokenStatusName | undefined;
  private readonly status = new ApiTask(this, ([provider], call) => api('GET /api/oauth/:provider', { ...call, params: { provider } }), {
    args: () => [this.provider] as const,
    everyMs: POLL_MS,
  });
  /**
   * Register, Deregister, Submit Code or Check Connection: the device answers with the new status,
   * or refuses. Each action's outcome replaces the one before.
   */
  private readonly act = action(this, async (request: () => Promise<HttpResult<OAuthStatusView>>, done: string, onDone?: () => void) => {
    this.message = undefined;
    this.pastedError = undefined;
    const result = await request();
    if (!result.ok) {
      const fieldError = errorsFrom(result.error)['pasted'];
      if (fieldError) this.pastedError = fieldError;
      else this.message = { ok: false, text: result.error.message };
      return;
    }
    void this.status.set(result.data);
    if (done) this.message = { ok: true, text: done };
    this.messageStatus = result.data.tokenStatus;
    onDone?.();
  });

  constructor() {
    super();
    this.confirming = false;
    this.confirmingKey = false;
    this.pasted = '';
    new TickController(this);
  }

  /** Seconds left of a countdown the device reported, ticking down since that answer arrived. */
  private left(seconds: number): number {
    return seconds - (performance.now() - this.status.loadedAtMs) / 1000;
  }

  private register(): void {
    this.confirming = false;
    void this.act.run([() => api('POST /api/oauth/:provider/register', { params: { provider: this.provider }, body: {} }), '']);
  }

  private deregister(): void {
    this.confirming = false;
    void this.act.run([() => api('DELETE /api/oauth/:provider', { params: { provider: this.provider } }), 'Deregistered: the device deleted its tokens.']);
  }

  /** Server Connection Status now: after the settings are saved, or when the admin asks. */
  private checkConnection(): void {
    void this.act.run([() => api('POST /api/oauth/:provider/check', { params: { provider: this.provider }, body: {} }), '']);
  }

  private submitCode(event: SubmitEvent): void {
    event.preventDefault();
    const checked = validate(googlePastedCodeRequest, { pasted: this.pasted.trim() });
    this.pastedError = checked.errors?.['pasted'];
    const body = checked.data;
    if (body) void this.act.run([() => api('POST /api/oauth/:provider/code', { params: { provider: this.provider }, body }), 'Code accepted.', () => (this.pasted = '')]);
  }

  /** A new app key pair: the certificate registered in Entra stops working until the new one is uploaded. */
  private newKey(): void {
    this.confirmingKey = false;
    void this.act.run([() => api('POST /api/oauth/microsoft/certificate/regenerate', { body: {} }), 'A new key pair was made: download the certificate and upload it to the app registration.']);
  }

  private copy(event: Event): void {
    const code = (event.currentTarget as HTMLElement).parentElement?.querySelector('[data-test=user-code]');
    if (!code) return;
    // The clipboard API needs a secure context; over plain HTTP the device's address is not one.
    const range = document.createRange();
    range.selectNodeContents(code);
    const selection = getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    const text = code.textContent ?? '';
    if (navigator.clipboard && isSecureContext) void navigator.clipboard.writeText(text);
    else document.execCommand('copy');
  }

  override render() {
    const section = this.provider === 'microsoft' ? 'oauthMicrosoft' : 'oauthGoogle';
    // Saved settings make the outcome before moot (a refusal to register until they were saved):
    // the page checks the connection with them instead.
    return html`<rui-settings-form .section=${section} .spec=${SECTION_FORMS[section]} @rui-saved=${() => this.checkConnection()}></rui-settings-form>
      <h2>Information for Authorization</h2>
      ${formMessage(this.message?.ok && this.status.last?.tokenStatus !== this.messageStatus ? undefined : this.message, 'oauth-message')}
      ${this.status.view(
        (v) => this.renderStatus(v),
        html`<p>Reading the status…</p>`,
        (e) =>
          this.status.last
            ? html`<p class="msg error" role="alert" data-test="poll-error">The status could not be updated: ${e.message}</p>`
            : html`<p class="msg error" role="alert">${e.message}</p>`,
      )}`;
  }

  private renderStatus(v: OAuthStatusView): TemplateResult {
    const [text, tone] = TOKEN_STATUS[v.tokenStatus] ?? [v.tokenStatus, 'off'];
    const conn = v.serverConnection;
    const waiting = v.tokenStatus === 'waiting-for-user';
    // As PaperCut: no new authorization while one is working; the device refuses it too (409).
    const inUse = IN_USE.includes(v.tokenStatus);
    return html`<div class="panel">
        <div class="row">
          <span class="label">Token Status</span>
          <div class="cell" data-test="token-status" data-status=${v.tokenStatus} aria-live="polite">
            <span class=${`badge tone-${tone}`}>${text}</span>
            ${v.statusMessage && v.statusMessage !== text ? html`<span class="status-message">${withoutPrefix(v.statusMessage, text)}</span>` : nothing}
            ${v.code ? html`<div class="code">Code: <b class="mono" data-test="token-code">${v.code}</b></div>` : nothing}
            ${v.remedy ? html`<div class="remedy" data-test="token-remedy">What to do: ${v.remedy}</div>` : nothing}
          </div>
        </div>
        <div class="row">
          <span class="label">Server Connection Status</span>
          <div class="cell" data-test="server-connection" data-ok=${conn.ok ? 'true' : 'false'}>
            ${conn.ok
              ? html`<b class="good">✓ Successfully Connected</b>`
              : conn.checkedWallMs === undefined
                ? nothing
                : html`<b class="bad">✗ Connection Failed</b>`}
            ${conn.message ? html`<span class="status-message">${conn.message}</span>` : nothing}
            <button type="button" class="small" data-test="check-connection" ?disabled=${pending(this.act)} @click=${() => this.checkConnection()}>Check Connection</button>
          </div>
        </div>
        ${v.nextCheckInS !== undefined
          ? html`<div class="row">
              <span class="label">Next Token Check</span>
              <div class="cell" data-test="next-check" title="The device refreshes the token when a send needs it, and checks the grant by itself at least once a day.">In <span class="mono">${formatDuration(Math.max(0, Math.floor(this.left(v.nextCheckInS))))}</span></div>
            </div>`
          : nothing}
        ${v.mode ? row2('Sign-in Mode', html`<span data-test="oauth-mode">${v.mode}</span>`) : nothing}
        ${waiting && v.userCode ? this.renderDeviceCode(v) : nothing}
        ${waiting && v.authorizationUrl ? this.renderConsentLink(v.authorizationLink ?? v.authorizationUrl, v.authorizationLink !== undefined) : nothing}
      </div>
      ${v.skew
        ? html`<p class="warning" role="alert" data-test="clock-skew">
            ⚠ The device clock is ${formatDuration(v.skew.offsetS)} ${v.skew.direction === 'ahead' ? 'ahead of' : 'behind'} ${v.skew.source}. Tokens may be
            refused: correct the date and time (Date/Time page).
          </p>`
        : nothing}
      ${this.confirming
        ? confirmStrip({
            label: 'Deregister',
            test: 'confirm-deregister',
            text: 'Deregister? The device deletes its tokens and can no longer send e-mail with OAuth 2.0 until it is registered again.',
            yes: 'Yes, Deregister',
            busy: pending(this.act),
            onCancel: () => (this.confirming = false),
            onYes: () => this.deregister(),
          })
        : nothing}
      <div class="actions start">
        <button
          type="button"
          class=${inUse ? '' : 'primary'}
          ?disabled=${pending(this.act) || inUse}
          title=${inUse ? 'The tokens are in use: Deregister first, then Register.' : nothing}
          @click=${() => this.register()}
        >
          Register
        </button>
        ${HAS_GRANT.includes(v.tokenStatus)
          ? html`<button type="button" class="danger" ?disabled=${pending(this.act) || this.confirming} @click=${() => (this.confirming = true)}>Deregister</button>`
          : nothing}
      </div>
      ${waiting && v.authorizationUrl ? this.renderCodeForm() : nothing} ${v.appCertificate ? this.renderAppCertificate(v.appCertificate) : nothing}`;
  }

  private renderDeviceCode(v: OAuthStatusView): TemplateResult {
    return html`${v.userCode
        ? html`<div class="row">
            <span class="label">User Code</span>
            <div class="cell">
              <code class="user-code" data-test="user-code">${v.userCode}</code>
              <button type="button" class="small" @click=${this.copy}>Copy</button>
            </div>
          </div>`
        : nothing}
      ${v.message ? html`<div class="row"><span class="label">Message</span><div class="cell" data-test="device-code-message">${v.message}</div></div>` : nothing}
      ${v.verificationUri
        ? html`<div class="row">
            <span class="label">Verification Address</span>
            <div class="cell">
              <a href=${v.verificationLink ?? v.verificationUri} target="_blank" rel="noopener noreferrer" data-test="verification-uri">${v.verificationLink ?? v.verificationUri}</a>
              ${v.verificationLink ? html`<div class="hint">The simulator's copy of ${v.verificationUri}</div>` : nothing}
            </div>
          </div>`
        : nothing}
      ${v.userCodeExpiresInS !== undefined
        ? html`<div class="row">
            <span class="label">User Code Expires In</span>
            <div class="cell" data-test="code-countdown">
              ${this.left(v.userCodeExpiresInS) > 0
                ? html`User code expires in <span class="mono">${formatDuration(Math.floor(this.left(v.userCodeExpiresInS)))}</span>`
                : html`<span class="bad">The user code has expired: press Register for a new one.</span>`}
            </div>
          </div>`
        : nothing}`;
  }

  private renderConsentLink(url: string, simulated: boolean): TemplateResult {
    const google = this.provider === 'google';
    const who = google ? 'Google' : 'Microsoft';
    return html`<div class="row">
      <span class="label">URL for ${who} Authorization Server</span>
      <div class="cell">
        <a class="consent" href=${url} target="_blank" rel="noopener noreferrer" data-test="authorization-url">Open the ${who} ${google ? 'consent' : 'sign-in'} page</a>
        ${simulated ? html`<span class="hint">(the simulator's copy of ${google ? 'accounts.google.com' : 'login.microsoftonline.com'})</span>` : nothing}
        <div class="hint">
          After you allow access, the browser shows an error page for ${google ? '127.0.0.1' : 'localhost'}: copy the whole address (or the code=… part) and paste it below.
        </div>
      </div>
    </div>`;
  }

  private renderAppCertificate(c: AppCertificateView): TemplateResult {
    return html`<h2>Device Certificate for the App Registration</h2>
      <div class="panel" data-test="app-certificate">
        ${row2('Subject', c.subject)} ${row2('Thumbprint (SHA-1)', html`<span class="mono" data-test="app-thumbprint">${c.thumbprint}</span>`)}
        ${row2('SHA-256', html`<span class="mono small-text">${c.sha256}</span>`)}
        ${row2('Expires', html`${new Date(c.notAfterMs).toISOString().slice(0, 10)} ${c.expired ? html`<b class="bad">expired: make a new key pair</b>` : c.expiresInDays !== undefined ? html`<b class="bad">in ${c.expiresInDays} days</b>` : nothing}`)}
      </div>
      ${this.confirmingKey
        ? confirmStrip({
            label: 'New Key Pair',
            test: 'confirm-new-key',
            text: 'Make a new key pair? The certificate uploaded to the app registration stops working: sending fails until you upload the new one.',
            yes: 'Yes, New Key Pair',
            busy: pending(this.act),
            onCancel: () => (this.confirmingKey = false),
            onYes: () => this.newKey(),
          })
        : nothing}
      <div class="actions start">
        <a class="button" href="/api/oauth/microsoft/certificate" download data-test="download-app-certificate">Download Certificate (PEM)</a>
        <button type="button" class="danger" ?disabled=${pending(this.act) || this.confirmingKey} @click=${() => (this.confirmingKey = true)}>New Key Pair</button>
      </div>`;
  }

  private renderCodeForm(): TemplateResult {
    const a = invalid('pasted', this.pastedError);
    return html`<form @submit=${this.submitCode} novalidate data-test="google-code-form">
      <div class="panel">
        ${row(
          'pasted',
          'Authorization Code',
          html`<textarea
            id="pasted"
            name="pasted"
            rows="3"
            spellcheck="false"
            placeholder="http://127.0.0.1:8994/?state=…&code=…"
            .value=${this.pasted}
            aria-invalid=${a.invalid}
            aria-describedby=${a.describedBy}
            @input=${(e: InputEvent) => (this.pasted = (e.target as HTMLTextAreaElement).value)}
          ></textarea>`,
          this.pastedError,
          'The whole address from the browser, or only the part after code=.',
        )}
      </div>
      <div class="actions start"><button type="submit" class="primary" ?disabled=${pending(this.act)}>Submit Code</button></div>
    </form>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .badge {
        display: inline-block;
        padding: 1px 9px;
        border-radius: 9px;
        font-weight: 600;
        color: #fff;
        background: #7b838c;
        margin-right: 8px;
      }
      .badge.tone-ok {
        background: var(--ok);
      }
      .badge.tone-wait {
        background: var(--accent);
      }
      .badge.tone-bad {
        background: var(--error);
      }
      .good {
        color: var(--ok);
        margin-right: 8px;
      }
      .bad {
        color: var(--error);
        margin-right: 8px;
      }
      .code {
        margin-top: 3px;
        color: #3d4650;
      }
      .user-code {
        font: 600 24px/1.3 var(--mono);
        letter-spacing: 2px;
        padding: 2px 10px;
        margin-right: 10px;
        border: 1px dashed var(--note-line);
        background: var(--note-bg);
        user-select: all;
      }
      button.small {
        vertical-align: middle;
      }
      .consent {
        font-weight: 600;
      }
      .small-text {
        font-size: 11px;
        word-break: break-all;
      }
    `,
  ];
}

customElements.define('rui-oauth-page', OAuthPage);
