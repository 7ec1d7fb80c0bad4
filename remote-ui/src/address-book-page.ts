/**
 * Address Book (Send → Address Book): the named destinations an operator picks at the
 * control panel, for the roles with `manageAddressBook`. A search box (the device searches: part
 * of a name or an address, any case), the entries in the device's order (by name), Add above the
 * list, Edit in the entry's own row, Delete after a confirmation in that row.
 *
 * The device is the one judge of an entry (docs/api.md, "Address book"): the page sends what was
 * typed and shows the 400 and 409 `fields` under their inputs, anything else (the book is full,
 * the entry was deleted at the panel meanwhile) as the form's message. Not done: checking in the
 * browser first, which would only say the device's sentence a few milliseconds earlier.
 */
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { ADDRESS_BOOK_MAX, ADDRESS_BOOK_NAME_MAX, ADDRESS_BOOK_QUERY_MAX } from '../../firmware/defaults.ts';
import type { AddressBookEntry } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { confirmStrip, errorsFrom, formMessage, input, row, unplacedErrors, type FieldErrors } from './form-fields.ts';
import { ApiTask, oneAtATime, pending } from './kit/api-task.ts';
import { describeError, type HttpResult } from './kit/http-client.ts';
import { sharedStyles } from './shared-styles.ts';

/** What the page has open. A form's field errors belong to it: they go when it closes. */
type Mode =
  | { readonly kind: 'list' }
  | { readonly kind: 'add'; readonly errors?: FieldErrors }
  | { readonly kind: 'edit'; readonly entry: AddressBookEntry; readonly errors?: FieldErrors }
  | { readonly kind: 'delete'; readonly entry: AddressBookEntry };

const FIELDS = ['name', 'address'];

/** "Anna Berg (anna@example.com)": names need not be unique, addresses are. */
const label = (entry: Pick<AddressBookEntry, 'name' | 'address'>) => `${entry.name} (${entry.address})`;

export class AddressBookPage extends LitElement {
  static override properties = {
    query: { state: true },
    mode: { state: true },
    message: { state: true },
  };

  declare query: string;
  declare mode: Mode;
  declare message: { ok: boolean; text: string } | undefined;
  /** The entries the device finds for the search text, read again as it changes. */
  private readonly entries = new ApiTask(this, ([q], call) => api('GET /api/address-book', { ...call, query: q ? { q } : {} }), { args: () => [this.query] as const });
  /** Add, save, delete or import: one at a time, its buttons off meanwhile. */
  private readonly busy = oneAtATime(this);

  constructor() {
    super();
    this.query = '';
    this.open({ kind: 'list' });
  }

  private open(mode: Mode): void {
    this.message = undefined;
    this.mode = mode;
  }

  /** A form opens at the field the device refused, else at its first; a confirmation at Cancel, the harmless answer. */
  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('mode') || this.mode.kind === 'list') return;
    const root = this.renderRoot;
    (root.querySelector<HTMLElement>('[aria-invalid=true]') ?? root.querySelector<HTMLElement>('#name, .confirm button'))?.focus();
  }

  private onSearch(event: InputEvent): void {
    this.query = (event.target as HTMLInputElement).value;
    // "… was added" spoke of the list before the search; it would now stand over another one.
    if (this.message?.ok) this.message = undefined;
  }

  /** Sends one change. Done (or the entry is gone): back to the list, read again. Refused: errors at the fields. */
  private change(send: () => Promise<HttpResult<AddressBookEntry | undefined>>, done: (saved: AddressBookEntry | undefined) => string): Promise<void> {
    return this.busy.run([
      async () => {
        this.message = undefined;
        const result = await send();
        if (result.ok || result.status === 404) {
          this.mode = { kind: 'list' };
          // What the message says is then what the list shows.
          await this.entries.refresh();
        }
        if (result.ok) {
          this.message = { ok: true, text: done(result.data) };
          return;
        }
        const errors = errorsFrom(result.error);
        const unplaced = unplacedErrors(errors, FIELDS);
        // The device's sentence, unless every problem already stands under its field.
        const placed = Object.keys(errors).length > 0 && unplaced.length === 0;
        this.message = placed ? undefined : { ok: false, text: [result.error.message, ...unplaced].join(' ') };
        if (this.mode.kind === 'add' || this.mode.kind === 'edit') this.mode = { ...this.mode, errors };
      },
    ]);
  }

  /** Import CSV: the file goes to the device as it is; the device checks every line before it adds any. */
  private readonly onImport = async (event: Event): Promise<void> => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    this.open({ kind: 'list' });
    await this.busy.run([
      async () => {
        const result = await api('POST /api/address-book/import', { body: { csv: await file.text() } });
        input.value = '';
        if (!result.ok) {
          this.message = { ok: false, text: describeError(result.error) };
          return;
        }
        const { added, skipped } = result.data;
        const already = skipped.length > 0 ? ` ${skipped.length} already in the book (${skipped.map((s) => s.address).join(', ')}) skipped.` : '';
        this.message = { ok: true, text: `${file.name}: ${added} ${added === 1 ? 'entry' : 'entries'} added.${already}` };
        void this.entries.refresh();
      },
    ]);
  };

  private onSubmit(event: SubmitEvent, entry: AddressBookEntry | undefined): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const body = { name: String(form.get('name') ?? ''), address: String(form.get('address') ?? '').trim() };
    return entry
      ? this.change(() => api('PUT /api/address-book/:id', { params: { id: entry.id }, body }), (saved) => `${label(saved ?? body)} was saved.`)
      : this.change(() => api('POST /api/address-book', { body }), (saved) => `${label(saved ?? body)} was added.`);
  }

  override render(): TemplateResult {
    const list = this.entries.last;
    const mode = this.mode;
    const count = !list
      ? 'Reading the address book…'
      : `${list.length} ${list.length === 1 ? 'entry' : 'entries'}${this.query ? ' found' : ` (at most ${ADDRESS_BOOK_MAX})`}`;
    return html`<h1>Address Book</h1>
      <p class="hint">The destinations operators pick by name at the control panel.</p>
      ${mode.kind === 'add' || mode.kind === 'edit' ? nothing : formMessage(this.message)}
      ${this.entries.failure()}
      <div class="toolbar">
        <label for="q">Search</label>
        <input id="q" type="search" maxlength=${ADDRESS_BOOK_QUERY_MAX} placeholder="Part of a name or an address" .value=${this.query} @input=${this.onSearch} />
        <span class="count" data-test="entry-count">${count}</span>
        <button type="button" ?disabled=${mode.kind === 'add'} @click=${() => this.open({ kind: 'add' })}>Add Entry</button>
        <a class="button" href="/api/address-book.csv" download data-test="export-csv">Export CSV</a>
        <label class="button" for="importCsv">Import CSV</label>
        <input id="importCsv" class="file" type="file" accept=".csv,text/csv" ?disabled=${pending(this.busy)} @change=${this.onImport} />
      </div>
      ${mode.kind === 'add' ? html`<h2>Add Entry</h2>${this.renderForm(undefined, mode.errors)}` : nothing}
      <table data-test="address-book">
        <thead>
          <tr><th>Name</th><th>E-mail Address</th><th></th></tr>
        </thead>
        <tbody>
          ${list?.length === 0
            ? html`<tr><td colspan="3" data-test="no-entries">${this.query ? `No entry has “${this.query}” in its name or address.` : 'The address book is empty.'}</td></tr>`
            : nothing}
          ${(list ?? []).map((e) => this.renderEntry(e))}
        </tbody>
      </table>`;
  }

  private renderEntry(entry: AddressBookEntry): TemplateResult {
    const mode = this.mode;
    const opened = 'entry' in mode && mode.entry.id === entry.id;
    if (opened && mode.kind === 'edit') return html`<tr class="open"><td colspan="3">${this.renderForm(entry, mode.errors)}</td></tr>`;
    if (opened) {
      return html`<tr class="open">
        <td colspan="3">
          ${confirmStrip({
            label: 'Delete entry',
            test: 'delete-confirm',
            text: `Delete ${label(entry)} from the address book? Operators can no longer pick it at the panel.`,
            yes: 'Yes, Delete',
            busy: pending(this.busy),
            onCancel: () => this.open({ kind: 'list' }),
            onYes: () => this.change(() => api('DELETE /api/address-book/:id', { params: { id: entry.id } }), () => `${label(entry)} was deleted.`),
          })}
        </td>
      </tr>`;
    }
    return html`<tr data-test="entry" data-id=${entry.id}>
      <td data-test="entry-name">${entry.name}</td>
      <td data-test="entry-address">${entry.address}</td>
      <td class="row-actions">
        <button type="button" aria-label=${`Edit ${label(entry)}`} @click=${() => this.open({ kind: 'edit', entry })}>Edit</button>
        <button type="button" class="danger" aria-label=${`Delete ${label(entry)}`} @click=${() => this.open({ kind: 'delete', entry })}>Delete</button>
      </td>
    </tr>`;
  }

  /** Add (no entry) or Edit: the same two fields; the device's errors under them. */
  private renderForm(entry: AddressBookEntry | undefined, e: FieldErrors = {}): TemplateResult {
    return html`<form @submit=${(ev: SubmitEvent) => this.onSubmit(ev, entry)} novalidate data-test="entry-form">
      ${formMessage(this.message)}
      <div class="panel">
        ${row('name', 'Name', input('name', entry?.name ?? '', e['name']), e['name'], `The name operators look for at the panel (1–${ADDRESS_BOOK_NAME_MAX} characters).`)}
        ${row('address', 'E-mail Address', input('address', entry?.address ?? '', e['address'], { type: 'email', placeholder: 'name@example.com' }), e['address'])}
      </div>
      <div class="actions">
        <button type="button" @click=${() => this.open({ kind: 'list' })}>Cancel</button>
        <button class="primary" type="submit" ?disabled=${pending(this.busy)}>${entry ? 'Save' : 'Add'}</button>
      </div>
    </form>`;
  }

  static override styles = [
    sharedStyles,
    css`
      .toolbar input.file {
        position: absolute;
        width: 1px;
        height: 1px;
        opacity: 0;
      }
      .toolbar .count {
        flex: 1;
        color: var(--muted);
      }
      /* Fixed shares, so that the columns stay put while a search narrows the list. */
      th:first-child {
        width: 35%;
      }
      tr.open > td {
        background: #f7f8f9;
        padding: 10px;
      }
      tr.open .panel,
      tr.open .warning {
        margin: 0;
      }
      tr.open .actions {
        margin-bottom: 0;
      }
    `,
  ];
}

customElements.define('rui-address-book-page', AddressBookPage);
