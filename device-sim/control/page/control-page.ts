/**
 * The tester's bench (`/control/`): the device clock against the host clock, levers that jump,
 * set, skew or reset the RTC, the power switch, the label on the device, and the device's events
 * as they happen (polled every second); below them the faults in force (faults-section.ts, from
 * the same polled state), every lever of the bench as a form (lever-catalogue.ts), and the
 * emulated identity services' directories (identity-services.ts). No login: the bench listens on loopback only.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { RTC_DRIFT_MAX_PPM, RTC_FACTORY_WALL_MS, WALL_PLAUSIBLE_AFTER_MS } from '../../../firmware/defaults.ts';
import { action, ApiTask, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { describeError, type HttpResult } from '../../../remote-ui/src/kit/http-client.ts';
import type { ClockAction } from '../sim-routes.ts';
import type { SimEvent, SimState } from '../sim-state.ts';
import { formatOffset, formatUtc } from './bench-time.ts';
import { simApi } from './sim-api.ts';
import { benchFormStyles, benchFrameStyles } from './bench-styles.ts';
import './identity-services.ts';
import './faults-section.ts';
import './lever-catalogue.ts';
import { WORLD_CHANGED } from './lever-form.ts';

const POLL_MS = 1000;
const EVENTS_KEPT = 500;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

type LogRow = { readonly kind: 'event'; readonly event: SimEvent } | { readonly kind: 'marker'; readonly text: string; readonly atMs: number };

export class SimControlPage extends LitElement {
  static override properties = {
    log: { state: true },
    message: { state: true },
  };

  /** Oldest first. */
  declare log: readonly LogRow[];
  declare message: { ok: boolean; text: string } | undefined;
  /** Highest event sequence number seen from the running firmware. */
  private cursor = 0;
  private lastMonoMs = -1;
  private wasPowered: boolean | undefined;
  private setDraft = '';
  /** Events are being read: the next answer of the state waits for the next round (no event twice). */
  private readingEvents = false;
  /** The printer as the simulator reports it, read every POLL_MS; each answer brings the new events. */
  private readonly state = new ApiTask(this, (_, call) => simApi('GET /sim/api/state', call), {
    everyMs: POLL_MS,
    onAnswer: (state) => {
      this.noticeRestart(state);
      if (state.powered) void this.readEvents();
    },
  });
  /** A lever: the simulator answers with the new state. */
  private readonly lever = action(this, async (request: Promise<HttpResult<SimState>>, done: string) => {
    const result = await request;
    this.message = result.ok ? { ok: true, text: done } : { ok: false, text: describeError(result.error) };
    if (result.ok) void this.state.set(result.data);
  });

  constructor() {
    super();
    this.log = [];
    // A lever was pulled or a fault cleared (the sections below send it up): the fault list and
    // the clocks are read again now, not at the next poll.
    this.addEventListener(WORLD_CHANGED, () => void this.state.refresh());
  }

  private async readEvents(): Promise<void> {
    if (this.readingEvents) return;
    this.readingEvents = true;
    const events = await simApi('GET /sim/api/events', { query: { after: this.cursor } });
    this.readingEvents = false;
    if (!events.ok || events.data.length === 0) return;
    this.cursor = events.data[events.data.length - 1]!.seq;
    this.appendLog(events.data.map((event) => ({ kind: 'event', event }) as const));
  }

  /** A power cycle starts a new firmware run; its events are those from `bootFirstSeq` on (the device keeps earlier boots' too). */
  private noticeRestart(state: SimState): void {
    const mono = state.monoMs ?? -1;
    if (this.wasPowered === true && !state.powered) this.appendLog([{ kind: 'marker', text: 'Device powered off', atMs: Date.now() }]);
    if (state.powered && this.wasPowered !== undefined && (!this.wasPowered || mono < this.lastMonoMs)) {
      this.cursor = (state.bootFirstSeq ?? 1) - 1;
      this.appendLog([{ kind: 'marker', text: 'Device started (new firmware run)', atMs: Date.now() }]);
    }
    this.wasPowered = state.powered;
    this.lastMonoMs = mono;
  }

  private appendLog(rows: readonly LogRow[]): void {
    this.log = [...this.log, ...rows].slice(-EVENTS_KEPT);
  }

  private clock(body: ClockAction, done: string): void {
    void this.lever.run([simApi('POST /sim/api/clock', { body }), done]);
  }

  private power(action: 'cycle' | 'off' | 'on', done: string): void {
    void this.lever.run([simApi('POST /sim/api/power', { body: { action } }), done]);
  }

  private jump(deltaMs: number, text: string): void {
    this.clock({ action: 'jump', deltaMs }, `Device clock jumped ${text}.`);
  }

  private field(form: HTMLFormElement, name: string): string {
    return String(new FormData(form).get(name) ?? '').trim();
  }

  private onCustomJump(event: SubmitEvent): void {
    event.preventDefault();
    const seconds = Number(this.field(event.target as HTMLFormElement, 'jumpSeconds'));
    if (!Number.isFinite(seconds) || seconds === 0) {
      this.message = { ok: false, text: 'Enter a number of seconds to jump by (negative jumps back).' };
      return;
    }
    this.jump(Math.round(seconds * 1000), `by ${formatOffset(seconds * 1000)}`);
  }

  private onSet(event: SubmitEvent): void {
    event.preventDefault();
    const value = this.field(event.target as HTMLFormElement, 'setUtc');
    const wallMs = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
    if (!value || Number.isNaN(wallMs)) {
      this.message = { ok: false, text: 'Choose a date and time (UTC) to set the device clock to.' };
      return;
    }
    this.clock({ action: 'set', wallMs }, `Device clock set to ${formatUtc(wallMs)} UTC.`);
  }

  private onDrift(event: SubmitEvent): void {
    event.preventDefault();
    const text = this.field(event.target as HTMLFormElement, 'driftPpm');
    const ppm = Number(text);
    if (text === '' || !Number.isFinite(ppm) || Math.abs(ppm) > RTC_DRIFT_MAX_PPM) {
      this.message = { ok: false, text: `Drift must be a number between -${RTC_DRIFT_MAX_PPM} and ${RTC_DRIFT_MAX_PPM} ppm.` };
      return;
    }
    this.clock({ action: 'drift', ppm }, `The RTC now runs at ${ppm} ppm.`);
  }

  private onAdvance(event: SubmitEvent): void {
    event.preventDefault();
    const seconds = Number(this.field(event.target as HTMLFormElement, 'advanceSeconds'));
    if (!Number.isFinite(seconds) || seconds <= 0) {
      this.message = { ok: false, text: 'Enter a positive number of seconds to advance virtual time by.' };
      return;
    }
    void this.lever.run([simApi('POST /sim/api/time/advance', { body: { ms: Math.round(seconds * 1000) } }), `Virtual time advanced by ${seconds} s.`]);
  }

  override render(): TemplateResult {
    const s = this.state.last;
    return html`<header>
        <h1>Device Simulator: Test Bench</h1>
        ${s
          ? html`<nav>
              <a href=${s.remoteUiUrl} target="_blank" rel="noopener">Remote UI</a>
              <a href=${s.panelUrl} target="_blank" rel="noopener">Control Panel</a>
              <a href="/mailbox/" target="_blank" rel="noopener" data-test="sim-mailbox-link">Mailbox</a>
            </nav>`
          : nothing}
      </header>
      ${this.state.failure((e) => html`<p class="msg error" role="alert" data-test="sim-error">${describeError(e)}</p>`)}
      ${this.message
        ? html`<p class="msg ${this.message.ok ? 'ok' : 'error'}" role=${this.message.ok ? 'status' : 'alert'} data-test="sim-message">${this.message.text}</p>`
        : nothing}
      <div class="columns">
        <div>${s ? this.renderDevice(s) : html`<p>Asking the simulator…</p>`}</div>
        ${this.renderEvents()}
      </div>
      <sim-faults .faults=${s?.faults}></sim-faults>
      <sim-lever-catalogue></sim-lever-catalogue>
      <sim-identity-services></sim-identity-services>`;
  }

  private renderDevice(s: SimState): TemplateResult {
    const off = !s.powered;
    const busy = pending(this.lever);
    const notSet = s.wallMs !== null && s.wallMs < WALL_PLAUSIBLE_AFTER_MS;
    return html`
      <section>
        <h2>Power</h2>
        <div class="line">
          <span>Printer is <b data-test="sim-power">${s.powered ? 'on' : 'off'}</b></span>
          <button type="button" ?disabled=${busy} @click=${() => this.power('cycle', 'Power cycled: the firmware restarted from NVRAM.')}>
            Power Cycle
          </button>
          ${s.powered
            ? html`<button type="button" ?disabled=${busy} @click=${() => this.power('off', 'Printer switched off.')}>Power Off</button>`
            : html`<button type="button" ?disabled=${busy} @click=${() => this.power('on', 'Printer switched on.')}>Power On</button>`}
        </div>
      </section>
      <section>
        <h2>Device Label</h2>
        ${s.label
          ? html`<dl class="label">
              <dt>Serial Number</dt>
              <dd data-test="sim-serial">${s.label.serialNumber}</dd>
              <dt>Administrator Password (factory)</dt>
              <dd data-test="sim-factory-password">${s.label.factoryPassword}</dd>
            </dl>`
          : html`<p class="muted">Switch the printer on to read its label.</p>`}
      </section>
      <section>
        <h2>Clocks</h2>
        <table class="clocks">
          <tr><th>Device clock (RTC, UTC)</th><td data-test="sim-device-time">${s.wallMs === null ? '—' : formatUtc(s.wallMs)}${notSet ? html` <span class="flag">not set</span>` : nothing}</td></tr>
          <tr><th>World clock (servers, UTC)</th><td data-test="sim-world-time">${s.worldMs === null ? '—' : formatUtc(s.worldMs)}</td></tr>
          <tr><th>Host clock (UTC)</th><td data-test="sim-host-time">${s.hostMs === null ? '—' : formatUtc(s.hostMs)}</td></tr>
          <tr><th>Offset (device − host)</th><td data-test="sim-offset">${s.offsetMs === null ? '—' : formatOffset(s.offsetMs)}</td></tr>
          <tr><th>Drift</th><td data-test="sim-drift">${s.driftPpm === null ? '—' : `${s.driftPpm} ppm`}</td></tr>
          <tr><th>Since power-on (monotonic)</th><td data-test="sim-mono">${s.monoMs === null ? '—' : formatOffset(s.monoMs).slice(1)}</td></tr>
          ${s.virtualTime ? html`<tr><th>Time source</th><td>Virtual (advanced by hand)</td></tr>` : nothing}
          <tr><th>Seed (random choices)</th><td data-test="sim-seed" class="seed">${s.seed ?? '—'}</td></tr>
        </table>
      </section>
      <section>
        <h2>Clock Levers</h2>
        <fieldset ?disabled=${off || busy}>
          <div class="line">
            <span class="what">Jump</span>
            <button type="button" @click=${() => this.jump(-DAY_MS, 'back 1 day')}>−1 day</button>
            <button type="button" @click=${() => this.jump(-HOUR_MS, 'back 1 hour')}>−1 h</button>
            <button type="button" @click=${() => this.jump(HOUR_MS, 'forward 1 hour')}>+1 h</button>
            <button type="button" @click=${() => this.jump(DAY_MS, 'forward 1 day')}>+1 day</button>
          </div>
          <form class="line" @submit=${this.onCustomJump}>
            <label class="what" for="jumpSeconds">Jump by (seconds)</label>
            <input id="jumpSeconds" name="jumpSeconds" type="number" step="any" placeholder="e.g. -90" />
            <button type="submit">Jump</button>
          </form>
          <form class="line" @submit=${this.onSet}>
            <label class="what" for="setUtc">Set device clock (UTC)</label>
            <input id="setUtc" name="setUtc" type="datetime-local" step="1" .value=${this.setDraftFor(s)} />
            <button type="submit">Set</button>
          </form>
          <form class="line" @submit=${this.onDrift}>
            <label class="what" for="driftPpm">Drift (ppm)</label>
            <input id="driftPpm" name="driftPpm" type="number" step="any" min=${-RTC_DRIFT_MAX_PPM} max=${RTC_DRIFT_MAX_PPM} placeholder=${String(s.driftPpm ?? 0)} />
            <button type="submit">Apply Drift</button>
          </form>
          <div class="line">
            <span class="what">Backup battery</span>
            <button type="button" @click=${() => this.clock({ action: 'battery-loss' }, 'Battery loss: the RTC restarted at its factory date.')}>Battery Loss</button>
            <span class="muted">RTC restarts at ${formatUtc(RTC_FACTORY_WALL_MS)} UTC</span>
          </div>
          ${s.virtualTime
            ? html`<form class="line" @submit=${this.onAdvance}>
                <label class="what" for="advanceSeconds">Advance time (seconds)</label>
                <input id="advanceSeconds" name="advanceSeconds" type="number" step="any" min="0" />
                <button type="submit">Advance</button>
              </form>`
            : nothing}
        </fieldset>
      </section>`;
  }

  /** The set-clock input starts at the device's current time (once), then is the tester's. */
  private setDraftFor(s: SimState): string {
    if (!this.setDraft && s.wallMs !== null) this.setDraft = new Date(s.wallMs).toISOString().slice(0, 19);
    return this.setDraft;
  }

  private renderEvents(): TemplateResult {
    const rows = [...this.log].reverse();
    return html`<section class="events">
      <h2>
        Device Events <span class="muted">(live, newest first)</span>
        <button type="button" class="small" @click=${() => (this.log = [])}>Clear</button>
      </h2>
      <ol data-test="sim-events" aria-live="polite">
        ${rows.map((row) =>
          row.kind === 'marker'
            ? html`<li class="marker">— ${row.text} —</li>`
            : html`<li class=${row.event.level} data-test="sim-event" data-code=${row.event.code}>
                <span class="seq">#${row.event.seq}</span>
                <span class="time">${formatUtc(row.event.wallMs)}</span>
                <span class="code">${row.event.code}</span>
                <span class="text">${row.event.message}</span>
              </li>`,
        )}
        ${rows.length === 0 ? html`<li class="muted empty">No events yet.</li>` : nothing}
      </ol>
    </section>`;
  }

  static override styles = [
    benchFrameStyles,
    benchFormStyles,
    css`
    .columns {
      display: grid;
      grid-template-columns: 560px 1fr;
      gap: 16px;
      align-items: start;
    }
    fieldset {
      border: 0;
      margin: 0;
      padding: 0;
    }
    .what {
      width: 170px;
      flex: none;
    }
    .clocks {
      border-collapse: collapse;
      width: 100%;
    }
    .clocks th,
    .clocks td {
      text-align: left;
      padding: 3px 6px;
      border-bottom: 1px solid var(--line-soft);
      font-variant-numeric: tabular-nums;
    }
    .clocks th {
      font-weight: 500;
      width: 210px;
      color: var(--label);
    }
    .label {
      display: grid;
      grid-template-columns: 230px 1fr;
      margin: 0;
      padding: 8px 10px;
      border: 1px dashed #7d8894;
      background: #fafafa;
      font-family: var(--mono);
    }
    .label dt {
      color: var(--label);
    }
    .label dd {
      margin: 0;
      font-weight: 600;
    }
    .flag {
      color: var(--warn-ink);
      background: var(--warn-bg);
      padding: 0 var(--space-1);
    }
    .events ol {
      list-style: none;
      margin: 0;
      padding: 0;
      max-height: calc(100vh - 130px);
      overflow: auto;
      font-size: var(--text-small);
    }
    .events li {
      display: grid;
      grid-template-columns: 44px 140px 150px 1fr;
      gap: 6px;
      padding: 3px 4px;
      border-bottom: 1px solid #eceff1;
      font-variant-numeric: tabular-nums;
    }
    .events li.warn {
      background: var(--warn-bg);
    }
    .events li.error {
      background: var(--error-bg);
    }
    .events li.marker,
    .events li.empty {
      display: block;
      text-align: center;
      color: var(--label);
      background: var(--shade);
    }
    .seq {
      color: var(--faint);
    }
    .code {
      font-weight: 600;
    }
  `,
  ];
}

customElements.define('sim-control-page', SimControlPage);
