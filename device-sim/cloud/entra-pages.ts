/**
 * The emulated Microsoft device-login page, step by step: enter the code, sign in (the account
 * name), enter the password, accept the permissions, done. Every form posts to `device` (relative,
 * so the same pages work on login.microsoftonline.com and on the simulator's mirror of it) and
 * says its step in a hidden field; the sign-in flow's own token rides along from the password
 * step on. The wording follows Microsoft's pages; no script, no images.
 *
 * The authorization-code flow's pages (`/{tenant}/oauth2/v2.0/authorize`) are the same steps
 * posting to `authorize` (relative again) with their sign-in's flow id, and an error page for what
 * Entra shows instead of redirecting (AADSTS50011 and the like).
 */
import { escapeHtml, providerPage } from './html-page.ts';

/** What the consent step says each scope lets the app do. */
const SCOPE_WORDS: Readonly<Record<string, string>> = {
  'https://outlook.office.com/smtp.send': 'Send emails from mailboxes using SMTP AUTH',
  'https://outlook.office365.us/smtp.send': 'Send emails from mailboxes using SMTP AUTH',
  'https://graph.microsoft.com/mail.send': 'Send mail as you',
  'mail.send': 'Send mail as you',
  'https://graph.microsoft.com/mail.readwrite': 'Read and write access to your mail',
  'mail.readwrite': 'Read and write access to your mail',
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

/** Where a step's form posts and the hidden fields that carry its context (but `step`). */
export interface FormTarget {
  readonly action: 'device' | 'authorize';
  readonly fields: Readonly<Record<string, string>>;
}

const deviceTarget = (fields: Readonly<Record<string, string>>): FormTarget => ({ action: 'device', fields });

export function signInPage(userCode: string, scopes: readonly string[], error?: string, login = ''): string {
  return signInForm(deviceTarget({ otc: userCode }), `You're signing in to an application on another device. It asks for: ${scopes.join(' ')}`, error, login);
}

/** The authorization-code flow's sign-in step. */
export function authorizeSignInPage(flow: string, appName: string, scopes: readonly string[], error?: string, login = ''): string {
  return signInForm({ action: 'authorize', fields: { flow } }, `to continue to ${appName}. It asks for: ${scopes.join(' ')}`, error, login);
}

function signInForm(target: FormTarget, intro: string, error: string | undefined, login: string): string {
  return page(
    'Sign in',
    `<p>${escapeHtml(intro)}</p>
${alert(error)}
<form method="post" action="${target.action}">
${hidden({ step: 'signin', ...target.fields })}
<label for="login">Email, phone, or Skype</label> <input id="login" name="login" type="email" value="${escapeHtml(login)}" autocomplete="username">
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
</form>`,
  );
}

export function passwordPage(userCode: string, flow: string, login: string, error?: string): string {
  return passwordForm(deviceTarget({ otc: userCode, flow }), login, error);
}

export function authorizePasswordPage(flow: string, login: string, error?: string): string {
  return passwordForm({ action: 'authorize', fields: { flow } }, login, error);
}

function passwordForm(target: FormTarget, login: string, error: string | undefined): string {
  return page(
    'Enter password',
    `<p class="account">${escapeHtml(login)}</p>
${alert(error)}
<form method="post" action="${target.action}">
${hidden({ step: 'password', ...target.fields })}
<label for="passwd">Password</label> <input id="passwd" name="passwd" type="password" autocomplete="current-password" autofocus>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage(userCode: string, flow: string, login: string, appName: string, scopes: readonly string[]): string {
  const warning = `<p>Are you trying to sign in to ${escapeHtml(appName)} on another device? Only accept if you started the sign-in on a device you trust.</p>`;
  return consentForm(deviceTarget({ otc: userCode, flow }), login, appName, scopes, warning);
}

export function authorizeConsentPage(flow: string, login: string, appName: string, scopes: readonly string[]): string {
  return consentForm({ action: 'authorize', fields: { flow } }, login, appName, scopes, '');
}

function consentForm(target: FormTarget, login: string, appName: string, scopes: readonly string[], warning: string): string {
  const items = scopes.map((s) => `<li>${escapeHtml(SCOPE_WORDS[s.toLowerCase()] ?? s)}</li>`).join('');
  return page(
    'Permissions requested',
    `<p class="account">${escapeHtml(login)}</p>
<p><strong>${escapeHtml(appName)}</strong> (unverified) would like to:</p>
<ul>${items}</ul>
${warning}
<form method="post" action="${target.action}">
${hidden({ step: 'consent', ...target.fields })}
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>`,
  );
}

/**
 * After a sign-in that a Conditional Access policy does not let through (graph-exchange.md F);
 * `flow`: the policy blocks the authentication flow (device code), as the page then says.
 */
export function blockedPage(login: string, errorCode: number, flow = false): string {
  const restricted = flow ? 'browser, app, location, or an authentication flow' : 'browser, app, or location';
  return page(
    "You don't have access to this",
    `<p class="account">${escapeHtml(login)}</p>
<p>Your sign-in was successful but does not meet the criteria to access this resource. For example, you might be signing in from a ${restricted} that is restricted by your admin.</p>
<p>Error Code: ${errorCode}</p>`,
  );
}

export function donePage(text: string): string {
  return page('Done', `<p>${escapeHtml(text)}</p>`);
}

/** What the authorize endpoint shows instead of redirecting (an unknown app, a redirect URI not registered). */
export function authorizeErrorPage(code: number, text: string): string {
  return page("Sorry, but we're having trouble signing you in.", `<p role="alert">AADSTS${code}: ${escapeHtml(text)}</p>`);
}

/** response_mode=form_post: the browser posts the answer to the redirect URI (a button: no script here). */
export function formPostPage(redirectUri: string, params: Readonly<Record<string, string>>): string {
  return page(
    'Continue',
    `<form method="post" action="${escapeHtml(redirectUri)}">
${hidden(params)}
<button type="submit">Continue</button>
</form>`,
  );
}
