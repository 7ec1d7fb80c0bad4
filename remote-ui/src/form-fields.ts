/**
 * Form plumbing shared by every page: validation with the server's own zod/mini schemas, the
 * server's 400 `fields` mapped back onto inputs, and labelled rows (`<label for>`) with the error
 * under the field.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type * as z from 'zod/mini';
import type { ApiError } from '../../firmware/web/api-types.ts';

/** Error text per dotted field path (the same paths the server puts in `fields[].path`). */
export type FieldErrors = Readonly<Record<string, string>>;

export type Checked<T> = { readonly data: T; readonly errors?: undefined } | { readonly data?: undefined; readonly errors: FieldErrors };

export function validate<T>(schema: z.ZodMiniType<T>, value: unknown): Checked<T> {
  const result = schema.safeParse(value);
  if (result.success) return { data: result.data };
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const path = issue.path.map(String).join('.') || '(body)';
    errors[path] ??= describeIssue(issue);
  }
  return { errors };
}

/** zod/mini carries no locale: give the built-in issues (the schemas' own messages win) a sentence. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  if (issue.code === 'invalid_type') return issue.expected === 'number' || issue.expected === 'int' ? 'Enter a whole number.' : 'Required.';
  if (issue.code === 'invalid_value') return 'Choose one of the options.';
  return 'Not valid.';
}

/** A failed request as the form shows it: field errors where the server named fields, else the message. */
export function errorsFrom(error: ApiError): FieldErrors {
  const errors: Record<string, string> = {};
  for (const field of error.fields ?? []) errors[field.path] ??= field.message;
  return errors;
}

/** Errors whose path is not one of `shown`: they go into the form's top message. */
export function unplacedErrors(errors: FieldErrors, shown: readonly string[]): string[] {
  return Object.entries(errors)
    .filter(([path]) => !shown.includes(path))
    .map(([path, message]) => (path === '(body)' ? message : `${path}: ${message}`));
}

/** One labelled row: label left, control and its error right (Canon's settings table). */
export function row(id: string, label: string, control: TemplateResult, error?: string, hint?: unknown): TemplateResult {
  return html`<div class="row">
    <label for=${id}>${label}</label>
    <div class="cell">
      ${control}
      ${hint ? html`<div class="hint">${hint}</div>` : nothing}
      ${error ? html`<div class="field-error" id=${`${id}-error`} data-test=${`error-${id}`}>${error}</div>` : nothing}
    </div>
  </div>`;
}

/** Attributes that tie a control to its error text. */
export function invalid(id: string, error: string | undefined) {
  return { invalid: error ? 'true' : 'false', describedBy: error ? `${id}-error` : nothing };
}

export interface InputOptions {
  readonly type?: 'text' | 'email' | 'password' | 'number' | 'datetime-local';
  readonly autocomplete?: string;
  readonly placeholder?: string;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  readonly size?: number;
}

export function input(id: string, value: string, error: string | undefined, o: InputOptions = {}): TemplateResult {
  const a = invalid(id, error);
  return html`<input
    id=${id}
    name=${id}
    type=${o.type ?? 'text'}
    .value=${value}
    autocomplete=${o.autocomplete ?? 'off'}
    placeholder=${o.placeholder ?? nothing}
    min=${o.min ?? nothing}
    max=${o.max ?? nothing}
    step=${o.step ?? nothing}
    size=${o.size ?? nothing}
    aria-invalid=${a.invalid}
    aria-describedby=${a.describedBy}
  />`;
}

export function select(id: string, value: string, options: readonly (readonly [string, string])[], error?: string): TemplateResult {
  const a = invalid(id, error);
  return html`<select id=${id} name=${id} aria-invalid=${a.invalid} aria-describedby=${a.describedBy}>
    ${options.map(([v, text]) => html`<option value=${v} ?selected=${v === value}>${text}</option>`)}
  </select>`;
}

export function checkbox(id: string, checked: boolean): TemplateResult {
  return html`<input id=${id} name=${id} type="checkbox" .checked=${checked} />`;
}

/** An "are you sure?" strip: the question, Cancel, and the answer that does it (off while `busy`). */
export function confirmStrip(o: {
  readonly label: string;
  readonly test: string;
  readonly text: unknown;
  readonly yes: string;
  readonly busy: boolean;
  readonly onCancel: () => void;
  readonly onYes: () => void;
}): TemplateResult {
  return html`<div class="warning confirm" role="alertdialog" aria-label=${o.label} data-test=${o.test}>
    <span>${o.text}</span>
    <span class="buttons">
      <button type="button" @click=${o.onCancel}>Cancel</button>
      <button type="button" class="danger" ?disabled=${o.busy} @click=${o.onYes}>${o.yes}</button>
    </span>
  </div>`;
}

/** The form's top line: a failure (role=alert) or a confirmation (role=status). */
export function formMessage(message: { readonly ok: boolean; readonly text: string } | undefined, test = 'form-message'): TemplateResult | typeof nothing {
  if (!message) return nothing;
  return message.ok
    ? html`<p class="msg ok" role="status" data-test=${test}>${message.text}</p>`
    : html`<p class="msg error" role="alert" data-test=${test}>${message.text}</p>`;
}
