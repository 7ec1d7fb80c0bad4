/**
 * What a send and a "Check Connection" come to, as the send module's own values: the rungs of the
 * check ladder, one recipient's answer, a send's outcome with its device code. The web layer
 * presents them (firmware/web/presenters/); the job queue keeps them.
 */
import type { SkewView } from '../clock/server-time.ts';
import type { DeviceCode, DeviceError } from '../device-codes.ts';
import type { ChainVerdict } from '../pki/verify-chain.ts';
import type { EmailSettings } from '../settings/schemas.ts';
import type { SmtpResult } from '../smtp/result.ts';
import type { OAuthProvider } from '../oauth/provider.ts';

/** The rungs of the Check Connection ladder, in order. */
export const CHECK_STEPS = ['dns', 'tcp', 'tls', 'certificate', 'ehlo', 'auth', 'mail', 'rcpt'] as const;
/**
 * With OAuth 2.0 the ladder starts one rung earlier: a new access token from the identity server,
 * so that the check proves the refresh token works, not only that a cached access token is there.
 */
export const CHECK_STEPS_OAUTH = ['token', ...CHECK_STEPS] as const;
/**
 * With Microsoft Graph: the connection to Graph's host, then a token for Graph, then the mailbox
 * answers (its Drafts folder), then a draft can be created and deleted (what a large scan needs).
 */
export const CHECK_STEPS_GRAPH = ['dns', 'tcp', 'tls', 'certificate', 'token', 'mailbox', 'draft'] as const;
export type CheckStep = (typeof CHECK_STEPS_OAUTH)[number] | (typeof CHECK_STEPS_GRAPH)[number];
export type GraphRung = (typeof CHECK_STEPS_GRAPH)[number];
/** A rung of the SMTP part of the ladder (the token's comes before them). */
export type SmtpRung = (typeof CHECK_STEPS)[number];

/** A failure as the admin and the operator see it, with what the peer said when it helps. */
export interface SendFailure extends DeviceError {
  readonly detail?: string;
}

/** The failure as a result shows it: the peer's words, when there are any, after the admin's sentence. */
export function failureWords(e: SendFailure): Pick<SendFailure, 'code' | 'message' | 'remedy'> {
  return { code: e.code, message: e.detail ? `${e.message} (${e.detail})` : e.message, remedy: e.remedy };
}

export interface RecipientOutcome {
  readonly address: string;
  readonly accepted: boolean;
  /** The server's reply to RCPT TO, e.g. `550 5.1.1 User unknown`. */
  readonly reply: string;
}

/** A send's outcome: delivered (perhaps not to every recipient) or failed with a device code. */
export interface SendOutcome {
  /** True when the server took the message for at least one recipient (see `recipients`). */
  readonly ok: boolean;
  readonly code?: DeviceCode;
  readonly message: string;
  readonly remedy?: string;
  readonly transcriptId: string;
  readonly messageId?: string;
  /** One result per recipient, when the session got that far. */
  readonly recipients?: readonly RecipientOutcome[];
  /** The device clock disagrees with the time in the server's greeting beyond tolerance. */
  readonly clockWarning?: string;
  /** The server's certificate was accepted without verification (Verify Server Certificate is off). */
  readonly certificateWarning?: string;
}

/** What Verify Server Certificate off means, where the device says so (test results, the ladder, the portal). */
export const UNVERIFIED_CERTIFICATE_RISK = 'With Verify Server Certificate off the device accepts any certificate, so it cannot tell the mail server from an impostor on the network path.';

/**
 * The warning for a send or check whose server certificate the device did not verify, or
 * undefined when it did (or there was no TLS). `problems`: what verification would have found.
 */
export function unverifiedCertificateWarning(settings: EmailSettings, problems: readonly string[] | undefined): string | undefined {
  if (settings.verifyServerCertificate || settings.security === 'none' || problems === undefined) return undefined;
  const found = problems.length > 0 ? ` Verification would have failed: ${problems.join(' ')}` : '';
  return `The server certificate was NOT verified.${found} ${UNVERIFIED_CERTIFICATE_RISK}`;
}

/**
 * A Check Connection as it went: the token rung (with OAuth), then either the settings that stopped
 * it before any connection or the SMTP session's result, the rung it failed on and the trust
 * verdict on the server's certificate.
 */
export interface ConnectionCheck {
  readonly settings: EmailSettings;
  readonly token?: { readonly provider: OAuthProvider; readonly failure?: SendFailure };
  readonly notStarted?: SendFailure;
  readonly smtp?: {
    readonly result: SmtpResult;
    readonly failure?: SendFailure;
    readonly failedRung?: SmtpRung;
    readonly verdict?: ChainVerdict;
  };
  /** Communication Type Microsoft Graph: every rung as it went (the SMTP fields are then absent). */
  readonly graph?: { readonly rungs: readonly GraphRungOutcome[] };
  readonly transcriptId: string;
  readonly clockSkew?: SkewView;
}

/** One rung of the Graph ladder. */
export interface GraphRungOutcome {
  readonly step: GraphRung;
  readonly status: 'ok' | 'warning' | 'failed' | 'skipped';
  readonly message: string;
  readonly failure?: SendFailure;
}
