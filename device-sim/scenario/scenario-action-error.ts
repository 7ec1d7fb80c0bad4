/**
 * A scenario action the world refused: an API answered with a refusal (a settings section the
 * device would not take, a scan it turned down), a lever said no, or the printer could not be
 * reached. It carries what the refusal said, in the API's own fields, so a scenario report shows
 * exactly what the tester would have seen.
 */
export interface ActionRefusal {
  /** What was attempted, e.g. `PUT /api/settings/email on device 2`, `lever net.fault`. */
  readonly action: string;
  readonly device?: number;
  /** The HTTP status (0 when nothing answered). */
  readonly status: number;
  /** The API's `error` (`invalid`, `not-found`, `powered-off`, `unreachable`, …). */
  readonly error: string;
  readonly message: string;
  /** The API's `fields`: which argument, and what is wrong with it. */
  readonly fields?: readonly { readonly path: string; readonly message: string }[];
}

export class ScenarioActionError extends Error implements ActionRefusal {
  override readonly name = 'ScenarioActionError';
  readonly action: string;
  readonly device?: number;
  readonly status: number;
  readonly error: string;
  readonly fields?: readonly { readonly path: string; readonly message: string }[];

  constructor(refusal: ActionRefusal) {
    const fields = refusal.fields?.length ? ` (${refusal.fields.map((f) => `${f.path}: ${f.message}`).join('; ')})` : '';
    super(`${refusal.action}: ${refusal.status ? `${refusal.status} ` : ''}${refusal.error}: ${refusal.message}${fields}`);
    this.action = refusal.action;
    if (refusal.device !== undefined) this.device = refusal.device;
    this.status = refusal.status;
    this.error = refusal.error;
    if (refusal.fields !== undefined) this.fields = refusal.fields;
  }
}
