/**
 * The emulated Microsoft device-login page, step by step: enter the code, sign in (the account
 * name), enter the password, accept the permissions, done. Every form posts to `device` (relative,
 * so the same pages work on login.microsoftonline.com and on the simulator's mirror of it) and
 * says its step in a hidden field; the sign-in flow's own token rides along from the password
 * step on. The wording follows Microsoft's pages; no script, no images.
 */
import { escapeHtml, providerPage } from './html-page.ts';

/** What the consent step says each scope lets the app do. */
const SCOPE_WORDS: Readonly<Record<string, string>> = {
  'https://outlook.office.com/smtp.send': 'Send emails from mailboxes using SMTP AUTH',
  'https://outlook.office365.us/smtp.send': 'Send emails from mailboxes using SMTP AUTH',
  offline_access: 'Maintain access to data you have given it access to',
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
};

/** Where the page says the code is not (or no longer) usable. */
export const CODE_UNUSABLE = 'This code has expired or was already used. Start again on your device.';

function page(title: string, body: string): string {
  return providerPage('Microsoft', title, body);
}

function alert(error: string | undefined): string {
  return error ? `<p role="alert">${escapeHtml(error)}</p>` : '';
}

/** The hidden fields that carry a step's context. */
function hidden(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
}

export function enterCodePage(error?: string): string {
  return page(
    'Enter code',
    `<p>Enter the code displayed on your app or device.</p>
${alert(error)}
<form method="post" action="device">
<label for="otc">Code</label> <input id="otc" name="otc" autocomplete="off" maxlength="16" required autofocus>
<button type="submit">Next</button>
</form>`,
  );
}

export function signInPage(userCode: string, scopes: readonly string[], error?: string, login = ''): string {
  return page(
    'Sign in',
    `<p>You're signing in to an application on another device. It asks for: ${escapeHtml(scopes.join(' '))}</p>
${alert(error)}
<form method="post" action="device">
${hidden({ step: 'signin', otc: userCode })}
<label for="login">Email, phone, or Skype</label> <input id="login" name="login" type="email" value="${escapeHtml(login)}" autocomplete="username">
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
  );
}

export function passwordPage(userCode: string, flow: string, login: string, error?: string): string {
  return page(
    'Enter password',
    `<p class="account">${escapeHtml(login)}</p>
${alert(error)}
<form method="post" action="device">
${hidden({ step: 'password', otc: userCode, flow })}
<label for="passwd">Password</label> <input id="passwd" name="passwd" type="password" autocomplete="current-password" autofocus>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage(userCode: string, flow: string, login: string, appName: string, scopes: readonly string[]): string {
  const items = scopes.map((s) => `<li>${escapeHtml(SCOPE_WORDS[s.toLowerCase()] ?? s)}</li>`).join('');
  return page(
    'Permissions requested',
    `<p class="account">${escapeHtml(login)}</p>
<p><strong>${escapeHtml(appName)}</strong> (unverified) would like to:</p>
<ul>${items}</ul>
<p>Are you trying to sign in to ${escapeHtml(appName)} on another device? Only accept if you started the sign-in on a device you trust.</p>
<form method="post" action="device">
${hidden({ step: 'consent', otc: userCode, flow })}
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>`,
  );
}

/** After a sign-in that a Conditional Access policy does not let through (graph-exchange.md F). */
export function blockedPage(login: string, errorCode: number): string {
  return page(
    "You don't have access to this",
    `<p class="account">${escapeHtml(login)}</p>
<p>Your sign-in was successful but does not meet the criteria to access this resource. For example, you might be signing in from a browser, app, or location that is restricted by your admin.</p>
<p>Error Code: ${errorCode}</p>`,
  );
}

export function donePage(text: string): string {
  return page('Done', `<p>${escapeHtml(text)}</p>`);
}
