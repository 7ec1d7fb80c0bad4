/**
 * E-mail: the settings form, and three actions on the values the form holds now, saved or not:
 * Check Connection (the ladder DNS → … → RCPT TO, after a new OAuth access token when OAuth is
 * chosen; no message sent), Send Test E-mail, and
 * Validate and Save (stored only when the test message was accepted). Each result links to the
 * transcript the device recorded. A secret is sent only when the admin typed a new one; otherwise
 * the device uses the stored one (docs/api.md, "E-mail sending").
 */
import { Task } from '@lit/task';
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type * as z from 'zod/mini';
import { SMTP_INTERACTIVE_DEADLINE_MS } from '../../firmware/defaults.ts';
import { emailAddress } from '../../firmware/settings/fields.ts';
import { CHECK_STEPS, CHECK_STEPS_GRAPH, CHECK_STEPS_OAUTH, type CheckConnectionResult, type CheckStep, type CheckStepResult, type emailActionRequest, type SendResultView } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import type { EmailTranscripts } from './email-transcripts.ts';
import { formMessage, input, row, validate } from './form-fields.ts';
import { pending } from './kit/api-task.ts';
import { unwrap, type HttpError, type HttpResult } from './kit/http-client.ts';
import { SECTION_FORMS } from './section-forms.ts';
import type { SettingsForm } from './settings-form.ts';
import { sharedStyles } from './shared-styles.ts';
import './email-transcripts.ts';
import './settings-form.ts';

type Action = 'check' | 'test' | 'validate';

type Outcome =
  | { readonly action: 'check'; readonly result: CheckConnectionResult }
  | { readonly action: 'test' | 'validate'; readonly result: SendResultView & { readonly saved?: boolean } };

/** The ladder's rungs as an admin reads them. */
const STEP_LABELS: Readonly<Record<CheckStep, string>> = {
  token: 'OAuth 2.0 token',
  dns: 'DNS',
  tcp: 'TCP connection',
  tls: 'TLS',
  certificate: 'Server certificate',
  ehlo: 'EHLO',
  auth: 'Authentication',
  mail: 'MAIL FROM',
  rcpt: 'RCPT TO',
  mailbox: 'Mailbox',
  draft: 'Draft',
};

const BUSY_TEXT: Readonly<Record<Action, string>> = {
  check: 'Checking the connection…',
  test: 'Sending the test e-mail…',
  validate: 'Sending the test e-mail; the settings are saved if the server accepts it…',
};

/** The status column of a rung. */
const STATUS_TEXT: Readonly<Record<CheckStepResult['status'], string>> = { ok: '✓ OK', warning: '⚠ Warning', failed: '✗ Failed', skipped: 'skipped' };

/** The two actions that send a test message. */
const SEND_ROUTES = {
  test: 'POST /api/email/test',
  validate: 'POST /api/email/validate-and-save',
} as const;

export class EmailPage extends LitElement {
  static override properties = {
    to: { state: true },
    toError: { state: true },
    message: { state: true },
  };

  /** The shared "Test Recipient" field. */
  declare to: string;
  declare toError: string | undefined;
  /** What the page refused before asking the device (a recipient or settings that are not valid). */
  declare message: { ok: boolean; text: string } | undefined;
  /** The action last asked for. */
  private asked: Action = 'check';
  /** The action on the device: pending while it works, then its outcome or the device's refusal. */
  private readonly outcome = new Task(this, {
    autoRun: false,
    task: async ([action, body]: readonly [Action, z.infer<typeof emailActionRequest>]): Promise<Outcome> =>
      action === 'check'
        ? { action, result: await this.settle(api('POST /api/email/check', { body })) }
        : { action, result: await this.settle(api(SEND_ROUTES[action], { body })) },
    onComplete: (outcome) => {
      this.reveal('[data-test=check-summary], [data-test=test-result]');
      if (outcome.action === 'validate' && outcome.result.saved) void this.form?.reloadSaved();
    },
  });

  constructor() {
    super();
    this.to = '';
  }

  private get form(): SettingsForm | null {
    return this.renderRoot.querySelector('rui-settings-form');
  }

  private get transcripts(): EmailTranscripts | null {
    return this.renderRoot.querySelector('rui-email-transcripts');
  }

  private run(action: Action): void {
    this.message = undefined;
    this.toError = undefined;
    const to = this.to.trim();
    // Check Connection may go without a recipient; a test message needs one.
    if (to !== '' || action !== 'check') {
      const checked = validate(emailAddress, to);
      if (checked.errors) this.toError = to === '' ? 'Enter the address that should receive the test e-mail.' : (checked.errors['(body)'] ?? 'Not valid.');
    }
    const settings = this.form?.readSettings();
    if (!settings) this.message = { ok: false, text: 'Some settings above are not valid. Correct the marked fields first.' };
    if (!settings || this.toError) return;
    this.asked = action;
    void this.outcome.run([action, { settings, ...(to === '' ? {} : { to }) }]);
    this.reveal('[data-test=action-busy]');
  }

  /** The device's answer; a refusal's fields go to their inputs (`to`, or a settings field) before it is thrown. */
  private async settle<T>(answer: Promise<HttpResult<T>>): Promise<T> {
    const result = await answer;
    void this.transcripts?.reload();
    if (!result.ok) {
      // `to` is the recipient; any other path names a settings field (with or without `settings.`).
      const fields = result.error.fields ?? [];
      this.toError = fields.find((f) => f.path === 'to')?.message;
      const settingsErrors = Object.fromEntries(fields.filter((f) => f.path !== 'to').map((f) => [f.path.replace(/^settings\./, ''), f.message]));
      if (this.form && Object.keys(settingsErrors).length > 0) this.form.errors = settingsErrors;
    }
    return unwrap(result);
  }

  /** Scroll what the admin waits for into sight once it is rendered (the actions sit below a long form). */
  private reveal(selector: string): void {
    this.requestUpdate();
    void this.updateComplete.then(() => this.renderRoot.querySelector(selector)?.scrollIntoView({ block: 'nearest' }));
  }

  override render() {
    const busy = pending(this.outcome);
    return html`<rui-settings-form .section=${'email'} .spec=${SECTION_FORMS.email}></rui-settings-form>
      <h2>Check and Test</h2>
      <p class="hint">These use the values in the form above, saved or not. A password is sent only if you typed a new one; otherwise the stored one is used.</p>
      ${formMessage(this.message ?? this.outcome.render({ error: (e) => ({ ok: false, text: (e as HttpError).message }) }), 'action-message')}
      <div class="panel" @input=${(e: InputEvent) => (this.to = (e.target as HTMLInputElement).value)}>
        ${row(
          'testTo',
          'Test Recipient',
          input('testTo', this.to, this.toError, { type: 'email', autocomplete: 'email' }),
          this.toError,
          'Receives the test e-mail. Check Connection only asks the server whether it would accept this address (optional there; no message is sent).',
        )}
      </div>
      <div class="actions start" aria-busy=${busy ? 'true' : 'false'}>
        <button type="button" ?disabled=${busy} @click=${() => this.run('check')}>Check Connection</button>
        <button type="button" ?disabled=${busy} @click=${() => this.run('test')}>Send Test E-mail</button>
        <button type="button" class="primary" ?disabled=${busy} @click=${() => this.run('validate')}>Validate and Save</button>
      </div>
      ${this.outcome.render({
        pending: () => html`<p class="busy" role="status" data-test="action-busy"><span class="spinner"></span>${BUSY_TEXT[this.asked]} This can take up to ${SMTP_INTERACTIVE_DEADLINE_MS / 1000} seconds.</p>`,
        complete: (outcome) =>
          html`${this.renderOutcome(outcome)}
          ${outcome.result.clockWarning ? html`<p class="warning" role="alert" data-test="clock-warning">⚠ ${outcome.result.clockWarning}</p>` : nothing}
          ${'certificateWarning' in outcome.result ? html`<p class="warning" role="alert" data-test="certificate-warning">⚠ ${outcome.result.certificateWarning}</p>` : nothing}`,
      })}
      <rui-email-transcripts></rui-email-transcripts>`;
  }

  private renderOutcome(outcome: Outcome): TemplateResult {
    if (outcome.action === 'check') return this.renderLadder(outcome.result);
    const r = outcome.result;
    const saved =
      outcome.action === 'validate'
        ? html`<p class=${`saved ${r.saved ? 'yes' : 'no'}`} data-test="save-result" data-saved=${r.saved ? 'true' : 'false'}>
            ${r.saved ? 'The settings were saved.' : 'The settings were NOT saved: they are stored only when the test e-mail is accepted.'}
          </p>`
        : nothing;
    return html`<div class=${`msg result ${r.ok ? 'ok' : 'error'}`} role=${r.ok ? 'status' : 'alert'} data-test="test-result" data-ok=${r.ok ? 'true' : 'false'}>
      <div>
        ${r.ok
          ? html`Test e-mail accepted by the server${r.messageId ? html` (Message-ID <span class="mono">${r.messageId}</span>)` : nothing}.`
          : html`${r.code ? html`<b>${r.code}</b> ` : nothing}${r.message}${r.remedy ? html`<div class="remedy">What to do: ${r.remedy}</div>` : nothing}`}
        ${saved}
      </div>
      ${this.transcriptLink(r.transcriptId)}
    </div>`;
  }

  private renderLadder(result: CheckConnectionResult): TemplateResult {
    const byStep = new Map(result.steps.map((s) => [s.step, s]));
    const rungs = byStep.has('mailbox') ? CHECK_STEPS_GRAPH : byStep.has('token') ? CHECK_STEPS_OAUTH : CHECK_STEPS;
    const steps: CheckStepResult[] = rungs.map((step) => byStep.get(step) ?? { step, status: 'skipped', message: 'Not reached.' });
    const failed = steps.find((s) => s.status === 'failed');
    return html`<div class=${`msg result ${result.ok ? 'ok' : 'error'}`} role=${result.ok ? 'status' : 'alert'} data-test="check-summary" data-ok=${result.ok ? 'true' : 'false'}>
        <div>
          ${result.ok
            ? 'Connection check passed: the server would take mail sent with these settings. No message was sent.'
            : `Connection check failed${failed ? ` at “${STEP_LABELS[failed.step]}”` : ''}.`}
        </div>
        ${this.transcriptLink(result.transcriptId)}
      </div>
      <table class="ladder" data-test="check-ladder">
        <thead>
          <tr><th>Step</th><th>Result</th><th>Details</th></tr>
        </thead>
        <tbody>
          ${steps.map(
            (s) => html`<tr data-test="check-step" data-step=${s.step} data-status=${s.status} class=${s.status}>
              <td class="nowrap">${STEP_LABELS[s.step]}</td>
              <td class="nowrap status">${STATUS_TEXT[s.status]}</td>
              <td>
                ${s.code ? html`<b>${s.code}</b> ` : nothing}${s.message}
                ${s.status === 'failed' && s.remedy ? html`<div class="remedy">What to do: ${s.remedy}</div>` : nothing}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>`;
  }

  /** Nothing when the device did not start a conversation (e.g. the settings are incomplete). */
  private transcriptLink(id: string): TemplateResult | typeof nothing {
    if (!id) return nothing;
    return html`<a
      class="transcript-link"
      href=${`/api/email/transcripts/${encodeURIComponent(id)}`}
      data-test="view-transcript"
      @click=${(e: MouseEvent) => {
        e.preventDefault();
        this.transcripts?.show(id);
      }}
      >View transcript</a
    >`;
  }

  static override styles = [
    sharedStyles,
    css`
      .busy {
        display: flex;
        align-items: center;
        gap: 8px;
        color: #3d4650;
      }
      .spinner {
        width: 12px;
        height: 12px;
        border: 2px solid var(--note-line);
        border-top-color: var(--accent);
        border-radius: 50%;
        animation: spin 0.9s linear infinite;
      }
      @keyframes spin {
        to {
          transform: rotate(360deg);
        }
      }
      .result {
        display: flex;
        justify-content: space-between;
        align-items: flex-start;
        gap: 16px;
      }
      .transcript-link {
        flex: none;
      }
      .saved {
        margin: 4px 0 0;
        font-weight: 600;
      }
      .ladder {
        margin-bottom: 14px;
      }
      .ladder tr.ok .status {
        color: var(--ok);
        font-weight: 600;
      }
      .ladder tr.failed .status {
        color: var(--error);
        font-weight: 600;
      }
      .ladder tr.warning {
        background: var(--warn-bg);
      }
      .ladder tr.skipped td {
        color: #7b838c;
      }
      input[type='email'] {
        min-width: 320px;
      }
    `,
  ];
}

customElements.define('rui-email-page', EmailPage);
