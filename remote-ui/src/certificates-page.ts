/**
 * Certificates, worded as printers word them: "CA Certificate Settings" (the CA certificates the
 * device trusts for mail and OAuth servers: list, import, delete, restore the factory set) and
 * "Key and Certificate Settings" (the device's own key pair and self-signed certificate for the
 * Remote UI over HTTPS). Files are read in the browser: PEM text goes as text, anything else as
 * base64 DER; the device decides what it accepts and its refusal is shown as it is.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { CaImportResult } from '../../firmware/web/api-routes.ts';
import { caImportRequest, type CertificateView } from '../../firmware/web/api-types.ts';
import type * as z from 'zod/mini';
import { api } from './api.ts';
import { DeviceZone } from './device-zone.ts';
import { confirmStrip, formMessage, row, validate } from './form-fields.ts';
import { ApiTask, oneAtATime, pending } from './kit/api-task.ts';
import { SECTION_FORMS } from './section-forms.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatWall } from './time-format.ts';
import './settings-form.ts';

type Confirm = { kind: 'delete'; cert: CertificateView } | { kind: 'restore' } | { kind: 'regenerate' };
type Message = { ok: boolean; text: string } | undefined;

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/;

function describeImport(result: CaImportResult): string {
  const subjects = (list: readonly CertificateView[]) => list.map((c) => c.subject).join('; ');
  const present = result.alreadyPresent;
  const parts: string[] = [];
  if (result.added.length > 0) parts.push(`Imported ${result.added.length === 1 ? 'the CA certificate' : `${result.added.length} CA certificates`}: ${subjects(result.added)}.`);
  if (present.length > 0) parts.push(`Already installed (not imported again): ${subjects(present)}.`);
  return parts.join(' ') || 'Nothing was imported.';
}

/** A file as the import request carries it: PEM text when it looks like PEM, else base64 of its bytes (DER). */
export async function certificateFileBody(file: File): Promise<{ pem: string } | { derBase64: string }> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  if (PEM_BEGIN.test(text)) return { pem: text };
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { derBase64: btoa(binary) };
}

export class CertificatesPage extends LitElement {
  static override properties = {
    confirm: { state: true },
    caMessage: { state: true },
    importMessage: { state: true },
    deviceMessage: { state: true },
  };

  declare confirm: Confirm | undefined;
  /** Outcome of delete / restore, above the CA table. */
  declare caMessage: Message;
  /** Outcome of an import, next to the import form (the device's refusal verbatim). */
  declare importMessage: Message;
  declare deviceMessage: Message;
  private readonly cas = new ApiTask(this, (_, call) => api('GET /api/certificates/ca', call));
  private readonly device = new ApiTask(this, (_, call) => api('GET /api/certificates/device', call));
  private readonly zone = new DeviceZone(this);
  /** Import, delete, restore or regenerate: one at a time, its buttons off meanwhile. */
  private readonly change = oneAtATime(this);

  private get timeZone(): string {
    return this.zone.name;
  }

  /** Validity as an admin reads it: date and minute in the device's zone. */
  private when(ms: number): string {
    return formatWall(ms, this.timeZone).slice(0, 16);
  }

  private async onImport(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const file = (form.elements.namedItem('caFile') as HTMLInputElement).files?.[0];
    const pasted = (form.elements.namedItem('caPem') as HTMLTextAreaElement).value.trim();
    this.importMessage = undefined;
    if (!file && !pasted) {
      this.importMessage = { ok: false, text: 'Choose a certificate file or paste the certificate (PEM) text.' };
      return;
    }
    if (file && pasted) {
      this.importMessage = { ok: false, text: 'Choose a file or paste PEM text, not both.' };
      return;
    }
    const checked = validate(caImportRequest, file ? await certificateFileBody(file) : { pem: pasted });
    if (!checked.data) {
      this.importMessage = { ok: false, text: 'This is too large for one import. Import the certificates a few at a time.' };
      return;
    }
    await this.change.run([() => this.importCertificates(checked.data, form)]);
  }

  private async importCertificates(body: z.infer<typeof caImportRequest>, form: HTMLFormElement): Promise<void> {
    const result = await api('POST /api/certificates/ca', { body });
    if (!result.ok) {
      this.importMessage = { ok: false, text: result.error.message };
      return;
    }
    form.reset();
    this.importMessage = { ok: true, text: describeImport(result.data) };
    void this.cas.refresh();
  }

  private async onConfirmed(confirm: Confirm): Promise<void> {
    if (confirm.kind === 'regenerate') {
      const result = await api('POST /api/certificates/device/regenerate', { body: {} });
      this.confirm = undefined;
      if (!result.ok) {
        this.deviceMessage = { ok: false, text: result.error.message };
        return;
      }
      void this.device.set(result.data);
      this.deviceMessage = { ok: true, text: 'A new key and certificate were generated. The Remote UI serves them from the next power-on (when HTTPS is on).' };
      return;
    }
    const result =
      confirm.kind === 'delete'
        ? await api('DELETE /api/certificates/ca/:id', { params: { id: confirm.cert.id } })
        : await api('POST /api/certificates/ca/restore-factory', { body: {} });
    this.confirm = undefined;
    if (!result.ok) {
      this.caMessage = { ok: false, text: result.error.message };
      return;
    }
    this.caMessage = { ok: true, text: confirm.kind === 'delete' ? `The CA certificate "${confirm.cert.subject}" was deleted.` : 'The factory CA certificates were restored.' };
    void this.cas.refresh();
  }

  override render() {
    return html`<h1>Certificate Settings</h1>
      ${this.renderCaPart()} ${this.renderDevicePart()}
      <rui-settings-form embedded .section=${'certificates'} .spec=${SECTION_FORMS.certificates}></rui-settings-form>`;
  }

  private renderCaPart(): TemplateResult {
    const list = this.cas.last;
    const confirm = this.confirm;
    return html`<h2>CA Certificate Settings</h2>
      <p class="hint">The device trusts a mail or OAuth server when its certificate chains to one of these CA certificates.</p>
      ${formMessage(this.caMessage, 'ca-message')}
      ${this.cas.failure()}
      ${confirm?.kind === 'delete'
        ? this.renderConfirm(
            `Delete the CA certificate "${confirm.cert.subject}"? Servers whose certificates it signed will no longer be trusted.`,
            'Yes, Delete',
            'delete-confirm',
          )
        : nothing}
      ${confirm?.kind === 'restore'
        ? this.renderConfirm(
            'Restore the CA certificates installed at the factory? Certificates you imported are deleted, and deleted factory certificates come back.',
            'Yes, Restore',
            'restore-confirm',
          )
        : nothing}
      <div class="toolbar">
        <span>${list ? `${list.length} CA certificate${list.length === 1 ? '' : 's'}` : 'Reading the CA certificates…'}</span>
        <button type="button" ?disabled=${pending(this.change)} @click=${() => this.ask({ kind: 'restore' })}>Restore Factory Certificates</button>
      </div>
      <table data-test="ca-table">
        <thead>
          <tr><th>Subject</th><th>Issuer</th><th>Valid From (${this.timeZone})</th><th>Valid To</th><th>Key Type</th><th></th></tr>
        </thead>
        <tbody>
          ${list?.length === 0
            ? html`<tr><td colspan="6" data-test="no-ca">No CA certificates: the device trusts no mail or OAuth server until one is imported.</td></tr>`
            : nothing}
          ${(list ?? []).map(
            (c) => html`<tr data-test="ca-row" data-id=${c.id} class=${c.expired ? 'expired' : ''}>
              <td class="dn">
                ${c.subject}
                ${c.factory ? html`<span class="badge" data-test="badge-factory">Factory</span>` : nothing}
                ${c.expired ? html`<span class="badge expired" data-test="badge-expired">Expired</span>` : nothing} ${expiringBadge(c)}
              </td>
              <td class="dn">${c.issuer}</td>
              <td class="mono nowrap">${this.when(c.notBeforeMs)}</td>
              <td class="mono nowrap">${this.when(c.notAfterMs)}</td>
              <td class="nowrap">${c.keyType}</td>
              <td class="nowrap">
                <button type="button" class="danger small" aria-label=${`Delete ${c.subject}`} ?disabled=${pending(this.change)} @click=${() => this.ask({ kind: 'delete', cert: c })}>
                  Delete
                </button>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
      <h2>Import CA Certificate</h2>
      ${formMessage(this.importMessage, 'import-message')}
      <form @submit=${this.onImport} novalidate data-test="ca-import-form">
        <div class="panel">
          ${row('caFile', 'Certificate File', html`<input id="caFile" name="caFile" type="file" accept=".pem,.crt,.cer,.der" />`, undefined, 'PEM (.pem, .crt) or DER (.cer, .der). A file may hold several certificates.')}
          ${row('caPem', 'Or Paste PEM Text', html`<textarea id="caPem" name="caPem" rows="5" spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----"></textarea>`)}
        </div>
        <div class="actions"><button class="primary" type="submit" ?disabled=${pending(this.change)}>Import</button></div>
      </form>`;
  }

  private renderDevicePart(): TemplateResult {
    const cert = this.device.last;
    const field = (label: string, test: string, value: unknown) =>
      html`<div class="row"><span class="label">${label}</span><span class="cell" data-test=${test}>${value}</span></div>`;
    return html`<h2>Key and Certificate Settings</h2>
      <p class="hint">The device's own key pair and self-signed certificate, used when the Remote UI is served over HTTPS.</p>
      ${formMessage(this.deviceMessage, 'device-message')}
      ${this.device.failure()}
      ${this.confirm?.kind === 'regenerate'
        ? this.renderConfirm(
            'Generate a new key pair and certificate? The old key is discarded. The new certificate is served from the next power-on; browsers will ask again to trust it.',
            'Yes, Regenerate',
            'regenerate-confirm',
          )
        : nothing}
      ${cert
        ? html`<div class="panel" data-test="device-certificate">
            ${field('Subject', 'device-cert-subject', cert.subject)} ${field('Issuer', 'device-cert-issuer', cert.issuer)}
            ${field('Valid From', 'device-cert-from', html`<span class="mono">${formatWall(cert.notBeforeMs, this.timeZone)} (${this.timeZone})</span>`)}
            ${field(
              'Valid To',
              'device-cert-to',
              html`<span class="mono">${formatWall(cert.notAfterMs, this.timeZone)} (${this.timeZone})</span>
                ${cert.expired ? html`<span class="badge expired" data-test="badge-expired">Not valid now: regenerate it</span>` : expiringBadge(cert)}`,
            )}
            ${field('Key Type', 'device-cert-key', cert.keyType)}
            ${field('SHA-256 Fingerprint', 'device-cert-fingerprint', html`<span class="fingerprint">${cert.id}</span>`)}
          </div>`
        : this.device.error ? nothing : html`<p>Reading the device certificate…</p>`}
      <div class="actions">
        ${cert?.pem
          ? html`<a class="download" href=${`data:application/x-pem-file;charset=utf-8,${encodeURIComponent(cert.pem)}`} download="device-certificate.pem" data-test="device-cert-download"
              >Download Certificate (PEM)</a
            >`
          : nothing}
        <button type="button" ?disabled=${pending(this.change) || !cert} @click=${() => this.ask({ kind: 'regenerate' })}>Regenerate Key and Certificate</button>
      </div>`;
  }

  private ask(confirm: Confirm): void {
    this.confirm = confirm;
    this.caMessage = undefined;
    this.deviceMessage = undefined;
  }

  private renderConfirm(text: string, yes: string, test: string): TemplateResult {
    const confirm = this.confirm;
    return confirmStrip({
      label: yes.replace('Yes, ', ''),
      test,
      text,
      yes,
      busy: pending(this.change),
      onCancel: () => (this.confirm = undefined),
      onYes: () => confirm && void this.change.run([() => this.onConfirmed(confirm)]),
    });
  }

  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        justify-content: space-between;
        gap: var(--space-3);
        margin: 6px 0;
        color: var(--muted);
      }
      .dn {
        overflow-wrap: anywhere;
      }
      .badge {
        display: inline-block;
        margin-left: 6px;
        padding: 0 6px;
        border: 1px solid var(--note-line);
        border-radius: 8px;
        background: var(--note-bg);
        font-size: 11px;
        color: #2f4a66;
        white-space: nowrap;
      }
      .badge.expiring {
        border-color: var(--warn-line);
        background: var(--warn-bg);
        color: #6b4b00;
      }
      .badge.expired {
        border-color: var(--error-line);
        background: var(--error-bg);
        color: var(--error);
      }
      tr.expired td {
        color: #7b838c;
      }
      .fingerprint {
        font: 11px var(--mono);
        overflow-wrap: anywhere;
      }
      .actions {
        align-items: center;
      }
    `,
  ];
}

/** "Expires in N days" when the end is near (the device says when: CertificateView.expiresInDays). */
function expiringBadge(cert: CertificateView) {
  const days = cert.expiresInDays;
  if (days === undefined) return nothing;
  return html`<span class="badge expiring" data-test="badge-expiring">Expires ${days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`}</span>`;
}

customElements.define('rui-certificates-page', CertificatesPage);
