/**
 * Date/Time: the device clock as it runs now (and its last change), the time zone and sync mode
 * (`PUT /api/settings/datetime`), and setting the RTC by hand (`PUT /api/clock`, local time in
 * the device's time zone). NTP is stored but not yet acted on. A change that voids OAuth grants is
 * refused until confirmed (409 `confirm`): the device's question is shown, Set Anyway sends it
 * again with `confirm`.
 */
import { LitElement, html, nothing } from 'lit';
import { clockSetRequest, type ClockView } from '../../firmware/web/api-types.ts';
import type * as z from 'zod/mini';
import { api } from './api.ts';
import { confirmStrip, errorsFrom, formMessage, input, row, validate, type FieldErrors } from './form-fields.ts';
import { action, ApiTask, pending } from './kit/api-task.ts';
import { SECTION_FORMS } from './section-forms.ts';
import { sharedStyles } from './shared-styles.ts';
import { TickController } from './tick-controller.ts';
import { formatDelta, formatWall, toLocalInput } from './time-format.ts';
import './settings-form.ts';

const CLOCK_REFRESH_MS = 15_000;

/** Why the clock last moved, as an admin would say it (WallChangeReason in firmware/hal/clock.ts). */
const CHANGE_REASONS: Readonly<Record<string, string>> = {
  'admin-set': 'Set by an administrator',
  'tester-set': 'Set on the test bench (simulator)',
  'drift-changed': 'Clock rate changed',
  'battery-loss': 'Clock battery lost: restarted at the factory date',
  ntp: 'Corrected by the time server (NTP)',
};

export class DateTimePage extends LitElement {
  static override properties = {
    draft: { state: true },
    errors: { state: true },
    message: { state: true },
    ask: { state: true },
  };

  /** The datetime-local input's value; filled once from the device clock, then the admin's. */
  declare draft: string | undefined;
  declare errors: FieldErrors;
  declare message: { ok: boolean; text: string } | undefined;
  /** The device's question before a change that voids OAuth grants, and the change. */
  declare ask: { text: string; body: z.infer<typeof clockSetRequest> } | undefined;
  private readonly clock = new ApiTask(this, (_, call) => api('GET /api/clock', call), { everyMs: CLOCK_REFRESH_MS });
  private readonly setClock = action(this, async (body: z.infer<typeof clockSetRequest>) => {
    const result = await api('PUT /api/clock', { body });
    this.ask = undefined;
    if (!result.ok && result.error.error === 'confirm') {
      this.ask = { text: result.error.message, body: { ...body, confirm: true } };
      return;
    }
    if (!result.ok) {
      this.errors = errorsFrom(result.error);
      this.message = { ok: false, text: result.error.message };
      return;
    }
    void this.clock.set(result.data);
    this.message = { ok: true, text: `The device date/time was set to ${formatWall(result.data.wallMs, result.data.timeZone)}.` };
  });

  constructor() {
    super();
    this.errors = {};
    new TickController(this);
  }

  /** The device's wall time now: the last reading plus the time elapsed since. */
  private wallNowMs(clock: ClockView): number {
    return clock.wallMs + (performance.now() - this.clock.loadedAtMs);
  }

  protected override willUpdate(): void {
    const clock = this.clock.last;
    if (this.draft === undefined && clock) this.draft = toLocalInput(this.wallNowMs(clock), clock.timeZone);
  }

  private async onSetClock(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const checked = validate(clockSetRequest, { local: this.draft ?? '' });
    this.message = undefined;
    this.errors = checked.errors ?? {};
    if (checked.data) await this.setClock.run([checked.data]);
  }

  /** A new time zone changes the local reading: start the draft again from the device clock. */
  private async onZoneSaved(): Promise<void> {
    await this.clock.refresh();
    this.draft = undefined;
  }

  private onInput(event: InputEvent): void {
    const target = event.target as HTMLInputElement;
    if (target.id === 'local') this.draft = target.value;
  }

  private useComputerTime(): void {
    const tz = this.clock.last?.timeZone ?? 'UTC';
    this.draft = toLocalInput(Date.now(), tz);
  }

  override render() {
    const clock = this.clock.last;
    return html`<h1>Date/Time Settings</h1>
      <p class="note" role="note" data-test="page-note">
        NTP time synchronization arrives in a later firmware. The NTP settings are stored now; until then the device clock changes only
        when an administrator sets it below.
      </p>
      ${this.clock.view((c) => this.renderClock(c))}
      <rui-settings-form embedded .section=${'datetime'} .spec=${SECTION_FORMS.datetime} @rui-saved=${this.onZoneSaved}></rui-settings-form>
      <h2>Set Date/Time</h2>
      ${formMessage(this.message)}
      ${this.ask
        ? confirmStrip({
            label: 'Set Date/Time',
            test: 'clock-confirm',
            text: this.ask.text,
            yes: 'Set Anyway',
            busy: pending(this.setClock),
            onCancel: () => (this.ask = undefined),
            onYes: () => void this.setClock.run([this.ask!.body]),
          })
        : nothing}
      <form @submit=${this.onSetClock} @input=${this.onInput} novalidate data-test="set-clock-form">
        <div class="panel">
          ${row(
            'local',
            'New Date/Time',
            html`${input('local', this.draft ?? '', this.errors['local'], { type: 'datetime-local', step: 1 })}
              <button type="button" @click=${this.useComputerTime}>Use This Computer's Time</button>`,
            this.errors['local'],
            `In the device's time zone (${clock?.timeZone ?? '…'}). Check the date and time before setting up OAuth 2.0: changing them afterwards requires registering again.`,
          )}
        </div>
        <div class="actions"><button class="primary" type="submit" ?disabled=${pending(this.setClock) || !clock}>Set Date/Time</button></div>
      </form>`;
  }

  private renderClock(clock: ClockView) {
    const change = clock.lastChange;
    return html`<h2>Current Date/Time</h2>
      ${clock.plausible
        ? nothing
        : html`<p class="warning" role="alert" data-test="clock-warning">
            ⚠ The device clock is not set (it reads a date before this firmware was built). Set the date and time below.
          </p>`}
      <div class="panel">
        <div class="row">
          <span class="label">Device Date/Time</span>
          <span class="cell mono" data-test="device-time">${formatWall(this.wallNowMs(clock), clock.timeZone)}</span>
        </div>
        <div class="row"><span class="label">Time Zone</span><span class="cell" data-test="device-time-zone">${clock.timeZone}</span></div>
        <div class="row">
          <span class="label">Last Change</span>
          <span class="cell" data-test="last-change">
            ${change
              ? html`${CHANGE_REASONS[change.reason] ?? change.reason}: ${formatWall(change.fromWallMs, clock.timeZone)} →
                ${formatWall(change.toWallMs, clock.timeZone)} (${formatDelta(change.toWallMs - change.fromWallMs)})`
              : 'None since the device started'}
          </span>
        </div>
      </div>`;
  }

  static override styles = sharedStyles;
}

customElements.define('rui-datetime-page', DateTimePage);
