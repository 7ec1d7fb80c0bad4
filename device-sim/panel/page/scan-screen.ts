/**
 * Scan and Send: the destinations on one tab (typed by hand or picked from the address book
 * (address-book-panel.ts) as To, Cc or Bcc; "Send to Myself" for a logged-in operator whose
 * account has an address), the scan settings and the message on the other, and Start. What the
 * device refuses is shown where it belongs without losing anything entered: a field error at its
 * field (the tab that holds it is opened), a 409 ("cannot send now", with the device code) beside
 * Start.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { PanelOperator, ScanRequestBody } from '../../../firmware/web/api-types.ts';
import { action, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { panelApi } from './panel-api.ts';
import { navigate } from './panel-navigation.ts';
import { panelStyles } from './panel-styles.ts';
import { ADD_DESTINATION_EVENT, type AddDestinationDetail } from './address-book-panel.ts';
import {
  DESTINATION_KINDS,
  KIND_LABELS,
  COLOUR_LABELS,
  PAGES_MAX,
  addDestination,
  attachmentNames,
  checkDraft,
  checkNewAddress,
  defaultDraft,
  destinationPath,
  errorsAfterRemoval,
  fieldsToErrors,
  removeDestination,
  settingsSummary,
  toRequest,
  type DestinationKind,
  type DraftErrors,
  type ScanDraft,
} from './scan-draft.ts';

type Tab = 'destinations' | 'settings';
/** Where destinations come from on the Destinations tab. */
type Source = 'new' | 'book';

/** The client-side key for "no destination at all" (the device answers it with a 409 #821). */
const NO_DESTINATION = '(destinations)';

const COLOURS = Object.entries(COLOUR_LABELS) as [ScanDraft['colour'], string][];
const RESOLUTIONS: readonly ScanDraft['dpi'][] = [150, 300, 600];
const FORMATS: readonly [ScanDraft['format'], string][] = [
  ['pdf', 'PDF'],
  ['jpeg', 'JPEG'],
];
const SETTINGS_FIELDS = ['colour', 'dpi', 'format', 'pages', 'fileName', 'subject', 'body'];

export class PanelScanScreen extends LitElement {
  static override properties = {
    operator: { attribute: false },
    draft: { state: true },
    tab: { state: true },
    source: { state: true },
    kind: { state: true },
    typed: { state: true },
    addressError: { state: true },
    errors: { state: true },
    refusal: { state: true },
  };

  declare operator: PanelOperator | null;
  declare draft: ScanDraft;
  declare tab: Tab;
  declare source: Source;
  /** Where the next typed address goes. */
  declare kind: DestinationKind;
  declare typed: string;
  declare addressError: string | undefined;
  declare errors: DraftErrors;
  /** The device's "cannot send now" (409) with its device code, shown beside Start. */
  declare refusal: { readonly code: string; readonly message: string } | undefined;
  /** Start: the device takes the scan (and the progress screen follows it), or says why not. */
  private readonly starting = action(this, async (request: ScanRequestBody) => {
    const result = await panelApi('POST /panel/api/scan', { body: request });
    if (result.ok) {
      navigate(this, { name: 'progress', jobId: result.data.jobId, request });
      return;
    }
    if (result.status === 400 && result.error.fields) this.showErrors(fieldsToErrors(result.error.fields));
    else this.refusal = { code: result.error.code ?? '', message: result.error.message };
  });

  constructor() {
    super();
    this.operator = null;
    this.draft = defaultDraft();
    this.tab = 'destinations';
    this.source = 'new';
    this.kind = 'to';
    this.typed = '';
    this.errors = {};
    this.addEventListener(ADD_DESTINATION_EVENT, (e) => {
      const { kind, address } = (e as CustomEvent<AddDestinationDetail>).detail;
      this.added(addDestination(this.draft, kind, address));
    });
  }

  private change(patch: Partial<ScanDraft>): void {
    this.draft = { ...this.draft, ...patch };
    const cleared = { ...this.errors };
    for (const key of Object.keys(patch)) delete cleared[key];
    this.errors = cleared;
    this.refusal = undefined;
  }

  /** Adds the typed address; false (with the error at the field) when it cannot be added. */
  private addTyped(): boolean {
    const error = checkNewAddress(this.draft, this.kind, this.typed);
    this.addressError = error;
    if (error) return false;
    this.added(addDestination(this.draft, this.kind, this.typed));
    this.typed = '';
    return true;
  }

  /** The draft with one more destination: "add at least one" and a refusal no longer apply. */
  private added(draft: ScanDraft): void {
    this.draft = draft;
    const errors = { ...this.errors };
    delete errors[NO_DESTINATION];
    this.errors = errors;
    this.refusal = undefined;
  }

  private onAdd(event: SubmitEvent): void {
    event.preventDefault();
    if (this.addTyped()) this.renderRoot.querySelector<HTMLInputElement>('#address')?.focus();
  }

  private sendToMyself(): void {
    const address = this.operator?.address;
    if (!address) return;
    const error = checkNewAddress(this.draft, 'to', address);
    // Only "no more To addresses" can refuse it here (the key is disabled while it is in the list).
    if (error) this.errors = { ...this.errors, to: error };
    else this.added(addDestination(this.draft, 'to', address));
  }

  private removeAt(index: number): void {
    const errors: Record<string, string> = { ...errorsAfterRemoval(this.draft, this.errors, index) };
    // A list that was too long may not be any more: the device says again at Start.
    for (const kind of DESTINATION_KINDS) delete errors[kind];
    this.errors = errors;
    this.draft = removeDestination(this.draft, index);
    this.refusal = undefined;
  }

  private reset(): void {
    this.draft = defaultDraft();
    this.typed = '';
    this.kind = 'to';
    this.addressError = undefined;
    this.errors = {};
    this.refusal = undefined;
    this.tab = 'destinations';
    this.source = 'new';
  }

  private showErrors(errors: DraftErrors): void {
    this.errors = errors;
    const paths = Object.keys(errors);
    if (paths.some((p) => !SETTINGS_FIELDS.includes(p))) this.tab = 'destinations';
    else if (paths.length > 0) this.tab = 'settings';
  }

  private async start(): Promise<void> {
    this.refusal = undefined;
    // An address typed but not added yet goes with the scan, as the operator expects.
    if (this.typed.trim() !== '' && !this.addTyped()) {
      this.tab = 'destinations';
      return;
    }
    const errors: Record<string, string> = { ...checkDraft(this.draft) };
    if (this.draft.destinations.length === 0) errors[NO_DESTINATION] = 'Add at least one destination.';
    if (Object.keys(errors).length > 0) {
      this.showErrors(errors);
      return;
    }
    await this.starting.run([toRequest(this.draft)]);
  }

  override render(): TemplateResult {
    const destinationErrors = Object.keys(this.errors).some((p) => !SETTINGS_FIELDS.includes(p));
    const settingsErrors = Object.keys(this.errors).some((p) => SETTINGS_FIELDS.includes(p));
    const tab = (id: Tab, label: string, flagged: boolean) =>
      html`<button
        type="button"
        role="tab"
        class="tab"
        id=${`tab-${id}`}
        aria-selected=${this.tab === id ? 'true' : 'false'}
        aria-controls="tab-panel"
        data-test=${`tab-${id}`}
        data-invalid=${flagged ? 'true' : 'false'}
        @click=${() => (this.tab = id)}
      >
        ${label}${flagged ? html` <span class="flag" aria-label="has errors">!</span>` : nothing}
      </button>`;
    return html`<div class="titlebar">
        <button type="button" class="back" data-test="back" @click=${() => navigate(this, { name: 'home' })}>◀ Home</button>
        <h1>Scan and Send</h1>
        <div class="right" role="tablist" aria-label="Scan and Send">
          ${tab('destinations', `Destinations (${this.draft.destinations.length})`, destinationErrors)} ${tab('settings', 'Scan Settings', settingsErrors)}
        </div>
      </div>
      <div class="content" role="tabpanel" id="tab-panel" aria-labelledby=${`tab-${this.tab}`}>
        ${this.tab === 'destinations' ? this.renderDestinations() : this.renderSettings()}
      </div>
      ${this.renderFooter()}`;
  }

  private renderDestinations(): TemplateResult {
    const d = this.draft;
    const listError = this.errors[NO_DESTINATION] ?? this.errors['to'] ?? this.errors['cc'] ?? this.errors['bcc'];
    const source = (id: Source, label: string) =>
      html`<button type="button" role="tab" aria-selected=${this.source === id ? 'true' : 'false'} data-test=${id === 'new' ? 'source-new' : 'source-address-book'} @click=${() => (this.source = id)}>
        ${label}
      </button>`;
    return html`<div class="destinations">
      <section class="entry" aria-label="New destination">
        <div class="subtabs" role="tablist" aria-label="Choose destinations from">${source('new', 'New Address')} ${source('book', 'Address Book')}</div>
        ${this.source === 'book' ? html`<panel-address-book .draft=${d}></panel-address-book>` : this.renderNewAddress()}
      </section>
      <section class="list" aria-labelledby="list-title">
        <div class="list-head">
          <div class="list-title" id="list-title">Destinations</div>
          ${this.renderMyself()}
        </div>
        ${listError ? html`<div class="field-error" role="alert" data-test="error-destinations">${listError}</div>` : nothing}
        ${d.destinations.length === 0
          ? html`<p class="empty" data-test="no-destinations">No destinations yet. Enter an address and press Add, or pick one from the Address Book.</p>`
          : html`<ul data-test="destinations">
              ${d.destinations.map((dest, i) => {
                const error = this.errors[destinationPath(d, i)];
                return html`<li data-test="destination" data-kind=${dest.kind} data-address=${dest.address} data-invalid=${error ? 'true' : 'false'}>
                  <span class="badge">${KIND_LABELS[dest.kind]}</span>
                  <span class="address">${dest.address}${error ? html`<span class="field-error" data-test="error-destination">${error}</span>` : nothing}</span>
                  <button type="button" class="remove" aria-label=${`Remove ${dest.address}`} data-test="remove-destination" @click=${() => this.removeAt(i)}>✕</button>
                </li>`;
              })}
            </ul>`}
      </section>
    </div>`;
  }

  /** "Send to Myself": the logged-in operator's own address as To; there while the account has one. */
  private renderMyself(): TemplateResult | typeof nothing {
    const address = this.operator?.address;
    if (!address) return nothing;
    const listed = this.draft.destinations.some((dest) => dest.address.toLowerCase() === address.toLowerCase());
    return html`<button
      type="button"
      class="myself"
      title=${address}
      aria-describedby="myself-address"
      ?disabled=${listed}
      data-test="send-to-myself"
      @click=${() => this.sendToMyself()}
    >
      ${listed ? '✓ ' : ''}Send to Myself<span class="hint" id="myself-address">${address}</span>
    </button>`;
  }

  private renderNewAddress(): TemplateResult {
    return html`<form novalidate @submit=${this.onAdd}>
      ${this.radios('kind', 'Add as', DESTINATION_KINDS.map((k) => [k, KIND_LABELS[k]] as const), this.kind, (k) => (this.kind = k))}
      <label class="field" for="address">E-mail Address</label>
      <div class="entry-line">
        <input
          id="address"
          type="text"
          inputmode="email"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          placeholder="name@example.com"
          .value=${this.typed}
          aria-invalid=${this.addressError ? 'true' : 'false'}
          aria-describedby=${this.addressError ? 'address-error' : nothing}
          data-test="address"
          @input=${(e: InputEvent) => {
            this.typed = (e.target as HTMLInputElement).value;
            this.addressError = undefined;
          }}
        />
        <button type="submit" class="add" data-test="add-address">Add</button>
      </div>
      ${this.addressError ? html`<div class="field-error" id="address-error" role="alert" data-test="error-address">${this.addressError}</div>` : nothing}
    </form>`;
  }

  private renderSettings(): TemplateResult {
    const d = this.draft;
    const e = this.errors;
    return html`<div class="settings">
      <div class="column">
        ${this.radios('colour', 'Colour Mode', COLOURS, d.colour, (colour) => this.change({ colour }))}
        ${this.radios('dpi', 'Resolution', RESOLUTIONS.map((r) => [r, `${r} dpi`] as const), d.dpi, (dpi) => this.change({ dpi }))}
        ${this.radios('format', 'File Format', FORMATS, d.format, (format) => this.change({ format }))}
        <div>
          <label class="field" for="pages">Pages to Scan <span class="hint">(the document on the glass)</span></label>
          <div class="stepper">
            <button type="button" aria-label="One page fewer" data-test="pages-down" ?disabled=${d.pages <= 1} @click=${() => this.change({ pages: Math.max(1, d.pages - 1) })}>−</button>
            <input
              id="pages"
              type="number"
              min="1"
              max=${PAGES_MAX}
              .value=${String(d.pages)}
              aria-invalid=${e['pages'] ? 'true' : 'false'}
              aria-describedby=${e['pages'] ? 'pages-error' : nothing}
              data-test="pages"
              @input=${(ev: InputEvent) => this.change({ pages: Number((ev.target as HTMLInputElement).value) })}
            />
            <button type="button" aria-label="One page more" data-test="pages-up" ?disabled=${d.pages >= PAGES_MAX} @click=${() => this.change({ pages: Math.min(PAGES_MAX, Math.floor(d.pages || 0) + 1) })}>+</button>
          </div>
          ${this.error('pages')}
        </div>
      </div>
      <div class="column">
        <div>
          <label class="field" for="fileName">File Name <span class="hint" data-test="file-names">(sent as ${attachmentNames(d)})</span></label>
          ${this.text('fileName', d.fileName, (fileName) => this.change({ fileName }))} ${this.error('fileName')}
        </div>
        <div>
          <label class="field" for="subject">Subject</label>
          ${this.text('subject', d.subject, (subject) => this.change({ subject }))} ${this.error('subject')}
        </div>
        <div class="grow">
          <label class="field" for="body">Message</label>
          <textarea
            id="body"
            rows="4"
            .value=${d.body}
            placeholder="(optional)"
            aria-invalid=${e['body'] ? 'true' : 'false'}
            aria-describedby=${e['body'] ? 'body-error' : nothing}
            data-test="body"
            @input=${(ev: InputEvent) => this.change({ body: (ev.target as HTMLTextAreaElement).value })}
          ></textarea>
          ${this.error('body')}
        </div>
      </div>
    </div>`;
  }

  private renderFooter(): TemplateResult {
    const summary = settingsSummary(toRequest(this.draft));
    return html`<div class="footer">
      ${this.refusal
        ? html`<div class="alert error refusal" role="alert" data-test="refusal" data-code=${this.refusal.code}>
            ${this.refusal.code ? html`<span class="code" data-test="refusal-code">${this.refusal.code}</span>` : nothing}
            <span data-test="refusal-message">${this.refusal.message}</span>
          </div>`
        : html`<div class="summary" data-test="summary">${summary}</div>`}
      <button type="button" class="reset" data-test="reset" @click=${() => this.reset()}>Reset</button>
      <button type="button" class="primary start" data-test="start" ?disabled=${pending(this.starting)} @click=${() => void this.start()}>◆ Start</button>
    </div>`;
  }

  /** A segmented choice: one radio button per option, drawn as keys. */
  private radios<V extends string | number>(name: string, legend: string, options: readonly (readonly [V, string])[], value: V, pick: (v: V) => void): TemplateResult {
    return html`<fieldset data-test=${`choice-${name}`}>
      <legend>${legend}</legend>
      <div class="choices">
        ${options.map(
          ([v, label]) => html`<label class="choice">
            <input type="radio" name=${name} .checked=${v === value} data-test=${`${name}-${v}`} @change=${() => pick(v)} /><span>${label}</span>
          </label>`,
        )}
      </div>
      ${this.error(name)}
    </fieldset>`;
  }

  private text(id: string, value: string, set: (v: string) => void): TemplateResult {
    const error = this.errors[id];
    return html`<input
      id=${id}
      type="text"
      .value=${value}
      aria-invalid=${error ? 'true' : 'false'}
      aria-describedby=${error ? `${id}-error` : nothing}
      data-test=${id}
      @input=${(ev: InputEvent) => set((ev.target as HTMLInputElement).value)}
    />`;
  }

  private error(path: string): TemplateResult | typeof nothing {
    const error = this.errors[path];
    return error ? html`<div class="field-error" id=${`${path}-error`} role="alert" data-test=${`error-${path}`}>${error}</div>` : nothing;
  }

  static override styles = [
    panelStyles,
    css`
      .tab {
        min-width: 150px;
        font-size: var(--touch-text);
      }
      .tab[aria-selected='true'] {
        background: var(--touch-ink);
        border-color: var(--touch-ink);
        color: #fff;
        font-weight: 600;
      }
      .flag {
        display: inline-block;
        width: 22px;
        height: 22px;
        line-height: 22px;
        border-radius: 50%;
        background: var(--touch-danger);
        color: #fff;
        font-size: 14px;
        font-weight: 700;
      }
      .content {
        flex: 1;
        min-height: 0;
        padding: 14px 16px;
        overflow: auto;
      }
      .destinations,
      .settings {
        display: grid;
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        gap: 20px;
        height: 100%;
      }
      .entry,
      .list {
        display: flex;
        flex-direction: column;
        gap: 10px;
        min-height: 0;
      }
      .subtabs {
        display: flex;
        gap: 8px;
      }
      .subtabs button {
        flex: 1;
      }
      .subtabs button[aria-selected='true'] {
        background: #e3eefa;
        border-color: var(--touch-primary);
        color: #134a80;
        font-weight: 600;
      }
      form {
        display: flex;
        flex-direction: column;
        gap: 10px;
      }
      form label.field {
        margin: 0;
      }
      .entry-line {
        display: flex;
        gap: 10px;
      }
      .add {
        min-width: 96px;
        font-weight: 600;
      }
      .list-head {
        display: flex;
        align-items: center;
        gap: 10px;
        min-height: 48px;
      }
      .list-head .list-title {
        flex: 1;
      }
      .myself {
        display: flex;
        flex-direction: column;
        justify-content: center;
        max-width: 60%;
        min-height: 52px;
        line-height: 1.15;
        font-weight: 600;
      }
      .myself .hint {
        max-width: 100%;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .list {
        background: #fff;
        border: 1px solid var(--touch-line);
        border-radius: 10px;
        padding: 10px 12px;
      }
      .list-title {
        font-size: var(--touch-text);
        font-weight: 600;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        overflow: auto;
        flex: 1;
      }
      li {
        display: flex;
        align-items: center;
        gap: 10px;
        padding: 4px 0;
        border-bottom: 1px solid #e3e8ed;
      }
      li[data-invalid='true'] .address {
        color: var(--error);
      }
      .address {
        flex: 1;
        min-width: 0;
        overflow-wrap: anywhere;
        font-size: var(--touch-text);
        display: flex;
        flex-direction: column;
      }
      .address .field-error {
        margin: 0;
      }
      .remove {
        width: 48px;
        padding: 0;
        font-size: 18px;
      }
      .empty {
        color: var(--touch-muted);
        margin: 8px 0;
      }
      .column {
        display: flex;
        flex-direction: column;
        gap: 14px;
        min-height: 0;
      }
      .grow {
        flex: 1;
        display: flex;
        flex-direction: column;
        min-height: 0;
      }
      .grow textarea {
        flex: 1;
        min-height: 72px;
      }
      .stepper {
        display: flex;
        gap: 8px;
      }
      .stepper button {
        width: 64px;
        padding: 0;
        font-size: 24px;
      }
      .stepper input {
        width: 120px;
        text-align: center;
      }
      .summary {
        flex: 1;
        font-size: var(--touch-text);
        color: var(--touch-label);
      }
      .refusal {
        flex: 1;
        min-width: 0;
        padding: 6px 12px;
        font-size: 15px;
      }
      button.start {
        min-width: 170px;
        min-height: 56px;
        font-size: 21px;
        background: linear-gradient(#2fb35a, #1e8c42);
        border-color: #187236;
      }
    `,
  ];
}

customElements.define('panel-scan-screen', PanelScanScreen);
