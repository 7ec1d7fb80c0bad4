/**
 * The emulated Google sign-in pages of the loopback flow: the account page (email; Allow /
 * Cancel), and for an account with a password the password page and then the consent page
 * (Cancel / Allow); plus Google's error page for requests it will not redirect (B.3). Every form
 * posts to `auth` (relative: the same pages work on accounts.google.com and on the simulator's
 * mirror) and says its step in a hidden field. The wording follows Google's pages; no script.
 */
import { GMAIL_SMTP_SCOPE } from './cloud-defaults.ts';
import { escapeHtml, providerPage } from './html-page.ts';

function page(title: string, body: string): string {
  return providerPage('Google', title, body);
}

function alert(error: string | undefined): string {
  return error ? `<p role="alert">${escapeHtml(error)}</p>` : '';
}

function scopeList(scopes: readonly string[]): string {
  const items = scopes.map((s) => `<li>${escapeHtml(s === GMAIL_SMTP_SCOPE ? 'Read, compose, send, and permanently delete all your email from Gmail' : s)}</li>`).join('');
  return `<ul>${items}</ul>`;
}

function sessionField(sessionId: string, step?: 'password' | 'consent'): string {
  const stepField = step ? `\n<input type="hidden" name="step" value="${step}">` : '';
  return `<input type="hidden" name="session" value="${escapeHtml(sessionId)}">${stepField}`;
}

/** Google's own error page (B.3: these errors are shown, not redirected). */
export function errorPageHtml(status: number, error: string, detail: string): string {
  return page('Access blocked: authorization error', `<p>Error ${status}: ${escapeHtml(error)}</p><p>${escapeHtml(detail)}</p>`);
}

export function accountPage(sessionId: string, scopes: readonly string[], account: string, error?: string): string {
  return page(
    'Sign in with Google',
    `<p>The app wants access to your Google Account:</p>
${scopeList(scopes)}
${alert(error)}
<form method="post" action="auth">
${sessionField(sessionId)}
<label for="account">Email</label> <input id="account" name="account" type="email" value="${escapeHtml(account)}" autocomplete="username">
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
  );
}

export function passwordPage(sessionId: string, account: string, error?: string): string {
  return page(
    'Welcome',
    `<p class="account">${escapeHtml(account)}</p>
${alert(error)}
<form method="post" action="auth">
${sessionField(sessionId, 'password')}
<label for="password">Enter your password</label> <input id="password" name="password" type="password" autocomplete="current-password" autofocus>
<button type="submit">Next</button>
</form>`,
  );
}

export function consentPage(sessionId: string, appName: string, account: string, scopes: readonly string[]): string {
  return page(
    `${appName} wants access to your Google Account`,
    `<p class="account">${escapeHtml(account)}</p>
<p>This will allow ${escapeHtml(appName)} to:</p>
${scopeList(scopes)}
<p>Make sure you trust ${escapeHtml(appName)}. You may be sharing sensitive info with this site or app.</p>
<form method="post" action="auth">
${sessionField(sessionId, 'consent')}
<button type="submit" name="action" value="cancel">Cancel</button>
<button type="submit" name="action" value="allow">Allow</button>
</form>`,
  );
}
