/**
 * Where a power cut can land in a send job, and what docs/send-jobs.md promises after the next
 * power-on: sent again, flagged a possible duplicate only once the record says the final "." is
 * on its way, and delivered twice only when the "." reached the server and the reply was lost.
 * Shared by the printer's own fault tests and the whole-simulator Power Off tests.
 */
export const POWER_CUT_JOB_CASES = [
  { at: 'job:queued', flagged: false, copies: 1 },
  { at: 'job:connecting', flagged: false, copies: 1 },
  { at: 'smtp:ehlo', flagged: false, copies: 1 },
  { at: 'smtp:starttls', flagged: false, copies: 1 },
  { at: 'smtp:auth', flagged: false, copies: 1 },
  { at: 'smtp:mail', flagged: false, copies: 1 },
  { at: 'smtp:rcpt', flagged: false, copies: 1 },
  { at: 'smtp:data', flagged: false, copies: 1 },
  { at: 'job:sending', flagged: false, copies: 1 },
  // The record says the "." comes next, but it never went: flagged, delivered once.
  { at: 'job:finishing', flagged: true, copies: 1 },
  // The "." reached the server, the reply was lost with the power: flagged, delivered twice.
  { at: 'job:after-final-dot', flagged: true, copies: 2 },
] as const;
