/**
 * One settings section as a form: `GET /api/settings/<section>`, edit, validate with the
 * section's own schema (the one the server uses), `PUT` the whole section. Secret fields are
 * never shown: the page says whether one is stored, and a typed value is the only way one is sent.
 * A page that acts on the unsaved values (the e-mail page's Check Connection) reads them through
 * `readSettings()`, checked the same way Save checks them.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { SECTION_SCHEMAS, type SectionName } from '../../firmware/settings/schemas.ts';
import type { FormField, SettingsView } from '../../firmware/web/api-types.ts';
import type * as z from 'zod/mini';
import { api } from './api.ts';
import { checkbox, errorsFrom, formMessage, input, row, select, unplacedErrors, validate, type FieldErrors } from './form-fields.ts';
import { action, ApiTask, pending } from './kit/api-task.ts';
import { timeZoneOptions, type SectionForm } from './section-forms.ts';
import { sharedStyles } from './shared-styles.ts';

export class SettingsForm extends LitElement {
  static override properties = {
    section: { attribute: false },
    spec: { attribute: false },
    embedded: { type: Boolean },
    errors: { state: true },
    message: { state: true },
    draft: { state: true },
  };

  declare section: SectionName;
  /** The page's advice rules (the labels and hints come with the section from the device). */
  declare spec: SectionForm;
  /** Part of a larger page: the title is a sub-heading. */
  declare embedded: boolean;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  /** The form's values as edited so far (for field advice); undefined until the first edit. */
  declare draft: Record<string, unknown> | undefined;
  private readonly view = new ApiTask(this, ([section], call) => api('GET /api/settings/:section', { ...call, params: { section } }), { args: () => [this.section] as const });
  private readonly save = action(this, async (body: Record<string, unknown>, form: HTMLFormElement) => {
    const result = await api('PUT /api/settings/:section', { params: { section: this.section }, body });
    if (!result.ok) {
      this.errors = errorsFrom(result.error);
      return this.explain(this.errors, result.error.message);
    }
    void this.view.set(result.data);
    this.clearSecrets(form);
    this.message = { ok: true, text: 'The settings were saved.' };
    this.dispatchEvent(new CustomEvent('rui-saved', { detail: this.section, bubbles: true, composed: true }));
  });

  constructor() {
    super();
    this.embedded = false;
    this.errors = {};
  }

  /** The fields the device's form of the section lists. */
  private get fields(): readonly FormField[] {
    return this.view.last?.form.fields ?? [];
  }

  /** The form's values as the section's types, plus the secrets to send (only those typed or cleared). */
  private collect(form: HTMLFormElement, stored: Record<string, unknown>): { value: Record<string, unknown>; omit: string[] } {
    const data = new FormData(form);
    const text = (key: string) => String(data.get(key) ?? '');
    const value: Record<string, unknown> = { ...stored };
    const omit: string[] = [];
    for (const f of this.fields) {
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

  private get formElement(): HTMLFormElement | null {
    return this.renderRoot.querySelector('form');
  }

  /**
   * The form's values as the section's request body (secrets only when typed or cleared), or
   * undefined after marking what is not valid. For pages that act on unsaved settings.
   */
  readSettings(): Record<string, unknown> | undefined {
    const stored = this.view.last?.values;
    const form = this.formElement;
    if (!stored || !form) return undefined;
    const { value, omit } = this.collect(form, stored);
    const checked = validate(SECTION_SCHEMAS[this.section] as z.ZodMiniType<unknown>, value);
    this.message = undefined;
    this.errors = checked.errors ?? {};
    if (checked.errors) {
      this.explain(checked.errors, 'Some settings are not valid. Correct the marked fields.');
      return undefined;
    }
    const body: Record<string, unknown> = { ...(checked.data as Record<string, unknown>) };
    for (const key of omit) delete body[key];
    return body;
  }

  /** Someone else stored the settings (validate-and-save): read them again and forget typed secrets. */
  async reloadSaved(): Promise<void> {
    await this.view.refresh();
    this.draft = undefined;
    const form = this.formElement;
    if (form) this.clearSecrets(form);
  }

  private async onSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const body = this.readSettings();
    if (body) await this.save.run([body, form]);
  }

  private clearSecrets(form: HTMLFormElement): void {
    for (const f of this.fields) {
      if (f.kind !== 'secret') continue;
      (form.elements.namedItem(f.key) as HTMLInputElement).value = '';
      const clear = form.elements.namedItem(`${f.key}-clear`) as HTMLInputElement | null;
      if (clear) clear.checked = false;
    }
  }

  private onEdit(event: Event): void {
    const stored = this.view.last?.values;
    if (stored) this.draft = this.collect(event.currentTarget as HTMLFormElement, stored).value;
  }

  private explain(errors: FieldErrors, text: string): void {
    const extra = unplacedErrors(errors, this.fields.map((f) => f.key));
    this.message = { ok: false, text: [text, ...extra].join(' ') };
  }

  override render() {
    const form = this.view.last?.form;
    const heading = form ? (this.embedded ? html`<h2>${form.title}</h2>` : html`<h1>${form.title}</h1>`) : nothing;
    return html`${heading}
      ${form?.note ? html`<p class="note" role="note" data-test="page-note">${form.note}</p>` : nothing}
      ${formMessage(this.message)}
      ${this.view.view(
        (view) => html`<form @submit=${this.onSubmit} @input=${this.onEdit} @change=${this.onEdit} novalidate data-test=${`settings-${this.section}`}>
          <div class="panel">${view.form.fields.map((f) => this.renderField(f, view, this.draft ?? view.values))}</div>
          <div class="actions"><button class="primary" type="submit" ?disabled=${pending(this.save)}>Save</button></div>
        </form>`,
        html`<p>Reading the settings…</p>`,
      )}`;
  }

  private renderField(f: FormField, view: SettingsView, current: Readonly<Record<string, unknown>>): TemplateResult {
    const error = this.errors[f.key];
    const v = view.values[f.key];
    const advice = this.spec?.[f.key]?.(current);
    // One template shape whether advice shows or not: swapping templates would rebuild the
    // control and lose what the admin just chose.
    const withAdvice = (control: TemplateResult) =>
      html`${control}${advice
        ? html`<div class=${`advice ${advice.level}`} role="note" data-test=${`advice-${f.key}`}>${advice.level === 'warning' ? '⚠ ' : ''}${advice.text}</div>`
        : nothing}`;
    switch (f.kind) {
      case 'text':
        return row(f.key, f.label, withAdvice(input(f.key, String(v ?? ''), error, f.wide ? { size: 72 } : {})), error, f.hint);
      case 'number':
        return row(f.key, f.label, withAdvice(html`${input(f.key, String(v ?? ''), error, { type: 'number', min: f.min, max: f.max, step: 1 })} ${f.unit ?? ''}`), error, f.hint);
      case 'select':
        return row(f.key, f.label, withAdvice(select(f.key, String(v ?? ''), f.options === 'timeZones' ? timeZoneOptions(String(v ?? '')) : f.options, error)), error, f.hint);
      case 'check':
        return row(f.key, f.label, withAdvice(checkbox(f.key, v === true)), error, f.hint);
      case 'secret': {
        const set = view.secretsSet[f.key] === true;
        const control = html`${input(f.key, '', error, { type: 'password', autocomplete: 'new-password', placeholder: set ? 'Unchanged' : '' })}
          <span class="secret-state" data-test=${`secret-${f.key}`}>Stored: <b>${set ? 'Set' : 'Not set'}</b></span>
          ${set
            ? html`<label class="inline"><input type="checkbox" name=${`${f.key}-clear`} /> Delete the stored ${f.label.toLowerCase()}</label>`
            : nothing}`;
        return row(f.key, f.label, withAdvice(control), error, f.hint ?? 'Typed only to change it; the stored value is never shown.');
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
      .advice {
        margin: 5px 0 2px;
        padding: 4px 8px;
        font-size: 12px;
      }
    `,
  ];
}

customElements.define('rui-settings-form', SettingsForm);
