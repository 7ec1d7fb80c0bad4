/**
 * Import/Export (Management, Administrator only): the settings to a file, and a file's settings
 * back into this device or the next one of a fleet. The file is read in the browser first, so the
 * admin sees what it holds and picks the parts to import (all but Device, whose name and location
 * belong to one printer); the device checks the whole import before it stores any of it.
 */
import { LitElement, css, html, nothing } from 'lit';
import { isSectionName, type SectionName } from '../../firmware/settings/schemas.ts';
import type { ApiError, ConfigurationFile } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { formMessage } from './form-fields.ts';
import { action, pending } from './kit/api-task.ts';
import { NAV_ITEMS } from './nav.ts';
import { sharedStyles } from './shared-styles.ts';

/** A part of the file by the name of its page (one the device does not know, by its own name). */
const partLabel = (name: string): string => NAV_ITEMS.find((i) => i.section === name)?.label ?? name;

/** Parts of a file not ticked at first: they describe one printer, not the fleet. */
const UNTICKED: ReadonlySet<string> = new Set(['device']);

export class ConfigurationPage extends LitElement {
  static override properties = { file: { state: true }, chosen: { state: true }, message: { state: true }, problems: { state: true } };

  declare file: (ConfigurationFile & { readonly fileName: string }) | undefined;
  /** The file's parts to import, as the file names them. */
  declare chosen: Set<string>;
  declare message: { ok: boolean; text: string } | undefined;
  declare problems: ApiError['fields'];
  /** The import on its way: the device checks every chosen part before it stores any. */
  private readonly importing = action(this, async (file: ConfigurationFile, sections: readonly SectionName[]) => {
    const answer = await api('POST /api/configuration', { body: { file, sections } });
    if (answer.ok) {
      this.problems = undefined;
      this.message = { ok: true, text: `Imported: ${answer.data.imported.map(partLabel).join(', ')}.` };
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
      <p class="hint">Saves every setting of this device to a file. Passwords and client secrets are left out: the device that imports the file keeps its own.</p>
      <div class="actions start"><a class="button" href="/api/configuration" download data-test="export-link">Export Settings</a></div>
      <h2>Import</h2>
      <p class="hint">Reads a file exported from this device or another. Choose the parts to import; nothing is stored unless every chosen setting is valid.</p>
      ${formMessage(this.message, 'import-message')} ${this.renderProblems()}
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

  private renderFile(file: ConfigurationFile & { readonly fileName: string }) {
    const parts = Object.keys(file.sections);
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
    this.chosen = new Set(Object.keys(file.sections).filter((name) => !UNTICKED.has(name)));
  };

  private readonly onImport = (): void => {
    if (!this.file) return;
    const { fileName: _name, ...file } = this.file;
    // A part this device does not know is no section to apply; the device still names it in the file.
    void this.importing.run([file, [...this.chosen].filter(isSectionName)]);
  };

  static override styles = [
    sharedStyles,
    css`
      .parts {
        display: flex;
        flex-wrap: wrap;
        gap: 6px 18px;
      }
      .problems {
        margin: 0 0 12px;
        color: var(--error);
      }
    `,
  ];
}

customElements.define('rui-configuration-page', ConfigurationPage);
