/**
 * Import/Export (Management, Administrator only): the settings, CA certificates, address book and
 * accounts (without passwords) to a file, and a file's parts back into this device or the next
 * one of a fleet. The file is read in the browser first, so the admin sees what it holds and picks
 * the parts to import (all but Device, whose name and location belong to one printer); the device
 * checks the whole import before it stores any of it. An account the device creates gets an
 * initial password, shown here once.
 */
import { LitElement, css, html, nothing } from 'lit';
import { isSectionName, type SectionName } from '../../firmware/settings/schemas.ts';
import type { ApiError, ConfigurationFile, ConfigurationImportResult, ConfigurationPart } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { formMessage } from './form-fields.ts';
import { action, pending } from './kit/api-task.ts';
import { NAV_ITEMS } from './nav.ts';
import { sharedStyles } from './shared-styles.ts';

/** The parts besides the sections, as the page names them. */
const PARTS: Readonly<Record<ConfigurationPart, string>> = { caCertificates: 'CA Certificates', addressBook: 'Address Book', accounts: 'Accounts (no passwords)' };

/** A part of the file by the name of its page (one the device does not know, by its own name). */
const partLabel = (name: string): string => PARTS[name as ConfigurationPart] ?? NAV_ITEMS.find((i) => i.section === name)?.label ?? name;

/** Parts of a file not ticked at first: they describe one printer, not the fleet. */
const UNTICKED: ReadonlySet<string> = new Set(['device']);

export class ConfigurationPage extends LitElement {
  static override properties = { file: { state: true }, chosen: { state: true }, message: { state: true }, problems: { state: true }, passwords: { state: true } };

  declare file: (ConfigurationFile & { readonly fileName: string }) | undefined;
  /** The file's parts to import, as the file names them. */
  declare chosen: Set<string>;
  declare message: { ok: boolean; text: string } | undefined;
  declare problems: ApiError['fields'];
  /** The initial passwords of the accounts the import created: shown once. */
  declare passwords: ConfigurationImportResult['initialPasswords'] | undefined;
  /** The import on its way: the device checks every chosen part before it stores any. */
  private readonly importing = action(this, async (file: ConfigurationFile, sections: readonly SectionName[], parts: readonly ConfigurationPart[]) => {
    const answer = await api('POST /api/configuration', { body: { file, sections, parts } });
    this.passwords = undefined;
    if (answer.ok) {
      this.problems = undefined;
      this.passwords = answer.data.initialPasswords;
      this.message = { ok: true, text: `Imported: ${[...answer.data.imported, ...answer.data.parts].map(partLabel).join(', ')}.` };
    } else {
      this.problems = answer.error.fields;
      this.message = { ok: false, text: answer.error.message };
    }
  });

  constructor() {
    super();
    this.chosen = new Set();
  }

  override render() {
    return html`<h1>Import/Export</h1>
      <h2>Export</h2>
      <p class="hint" data-test="export-holds">
        The file holds every setting, the CA certificates, the address book and the accounts (names, roles, addresses). Passwords and client secrets are left out: the device
        that imports the file keeps its own, and each account it creates gets an initial password that must be changed at the first login.
      </p>
      <div class="actions start"><a class="button" href="/api/configuration" download data-test="export-link">Export Settings</a></div>
      <h2>Import</h2>
      <p class="hint">
        Reads a file exported from this device or another. Choose the parts to import; nothing is stored unless every chosen part is valid. CA Certificates replace this
        device's CA store; address book entries and accounts are added (an existing account takes the file's role and address, and keeps its password).
      </p>
      ${formMessage(this.message, 'import-message')} ${this.renderProblems()} ${this.renderPasswords()}
      <div class="panel">
        <div class="row">
          <label class="label" for="configFile">Settings File</label>
          <span class="cell"><input id="configFile" type="file" accept=".json,application/json" @change=${this.onFile} /></span>
        </div>
      </div>
      ${this.file ? this.renderFile(this.file) : nothing}`;
  }

  private renderProblems() {
    if (!this.problems?.length) return nothing;
    return html`<ul class="problems" data-test="import-problems">
      ${this.problems.map((p) => html`<li><code>${p.path}</code>: ${p.message}</li>`)}
    </ul>`;
  }

  private renderPasswords() {
    if (!this.passwords?.length) return nothing;
    return html`<p class="note" role="note">Initial passwords, shown only now: give each user theirs; it must be changed at the first login.</p>
      <table data-test="initial-passwords">
        ${this.passwords.map((p) => html`<tr><td>${p.name}</td><td class="mono">${p.password}</td></tr>`)}
      </table>`;
  }

  private renderFile(file: ConfigurationFile & { readonly fileName: string }) {
    const parts = [...Object.keys(file.sections), ...Object.keys(file.parts ?? {})];
    return html`<div class="panel" data-test="import-file">
        <div class="row"><span class="label">File</span><span class="cell">${file.fileName}</span></div>
        <div class="row">
          <span class="label">Exported From</span>
          <span class="cell">${file.deviceName ?? 'unknown device'}${file.exportedAt ? `, ${file.exportedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : ''}${file.firmwareVersion ? `, firmware ${file.firmwareVersion}` : ''}</span>
        </div>
        ${file.secretsOmitted?.length
          ? html`<div class="row"><span class="label">Left Out</span><span class="cell">${file.secretsOmitted.join(', ')} (this device keeps its own)</span></div>`
          : nothing}
        <div class="row">
          <span class="label">Parts to Import</span>
          <span class="cell parts">
            ${parts.map(
              (name) =>
                html`<label
                  ><input type="checkbox" data-part=${name} .checked=${this.chosen.has(name)} @change=${(e: Event) => this.toggle(name, (e.target as HTMLInputElement).checked)} />
                  ${partLabel(name)}</label
                >`,
            )}
          </span>
        </div>
      </div>
      <div class="actions"><button class="primary" type="button" ?disabled=${pending(this.importing) || this.chosen.size === 0} @click=${this.onImport}>Import</button></div>`;
  }

  private toggle(name: string, on: boolean): void {
    const next = new Set(this.chosen);
    if (on) next.add(name);
    else next.delete(name);
    this.chosen = next;
  }

  private readonly onFile = async (event: Event): Promise<void> => {
    const input = event.target as HTMLInputElement;
    const picked = input.files?.[0];
    this.message = undefined;
    this.problems = undefined;
    this.file = undefined;
    this.passwords = undefined;
    if (!picked) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await picked.text());
    } catch {
      this.message = { ok: false, text: `${picked.name} is not a settings file: it is not JSON.` };
      return;
    }
    const file = parsed as Partial<ConfigurationFile>;
    if (typeof file !== 'object' || file === null || file.format !== 'mfp-send-settings' || typeof file.sections !== 'object' || file.sections === null) {
      this.message = { ok: false, text: `${picked.name} is not a settings file exported by this kind of device.` };
      return;
    }
    this.file = { ...(file as ConfigurationFile), fileName: picked.name };
    this.chosen = new Set([...Object.keys(file.sections), ...Object.keys(file.parts ?? {})].filter((name) => !UNTICKED.has(name)));
  };

  private readonly onImport = (): void => {
    if (!this.file) return;
    const { fileName: _name, ...file } = this.file;
    // A part this device does not know is not applied; the device still names it in the file.
    const chosen = [...this.chosen];
    void this.importing.run([file, chosen.filter(isSectionName), chosen.filter((p): p is ConfigurationPart => p in PARTS)]);
  };

  static override styles = [
    sharedStyles,
    css`
      .parts {
        display: flex;
        flex-wrap: wrap;
        gap: 6px 18px;
      }
      .problems,
      table {
        margin: 0 0 12px;
      }
      .problems {
        color: var(--error);
      }
    `,
  ];
}

customElements.define('rui-configuration-page', ConfigurationPage);
