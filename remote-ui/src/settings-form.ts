/**
 * One settings section as a form: `GET /api/settings/<section>`, edit, validate with the
 * section's own schema (the one the server uses), `PUT` the whole section. Secret fields are
 * never shown: the page says whether one is stored, and a typed value is the only way one is sent.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { SECTIONS, type SectionName } from '../../firmware/settings/schemas.ts';
import type { SettingsView } from '../../firmware/web/api-types.ts';
import type * as z from 'zod/mini';
import { request } from './api.ts';
import { checkbox, errorsFrom, formMessage, input, row, select, unplacedErrors, validate, type FieldErrors } from './form-fields.ts';
import { LoadController } from './load-controller.ts';
import type { FieldSpec, SectionForm } from './section-forms.ts';
import { sharedStyles } from './shared-styles.ts';

export class SettingsForm extends LitElement {
  static override properties = {
    section: { attribute: false },
    spec: { attribute: false },
    embedded: { type: Boolean },
    errors: { state: true },
    message: { state: true },
    busy: { state: true },
  };

  declare section: SectionName;
  declare spec: SectionForm;
  /** Part of a larger page: the title is a sub-heading. */
  declare embedded: boolean;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  declare busy: boolean;
  private readonly view = new LoadController(this, () => request<SettingsView>('GET', `/api/settings/${this.section}`));

  constructor() {
    super();
    this.embedded = false;
    this.errors = {};
    this.busy = false;
  }

  /** The form's values as the section's types, plus the secrets to send (only those typed or cleared). */
  private collect(form: HTMLFormElement, stored: Record<string, unknown>): { value: Record<string, unknown>; omit: string[] } {
    const data = new FormData(form);
    const text = (key: string) => String(data.get(key) ?? '');
    const value: Record<string, unknown> = { ...stored };
    const omit: string[] = [];
    for (const f of this.spec.fields) {
      if (f.kind === 'check') value[f.key] = data.has(f.key);
      else if (f.kind === 'number') value[f.key] = text(f.key).trim() === '' ? Number.NaN : Number(text(f.key));
      else if (f.kind === 'secret') {
        const clear = data.has(`${f.key}-clear`);
        value[f.key] = clear ? '' : text(f.key);
        if (!clear && text(f.key) === '') omit.push(f.key);
      } else value[f.key] = text(f.key);
    }
    return { value, omit };
  }

  private async onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const stored = this.view.value?.values;
    if (!stored) return;
    const form = event.target as HTMLFormElement;
    const { value, omit } = this.collect(form, stored);
    const checked = validate(SECTIONS[this.section].schema as z.ZodMiniType<unknown>, value);
    this.message = undefined;
    this.errors = checked.errors ?? {};
    if (checked.errors) return this.explain(checked.errors, 'Some settings are not valid. Correct the marked fields.');
    const body: Record<string, unknown> = { ...(checked.data as Record<string, unknown>) };
    for (const key of omit) delete body[key];
    this.busy = true;
    const result = await request<SettingsView>('PUT', `/api/settings/${this.section}`, body);
    this.busy = false;
    if (!result.ok) {
      this.errors = errorsFrom(result.error);
      return this.explain(this.errors, result.error.message);
    }
    this.view.value = result.data;
    for (const f of this.spec.fields) {
      if (f.kind !== 'secret') continue;
      (form.elements.namedItem(f.key) as HTMLInputElement).value = '';
      const clear = form.elements.namedItem(`${f.key}-clear`) as HTMLInputElement | null;
      if (clear) clear.checked = false;
    }
    this.message = { ok: true, text: 'The settings were saved.' };
    this.dispatchEvent(new CustomEvent('rui-saved', { detail: this.section, bubbles: true, composed: true }));
  }

  private explain(errors: FieldErrors, text: string): void {
    const extra = unplacedErrors(errors, this.spec.fields.map((f) => f.key));
    this.message = { ok: false, text: [text, ...extra].join(' ') };
  }

  override render() {
    const heading = this.embedded ? html`<h2>${this.spec.title}</h2>` : html`<h1>${this.spec.title}</h1>`;
    const view = this.view.value;
    return html`${heading}
      ${this.spec.note ? html`<p class="note" role="note" data-test="page-note">${this.spec.note}</p>` : nothing}
      ${formMessage(this.message)}
      ${this.view.error && !view ? html`<p class="msg error" role="alert">${this.view.error.message}</p>` : nothing}
      ${view
        ? html`<form @submit=${this.onSubmit} novalidate data-test=${`settings-${this.section}`}>
            <div class="panel">${this.spec.fields.map((f) => this.renderField(f, view))}</div>
            <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>Save</button></div>
          </form>`
        : this.view.error ? nothing : html`<p>Reading the settings…</p>`}`;
  }

  private renderField(f: FieldSpec, view: SettingsView): TemplateResult {
    const error = this.errors[f.key];
    const v = view.values[f.key];
    switch (f.kind) {
      case 'text':
        return row(f.key, f.label, input(f.key, String(v ?? ''), error), error, f.hint);
      case 'number':
        return row(f.key, f.label, html`${input(f.key, String(v ?? ''), error, { type: 'number', min: f.min, max: f.max, step: 1 })} ${f.unit ?? ''}`, error, f.hint);
      case 'select':
        return row(f.key, f.label, select(f.key, String(v ?? ''), typeof f.options === 'function' ? f.options(String(v ?? '')) : f.options, error), error, f.hint);
      case 'check':
        return row(f.key, f.label, checkbox(f.key, v === true), error, f.hint);
      case 'secret': {
        const set = view.secretsSet[f.key] === true;
        const control = html`${input(f.key, '', error, { type: 'password', autocomplete: 'new-password', placeholder: set ? 'Unchanged' : '' })}
          <span class="secret-state" data-test=${`secret-${f.key}`}>Stored: <b>${set ? 'Set' : 'Not set'}</b></span>
          ${set
            ? html`<label class="inline"><input type="checkbox" name=${`${f.key}-clear`} /> Delete the stored ${f.label.toLowerCase()}</label>`
            : nothing}`;
        return row(f.key, f.label, control, error, f.hint ?? 'Typed only to change it; the stored value is never shown.');
      }
    }
  }

  static override styles = [
    sharedStyles,
    css`
      .secret-state {
        margin-left: 10px;
      }
      .inline {
        display: block;
        margin-top: 4px;
      }
    `,
  ];
}

customElements.define('rui-settings-form', SettingsForm);
