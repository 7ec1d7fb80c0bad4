/**
 * One lever's form, drawn from the JSON Schema of its arguments (lever-form-model.ts says which
 * input each argument gets) and filled in with the lever's example. Submitting pulls the lever
 * (`POST /sim/api/levers/:name`); the answer's sentence shows under the form, a refusal shows its
 * message and marks each field it names (aria-invalid, the reason beside it and in
 * aria-describedby). A pull that went through is announced with a `world-changed` event, so the
 * page reads the state (and the fault list) again at once.
 *
 * The inputs hold what the tester types (their defaults are the example, so Reset brings it
 * back); only the choice of a variant is kept here, because it decides which fields show.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { action, pending } from '../../../remote-ui/src/kit/api-task.ts';
import type { LeverInfo } from '../sim-state.ts';
import { benchFormStyles } from './bench-styles.ts';
import { chosen, chosenVariant, dotted, formModel, optionValue, placeOf, prefill, readArgs, visiblePaths, type Entries, type FieldProblem, type FormField, type Scalar } from './lever-form-model.ts';
import { simApi } from './sim-api.ts';

/** Sent up (bubbling out of the shadow roots) after a pull or a clear changed the simulated world. */
export const WORLD_CHANGED = 'world-changed';

type Outcome = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly text: string; readonly unplaced: readonly FieldProblem[] };

export class SimLeverForm extends LitElement {
  static override properties = {
    lever: { attribute: false },
    shown: { state: true },
    problems: { state: true },
    outcome: { state: true },
  };

  declare lever: LeverInfo | undefined;
  /** The example's entries with the tester's choices of variant: which fields show. */
  declare shown: Entries;
  /** Dotted path of a field on show → why the simulator refused it. */
  declare problems: ReadonlyMap<string, string>;
  declare outcome: Outcome | undefined;
  private model: FormField | undefined;
  /** The example, as the inputs' defaults. */
  private example: Entries = new Map();
  private focusProblem = false;

  private readonly pull = action(this, async (name: string, args: unknown) => {
    const result = await simApi('POST /sim/api/levers/:name', { params: { name }, body: args as Readonly<Record<string, unknown>> });
    if (result.ok) {
      this.problems = new Map();
      this.outcome = { ok: true, text: result.data.sentence };
      this.dispatchEvent(new Event(WORLD_CHANGED, { bubbles: true, composed: true }));
      return;
    }
    this.showProblems(result.error.message, result.error.fields ?? []);
  });

  constructor() {
    super();
    this.shown = new Map();
    this.problems = new Map();
  }

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('lever') && this.lever) {
      this.model = formModel(this.lever.schema);
      this.example = prefill(this.model, this.lever.example);
      this.shown = this.example;
    }
  }

  override updated(): void {
    if (!this.focusProblem) return;
    this.focusProblem = false;
    this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]:is(input, select, textarea)')?.focus();
  }

  /** The refusal's sentence above the button, and each named field marked where it shows. */
  private showProblems(message: string, fields: readonly FieldProblem[]): void {
    const shown = this.model ? visiblePaths(this.model, this.shown) : [];
    const problems = new Map<string, string>();
    const unplaced: FieldProblem[] = [];
    for (const problem of fields) {
      const place = placeOf(problem.path, shown);
      if (place === undefined) unplaced.push(problem);
      else problems.set(place, [problems.get(place), problem.path === place ? problem.message : `${problem.path.slice(place.length + 1)}: ${problem.message}`].filter(Boolean).join('; '));
    }
    this.problems = problems;
    this.outcome = { ok: false, text: message, unplaced };
    this.focusProblem = problems.size > 0;
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    if (!this.model || !this.lever) return;
    const { value, problems } = readArgs(this.model, entriesOf(event.target as HTMLFormElement));
    if (problems.length > 0) {
      this.showProblems('Some fields cannot be sent as they are.', problems);
      return;
    }
    void this.pull.run([this.lever.name, value]);
  }

  /** A variant's choice changes the fields that show; an edited field is no longer marked. */
  private onInput(event: Event): void {
    const target = event.target as HTMLInputElement | HTMLSelectElement;
    if (target.dataset['tag'] !== undefined) this.shown = new Map(this.shown).set(target.name, target.value);
    if (this.problems.has(target.name)) {
      const problems = new Map(this.problems);
      problems.delete(target.name);
      this.problems = problems;
    }
  }

  private onReset(): void {
    this.shown = this.example;
    this.problems = new Map();
    this.outcome = undefined;
  }

  override render(): TemplateResult | typeof nothing {
    const lever = this.lever;
    const model = this.model;
    if (!lever || !model) return nothing;
    const busy = pending(this.pull);
    const outcome = this.outcome;
    return html`<form @submit=${this.onSubmit} @input=${this.onInput} @reset=${this.onReset} aria-label=${`${lever.name}: ${lever.summary}`}>
      ${this.renderFields(model, true)}
      ${outcome
        ? html`<p class="msg ${outcome.ok ? 'ok' : 'error'}" role=${outcome.ok ? 'status' : 'alert'} data-test="lever-outcome">
            ${outcome.text}${!outcome.ok && outcome.unplaced.length > 0
              ? html`<span class="unplaced">${outcome.unplaced.map((p) => html`<br />${p.path}: ${p.message}`)}</span>`
              : nothing}
          </p>`
        : nothing}
      <div class="buttons">
        <button type="submit" ?disabled=${busy}>${lever.makes === 'fault' ? 'Add Fault' : 'Do It'}</button>
        ${model.kind === 'group' && model.fields.length === 0 ? nothing : html`<button type="reset" ?disabled=${busy}>Back to the Example</button>`}
      </div>
    </form>`;
  }

  /** The fields of a group or of the chosen variant (the lever's own arguments sit directly in the form). */
  private renderFields(f: FormField, required: boolean): unknown {
    if (f.kind === 'group') {
      if (f.fields.length === 0) return html`<p class="muted">No arguments.</p>`;
      return f.fields.map((child) => keyed(dotted(child.path), this.renderField(child, required && child.required)));
    }
    if (f.kind === 'variants') {
      const tag = { path: [...f.path, f.tag], required: f.required, options: f.variants.map((v) => v.value) };
      const variant = chosenVariant(f, this.shown);
      return html`${this.row(tag.path, false, undefined, this.select(tag.path, tag.required, tag.options, chosen(tag, this.shown), this.problems.has(dotted(tag.path)) ? `problem-${dotted(tag.path)}` : nothing, true))}
      ${(variant?.fields ?? []).map((child) => keyed(dotted(child.path), this.renderField(child, required && child.required)))}`;
    }
    return this.renderField(f, required);
  }

  /** One argument: a line with its label, input, hint and problem; an object or a variant as a fieldset. */
  private renderField(f: FormField, required: boolean): TemplateResult {
    const key = dotted(f.path);
    const initial = this.example.get(key);
    const text = typeof initial === 'string' ? initial : '';
    const id = `arg-${key}`;
    const hint = hintOf(f);
    const described = [this.problems.has(key) ? `problem-${key}` : '', hint !== undefined ? `hint-${key}` : ''].filter(Boolean).join(' ') || nothing;
    const invalid = this.problems.has(key) ? 'true' : nothing;
    const optional = !f.required;
    switch (f.kind) {
      case 'text':
      case 'scalar':
        return this.row(f.path, optional, hint, html`<input id=${id} name=${key} type="text" value=${text} maxlength=${f.kind === 'text' && f.maxLength !== undefined ? f.maxLength : nothing}
          ?required=${required} autocomplete="off" spellcheck="false" aria-invalid=${invalid} aria-describedby=${described} />`);
      case 'number':
        return this.row(f.path, optional, hint, html`<input id=${id} name=${key} type="number" value=${text} step=${f.integer ? '1' : 'any'} min=${f.min ?? nothing} max=${f.max ?? nothing}
          ?required=${required} aria-invalid=${invalid} aria-describedby=${described} />`);
      case 'choice':
        return this.row(f.path, optional, hint, this.select(f.path, f.required, f.options, chosen(f, this.example), described, false));
      case 'check':
        return this.row(f.path, optional, hint, html`<input id=${id} name=${key} type="checkbox" class="check" ?checked=${initial === true} aria-invalid=${invalid} aria-describedby=${described} />`);
      case 'list':
      case 'json':
        return this.row(f.path, optional, hint, html`<textarea id=${id} name=${key} class=${f.kind} rows=${f.kind === 'list' ? 3 : Math.min(6, Math.max(2, Math.ceil(text.length / 40)))}
          .defaultValue=${text} ?required=${required} spellcheck="false" aria-invalid=${invalid} aria-describedby=${described}></textarea>`);
      case 'group':
      case 'variants':
        return html`<fieldset class="group" style=${`--depth: ${f.path.length}`} aria-invalid=${invalid} aria-describedby=${described} data-path=${key}>
          <legend>${f.path.at(-1)}${optional ? html` <span class="optional">optional</span>` : nothing}</legend>
          ${hint !== undefined ? html`<p class="hint" id=${`hint-${key}`}>${hint}</p>` : nothing}
          ${this.problemOf(key)}
          ${this.renderFields(f, required)}
        </fieldset>`;
    }
  }

  /** A label, the control, then the problem and the hint beside it. */
  private row(path: readonly string[], optional: boolean, hint: string | undefined, control: TemplateResult): TemplateResult {
    const key = dotted(path);
    return html`<div class="field" data-path=${key}>
      <label for=${`arg-${key}`}>${path.at(-1)}${optional ? html` <span class="optional">optional</span>` : nothing}</label>
      ${control}
      <span class="notes">${this.problemOf(key)}${hint !== undefined ? html`<span class="hint" id=${`hint-${key}`}>${hint}</span>` : nothing}</span>
    </div>`;
  }

  /** A choice; a variant's tag (`tag`) is a choice that changes the fields below it. */
  private select(path: readonly string[], required: boolean, options: readonly Scalar[], selected: Scalar | undefined, described: string | typeof nothing, tag: boolean): TemplateResult {
    const key = dotted(path);
    return html`<select id=${`arg-${key}`} name=${key} ?required=${required} data-tag=${tag ? '' : nothing} aria-invalid=${this.problems.has(key) ? 'true' : nothing} aria-describedby=${described}>
      ${required ? nothing : html`<option value="" ?selected=${selected === undefined}>—</option>`}
      ${options.map((o) => html`<option value=${optionValue(o)} ?selected=${o === selected}>${String(o)}</option>`)}
    </select>`;
  }

  private problemOf(key: string): unknown {
    const problem = this.problems.get(key);
    return problem === undefined ? nothing : html`<span class="problem" id=${`problem-${key}`} data-test="field-problem">${problem}</span>`;
  }

  static override styles = [
    benchFormStyles,
    css`
      :host {
        display: block;
        --indent: 13px;
      }
      form {
        padding: 6px 0 2px;
        max-width: 900px;
      }
      /* The label column narrows by one fieldset's indent per level, so every input lines up. */
      .field {
        display: grid;
        grid-template-columns: calc(170px - var(--depth, 0) * var(--indent)) 260px 1fr;
        gap: var(--space-2);
        align-items: baseline;
        margin: 4px 0;
      }
      label,
      legend {
        color: var(--label);
        font-family: var(--mono);
        font-size: var(--text-small);
        overflow-wrap: anywhere;
      }
      .optional {
        font-family: system-ui, sans-serif;
        font-size: 11px;
        color: var(--faint);
        font-style: italic;
      }
      input,
      select,
      textarea {
        font: inherit;
        width: 100%;
        box-sizing: border-box;
        padding: 3px 5px;
        border: 1px solid var(--field-line);
        border-radius: var(--radius);
        background: #fff;
      }
      input.check {
        width: auto;
        justify-self: start;
        margin: 0;
      }
      textarea {
        resize: vertical;
      }
      textarea.json {
        font-family: var(--mono);
        font-size: var(--text-small);
      }
      [aria-invalid='true'] {
        border-color: var(--error);
        outline: 1px solid var(--error);
      }
      fieldset[aria-invalid='true'] {
        outline: none;
      }
      .notes {
        display: flex;
        flex-direction: column;
        font-size: var(--text-small);
      }
      .hint {
        color: var(--faint);
      }
      .problem {
        color: var(--error);
        font-weight: 600;
      }
      fieldset.group {
        border: 1px solid var(--line-soft);
        border-left: 3px solid var(--line);
        margin: 6px 0;
        /* Border and left padding make one indent (--indent). */
        padding: 2px 10px 6px;
      }
      fieldset.group > .hint,
      fieldset.group > .problem {
        display: block;
        margin: 0 0 4px;
        font-size: var(--text-small);
      }
      .buttons {
        display: flex;
        gap: var(--space-2);
        margin-top: 8px;
      }
      .msg {
        margin: 8px 0 0;
      }
      .muted {
        margin: 4px 0;
      }
    `,
  ];
}

customElements.define('sim-lever-form', SimLeverForm);

/** What the form holds, by input name: the text of each input, select and textarea; `true` for a ticked box. */
function entriesOf(form: HTMLFormElement): Entries {
  const entries = new Map<string, string | boolean>();
  for (const element of Array.from(form.elements)) {
    if (element instanceof HTMLInputElement && element.type === 'checkbox') {
      if (element.checked) entries.set(element.name, true);
    } else if ((element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) && element.name) {
      entries.set(element.name, element.value);
    }
  }
  return entries;
}

/** The note beside an argument: its description, and what the input takes where the input does not show it. */
function hintOf(f: FormField): string | undefined {
  switch (f.kind) {
    case 'number':
      return withHint(f.description, rangeHint(f));
    case 'scalar':
      return withHint(f.description, scalarHint(f.types));
    case 'list':
      return withHint(f.description, 'one a line');
    case 'json':
      return withHint(f.description, `JSON: ${f.shape}`);
    default:
      return f.description;
  }
}

function withHint(description: string | undefined, extra: string | undefined): string | undefined {
  return [description, extra].filter(Boolean).join('; ') || undefined;
}

/** `1 to 1,800,000`; a real number's open bound in words (`more than 0, at most 1`). */
function rangeHint(f: Extract<FormField, { kind: 'number' }>): string | undefined {
  const n = (x: number) => x.toLocaleString('en');
  const { min, max } = f;
  if (min === undefined && max === undefined) return undefined;
  if (f.minExclusive || f.maxExclusive) {
    return [min !== undefined ? `${f.minExclusive ? 'more than' : 'at least'} ${n(min)}` : '', max !== undefined ? `${f.maxExclusive ? 'less than' : 'at most'} ${n(max)}` : ''].filter(Boolean).join(', ');
  }
  return min !== undefined && max !== undefined ? `${n(min)} to ${n(max)}` : min !== undefined ? `at least ${n(min)}` : `at most ${n(max!)}`;
}

function scalarHint(types: readonly string[]): string {
  const words = types.map((t) => (t === 'string' ? 'text' : t === 'integer' ? 'a whole number' : 'a number'));
  return words.join(' or ');
}
