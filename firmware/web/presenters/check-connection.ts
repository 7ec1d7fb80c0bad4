/**
 * The Check Connection ladder as the E-mail page shows it: one line per rung, in an admin's words,
 * from how the check went (firmware/send/send-outcome.ts). A failed rung carries its device code
 * and remedy; the rungs after it were not reached.
 */
import { skewSentence } from '../../clock/server-time.ts';
import { describeProblem } from '../../pki/cert-problems.ts';
import type { ChainVerdict } from '../../pki/verify-chain.ts';
import { PROVIDER_NAMES } from '../../oauth/provider.ts';
import { CHECK_STEPS, CHECK_STEPS_GRAPH, CHECK_STEPS_OAUTH, failureWords, type GraphRungOutcome, UNVERIFIED_CERTIFICATE_RISK, type ConnectionCheck, type SmtpRung } from '../../send/send-outcome.ts';
import type { EmailSettings } from '../../settings/schemas.ts';
import type { CheckConnectionResult, CheckStepResult } from '../api-types.ts';

export function presentCheck(check: ConnectionCheck): CheckConnectionResult {
  if (check.graph) return presentGraphCheck(check, check.graph.rungs);
  const { settings, token, smtp } = check;
  const tokenStep: CheckStepResult | undefined = token
    ? token.failure
      ? { step: 'token', status: 'failed', ...failureWords(token.failure) }
      : { step: 'token', status: 'ok', message: `${PROVIDER_NAMES[token.provider]} issued a new access token: the refresh token works.` }
    : undefined;
  if (check.notStarted) {
    // The settings stopped the check before any connection: the failure is on the first rung.
    const rungs = tokenStep ? CHECK_STEPS_OAUTH : CHECK_STEPS;
    const steps = rungs.map((step, i): CheckStepResult => (i === 0 ? { step, status: 'failed', ...failureWords(check.notStarted!) } : { step, status: 'skipped', message: NOT_REACHED }));
    return { ok: false, steps, transcriptId: check.transcriptId };
  }
  const failedIndex = smtp?.failedRung ? CHECK_STEPS.indexOf(smtp.failedRung) : CHECK_STEPS.length;
  const tls = smtp?.result.ok ? smtp.result.tls : undefined;
  const verdict = smtp?.verdict;
  const steps = CHECK_STEPS.map((step, i): CheckStepResult => {
    if (i === failedIndex && smtp?.failure) return { step, status: 'failed', code: smtp.failure.code, message: smtp.failure.message, remedy: smtp.failure.remedy };
    if (i > failedIndex) return { step, status: 'skipped', message: NOT_REACHED };
    const noTls = settings.security === 'none' && (step === 'tls' || step === 'certificate');
    if (noTls) return { step, status: 'skipped', message: 'No encryption selected: mail and passwords are not protected.' };
    // With STARTTLS the greeting comes before TLS: a failure there means TLS was never reached.
    if ((step === 'tls' || step === 'certificate') && verdict === undefined) return { step, status: 'skipped', message: NOT_REACHED };
    if (step === 'auth' && settings.authMethod === 'none') return { step, status: 'skipped', message: 'No authentication selected.' };
    if (step === 'rcpt' && smtp?.result.ok && smtp.result.perRecipient.length === 0) return { step, status: 'skipped', message: 'No test recipient given.' };
    // Passed only because the admin turned verification off: a warning, not a tick.
    if (step === 'certificate' && !settings.verifyServerCertificate) return { step, status: 'warning', message: unverifiedMessage(verdict!) };
    return { step, status: 'ok', message: okMessage(step, settings, tls, verdict) };
  });
  // A cached access token may still have carried the SMTP rungs after a failed refresh: the check fails all the same.
  return {
    ok: smtp?.result.ok === true && tokenStep?.status !== 'failed',
    steps: tokenStep ? [tokenStep, ...steps] : steps,
    transcriptId: check.transcriptId,
    ...(check.clockSkew ? { clockWarning: skewSentence(check.clockSkew) } : {}),
  };
}

const NOT_REACHED = 'Not reached.';

/** Communication Type Microsoft Graph: the rungs as the transport found them, the ones after a failure not reached. */
function presentGraphCheck(check: ConnectionCheck, rungs: readonly GraphRungOutcome[]): CheckConnectionResult {
  const byStep = new Map(rungs.map((r) => [r.step, r]));
  const steps = CHECK_STEPS_GRAPH.map((step): CheckStepResult => {
    const r = byStep.get(step);
    if (!r) return { step, status: 'skipped', message: NOT_REACHED };
    if (r.failure) return { step, status: 'failed', ...failureWords(r.failure) };
    return { step, status: r.status, message: r.message };
  });
  return { ok: steps.every((s) => s.status === 'ok' || s.status === 'warning'), steps, transcriptId: check.transcriptId };
}

/** The certificate rung with Verify Server Certificate off: what verification would have said, and the risk. */
function unverifiedMessage(verdict: ChainVerdict): string {
  const found = verdict.trusted ? `this chain would pass: ${verdict.path.map((c) => c.subject).join(' ← ')}.` : `it would fail: ${verdict.problems.map(describeProblem).join(' ')}`;
  return `Not verified (Verify Server Certificate is off); ${found} ${UNVERIFIED_CERTIFICATE_RISK}`;
}

function okMessage(step: SmtpRung, settings: EmailSettings, tls: { version: string; cipher: string } | undefined, verdict: ChainVerdict | undefined): string {
  switch (step) {
    case 'dns':
      return `${settings.smtpHost} resolved.`;
    case 'tcp':
      return `Connected to port ${settings.smtpPort}.`;
    case 'tls':
      return tls ? `${tls.version}, ${tls.cipher}.` : 'TLS established.';
    case 'certificate':
      if (!verdict) return 'Checked.';
      return `Trusted: ${verdict.path.map((c) => c.subject).join(' ← ')}${settings.addCnToVerification ? `; the name ${settings.smtpHost} matches` : ' (name not checked)'}.`;
    case 'ehlo':
      return 'The server greeted the device.';
    case 'auth':
      return `Signed in as ${settings.userName}.`;
    case 'mail':
      return `Sender ${settings.fromAddress} accepted.`;
    case 'rcpt':
      return 'Recipient accepted.';
  }
}
