/**
 * The Address Book source of Scan and Send: a search box, the device's entries sorted by name
 * (the device searches names and addresses), a To / Cc / Bcc key on each row that adds the entry
 * to the destinations, and a form to add an entry or to edit or delete one.
 *
 * The draft stays with the scan screen: this element only asks for a destination with
 * ADD_DESTINATION_EVENT, after checking it with the draft's own rule (checkNewAddress), so a
 * refusal ("already a destination", "no more To addresses") is shown here, where it was tapped.
 * The entry form checks with the device's schema and shows the device's 400 / 409 at the field.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { addressBookEntryRequest, type AddressBookEntry } from '../../../firmware/web/api-types.ts';
import { ApiTask, oneAtATime, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { panelApi } from './panel-api.ts';
import { panelStyles } from './panel-styles.ts';
import { DESTINATION_KINDS, KIND_LABELS, checkNewAddress, fieldsToErrors, type DestinationKind, type DraftErrors, type ScanDraft } from './scan-draft.ts';

export const ADD_DESTINATION_EVENT = 'panel-add-destination';

export interface AddDestinationDetail {
  readonly kind: DestinationKind;
  readonly address: string;
}

/** The entry being added (no id) or edited, as typed. */
interface EntryForm {
  readonly id?: string;
  readonly name: string;
  readonly address: string;
}

/** The error key for what the device refused without naming a field (the book is full, the entry is gone). */
const FORM = '(form)';

export class PanelAddressBook extends LitElement {
  static override properties = {
    draft: { attribute: false },
    query: { state: true },
    form: { state: true },
    errors: { state: true },
    confirmDelete: { state: true },
    notice: { state: true },
  };

  declare draft: ScanDraft;
  declare query: string;
  declare form: EntryForm | undefined;
  declare errors: DraftErrors;
  declare confirmDelete: boolean;
  /** The outcome of the last tap or save, in one line. */
  declare notice: { readonly ok: boolean; readonly text: string } | undefined;
  /** The entries the device finds for `query` (an answer to an older search is dropped). */
  private readonly entries = new ApiTask(this, ([q], call) => panelApi('GET /panel/api/address-book', { ...call, query: { q } }), { args: () => [this.query.trim()] as const });
  /** Whether this operator may add, change and delete entries (Security → Address Book Editing at the Panel), read with each search. */
  private readonly status = new ApiTask(this, (_, call) => panelApi('GET /panel/api/status', call), { args: () => [this.query.trim()] as const });
  /** Save or delete: one at a time, their keys off meanwhile. */
  private readonly change = oneAtATime(this);

  constructor() {
    super();
    this.query = '';
    this.errors = {};
    this.confirmDelete = false;
  }

  private get editable(): boolean {
    return this.status.last?.addressBookEditable ?? true;
  }

  private reload(): void {
    void this.entries.refresh();
    void this.status.refresh();
  }

  private search(text: string): void {
    this.query = text;
    this.notice = undefined;
  }

  private pick(entry: AddressBookEntry, kind: DestinationKind): void {
    const error = checkNewAddress(this.draft, kind, entry.address);
    if (error) {
      this.notice = { ok: false, text: error };
      return;
    }
    this.dispatchEvent(new CustomEvent<AddDestinationDetail>(ADD_DESTINATION_EVENT, { detail: { kind, address: entry.address }, bubbles: true, composed: true }));
    this.notice = { ok: true, text: `${entry.name} added as ${KIND_LABELS[kind]}.` };
  }

  private open(form: EntryForm | undefined): void {
    this.form = form;
    this.errors = {};
    this.confirmDelete = false;
    this.notice = undefined;
    if (form) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#ab-name')?.focus());
  }

  private edit(patch: Partial<EntryForm>): void {
    if (!this.form) return;
    this.form = { ...this.form, ...patch };
    const errors: Record<string, string> = { ...this.errors };
    for (const key of [...Object.keys(patch), FORM]) delete errors[key];
    this.errors = errors;
  }

  private async save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = this.form;
    if (!form) return;
    const parsed = addressBookEntryRequest.safeParse({ name: form.name, address: form.address.trim() });
    if (!parsed.success) {
      this.errors = fieldsToErrors(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || FORM, message: i.message })));
      return;
    }
    const id = form.id;
    const body = parsed.data;
    await this.change.run([
      async () => {
        const result = id === undefined ? await panelApi('POST /panel/api/address-book', { body }) : await panelApi('PUT /panel/api/address-book/:id', { params: { id }, body });
        if (!result.ok) {
          this.errors = result.error.fields ? fieldsToErrors(result.error.fields) : { [FORM]: result.error.message };
          return;
        }
        this.form = undefined;
        this.notice = { ok: true, text: id === undefined ? `${result.data.name} was added to the address book.` : `${result.data.name} was saved.` };
        this.reload();
      },
    ]);
  }

  private async deleteEntry(): Promise<void> {
    const form = this.form;
    const id = form?.id;
    if (!form || id === undefined) return;
    await this.change.run([
      async () => {
        const result = await panelApi('DELETE /panel/api/address-book/:id', { params: { id } });
        if (!result.ok && result.status !== 404) {
          this.errors = { [FORM]: result.error.message };
          this.confirmDelete = false;
          return;
        }
        this.form = undefined;
        this.notice = { ok: true, text: `${form.name} was deleted from the address book.` };
        this.reload();
      },
    ]);
  }

  override render(): TemplateResult {
    return this.form ? this.renderForm(this.form) : this.renderList();
  }

  private renderList(): TemplateResult {
    return html`<div class="search-line">
        <input
          id="ab-search"
          type="search"
          autocomplete="off"
          autocapitalize="off"
          spellcheck="false"
          placeholder="Search by name or address"
          aria-label="Search the address book"
          aria-controls="ab-list"
          .value=${this.query}
          data-test="ab-search"
          @input=${(e: InputEvent) => this.search((e.target as HTMLInputElement).value)}
        />
        ${this.editable
          ? html`<button type="button" class="new" data-test="ab-new" @click=${() => this.open({ name: '', address: '' })}>+ New Entry</button>`
          : html`<span class="locked" data-test="ab-locked">Editing is restricted</span>`}
      </div>
      ${this.entries.failure((e) => html`<div class="alert error" role="alert" data-test="ab-error">${e.message}</div>`)}
      ${this.notice
        ? html`<div class="notice ${this.notice.ok ? 'ok' : 'error'}" role=${this.notice.ok ? 'status' : 'alert'} data-test="ab-notice">${this.notice.text}</div>`
        : nothing}
      ${this.entries.view(
        (entries) =>
          entries.length === 0
            ? html`<p class="empty" data-test="ab-empty">
                ${this.query.trim() === '' ? 'The address book is empty. Press New Entry to add someone.' : `No entry matches “${this.query.trim()}”.`}
              </p>`
            : html`<ul id="ab-list" class="book" aria-label="Address book entries" data-test="ab-list">
                ${entries.map((entry) => this.renderEntry(entry))}
              </ul>`,
        html`<p class="empty">Reading the address book…</p>`,
        () => nothing,
      )}`;
  }

  private renderEntry(entry: AddressBookEntry): TemplateResult {
    const chosen = this.draft.destinations.find((d) => d.address.toLowerCase() === entry.address.toLowerCase());
    return html`<li data-test="ab-entry" data-id=${entry.id} data-address=${entry.address} data-chosen=${chosen?.kind ?? ''}>
      <span class="who">
        <span class="name">${entry.name}</span>
        <span class="mail">${entry.address}</span>
      </span>
      <span class="keys" role="group" aria-label=${`Add ${entry.name} as`}>
        ${DESTINATION_KINDS.map(
          (kind) => html`<button
            type="button"
            class="kind ${chosen?.kind === kind ? 'chosen' : ''}"
            aria-label=${`Add ${entry.name} as ${KIND_LABELS[kind]}`}
            aria-pressed=${chosen?.kind === kind ? 'true' : 'false'}
            data-test=${`ab-add-${kind}`}
            @click=${() => this.pick(entry, kind)}
          >
            ${KIND_LABELS[kind]}
          </button>`,
        )}
      </span>
      ${this.editable
        ? html`<button type="button" class="edit" aria-label=${`Edit ${entry.name}`} data-test="ab-edit" @click=${() => this.open({ id: entry.id, name: entry.name, address: entry.address })}>✎</button>`
        : nothing}
    </li>`;
  }

  private renderForm(form: EntryForm): TemplateResult {
    const e = this.errors;
    const field = (id: 'name' | 'address', label: string, value: string, extra: Partial<Record<'inputmode' | 'placeholder', string>> = {}) =>
      html`<div>
        <label class="field" for=${`ab-${id}`}>${label}</label>
        <input
          id=${`ab-${id}`}
          type="text"
          autocomplete="off"
          autocapitalize=${id === 'address' ? 'off' : 'words'}
          spellcheck="false"
          inputmode=${extra.inputmode ?? nothing}
          placeholder=${extra.placeholder ?? nothing}
          .value=${value}
          aria-invalid=${e[id] ? 'true' : 'false'}
          aria-describedby=${e[id] ? `ab-${id}-error` : nothing}
          data-test=${`ab-${id}`}
          @input=${(ev: InputEvent) => this.edit({ [id]: (ev.target as HTMLInputElement).value })}
        />
        ${e[id] ? html`<div class="field-error" id=${`ab-${id}-error`} role="alert" data-test=${`ab-error-${id}`}>${e[id]}</div>` : nothing}
      </div>`;
    return html`<form class="entry-form" novalidate aria-label=${form.id === undefined ? 'New address book entry' : 'Edit address book entry'} data-test="ab-form" @submit=${this.save}>
      <div class="form-title">${form.id === undefined ? 'New Entry' : 'Edit Entry'}</div>
      ${field('name', 'Name', form.name, { placeholder: 'First and last name' })}
      ${field('address', 'E-mail Address', form.address, { inputmode: 'email', placeholder: 'name@example.com' })}
      ${e[FORM] ? html`<div class="alert error" role="alert" data-test="ab-error-form">${e[FORM]}</div>` : nothing}
      ${this.confirmDelete
        ? html`<div class="confirm" role="alertdialog" aria-label="Delete entry" data-test="ab-confirm-delete">
            <span>Delete “${form.name}” from the address book?</span>
            <button type="button" data-test="ab-keep" @click=${() => (this.confirmDelete = false)}>Keep</button>
            <button type="button" class="danger" data-test="ab-delete-yes" ?disabled=${pending(this.change)} @click=${() => void this.deleteEntry()}>Yes, Delete</button>
          </div>`
        : html`<div class="form-actions">
            <button type="button" data-test="ab-cancel" @click=${() => this.open(undefined)}>Cancel</button>
            ${form.id === undefined ? nothing : html`<button type="button" class="danger" data-test="ab-delete" @click=${() => (this.confirmDelete = true)}>Delete</button>`}
            <button type="submit" class="primary save" data-test="ab-save" ?disabled=${pending(this.change)}>Save</button>
          </div>`}
    </form>`;
  }

  static override styles = [
    panelStyles,
    css`
      :host {
        gap: 10px;
      }
      .search-line {
        display: flex;
        gap: 10px;
      }
      .locked {
        color: #5b636d;
        font-size: 15px;
        white-space: nowrap;
      }
      .new {
        white-space: nowrap;
        font-weight: 600;
      }
      .notice {
        font-size: 15px;
      }
      .notice.ok {
        color: var(--touch-ok);
      }
      .notice.error {
        color: var(--error);
      }
      .empty {
        color: var(--touch-muted);
        margin: 8px 0;
      }
      .book {
        list-style: none;
        margin: 0;
        padding: 0 4px 0 0;
        overflow: auto;
        flex: 1;
        min-height: 0;
        border-top: 1px solid var(--touch-line);
      }
      .book li {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 5px 0;
        border-bottom: 1px solid #d5dce3;
      }
      .who {
        flex: 1;
        min-width: 0;
        display: flex;
        flex-direction: column;
      }
      .name,
      .mail {
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .name {
        font-size: var(--touch-text);
        font-weight: 600;
      }
      .mail {
        font-size: 14px;
        color: #4b5866;
      }
      .keys {
        display: flex;
      }
      .keys button {
        min-width: 52px;
        padding: 0 8px;
        border-radius: 0;
        margin-left: -1px;
        font-size: 15px;
      }
      .keys button:first-child {
        border-radius: 8px 0 0 8px;
        margin-left: 0;
      }
      .keys button:last-child {
        border-radius: 0 8px 8px 0;
      }
      .keys button.chosen {
        background: var(--touch-primary);
        border-color: var(--touch-primary-line);
        color: #fff;
        font-weight: 600;
      }
      .edit {
        width: 48px;
        padding: 0;
        font-size: 19px;
      }
      .entry-form {
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      .form-title {
        font-size: var(--touch-text);
        font-weight: 600;
      }
      .form-actions,
      .confirm {
        display: flex;
        align-items: center;
        gap: 10px;
        margin-top: 4px;
      }
      .form-actions .save {
        margin-left: auto;
        min-width: 120px;
      }
      .confirm span {
        flex: 1;
        font-weight: 600;
      }
      button.danger {
        color: var(--touch-danger-ink);
        border-color: #d08a86;
      }
      .confirm button.danger {
        background: linear-gradient(#e0524b, #c0352e);
        border-color: #a52a24;
        color: #fff;
        font-weight: 600;
      }
    `,
  ];
}

customElements.define('panel-address-book', PanelAddressBook);
