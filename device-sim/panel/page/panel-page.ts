/**
 * The printer's touch panel (`/panel/`): a 1024×600 landscape screen in the device's bezel. The
 * status bar shows the device name, the operator (Log In / Log Out) and the device's time; below
 * it one screen at a time: Home (Scan and Send, Job Status, and why sending cannot work now, in
 * the operator's words with the device code), Scan and Send (scan-screen.ts), the job's progress
 * (progress-screen.ts), Job Status (jobs-screen.ts) and Log In (login-screen.ts).
 *
 * The power state and the clock come from the simulator (`/sim/api/state`), the rest from the
 * firmware's panel API (`/panel/api/*`, panel-api.ts), both read every second. The firmware logs
 * an idle operator out (Security → Auto Logout at the Panel); the status bar follows at the next
 * read. Switching the
 * printer off darkens the screen; when it comes back, the panel starts at Home again, as after a
 * power cycle.
 */
import { LitElement, css, html, nothing, svg, type TemplateResult } from 'lit';
import { WALL_PLAUSIBLE_AFTER_MS } from '../../../firmware/defaults.ts';
import type { PanelOperator, PanelStatus } from '../../../firmware/web/api-types.ts';
import { ApiTask } from '../../../remote-ui/src/kit/api-task.ts';
import type { HttpError } from '../../../remote-ui/src/kit/http-client.ts';
import { simApi } from '../../control/page/sim-api.ts';
import type { SimState } from '../../control/sim-state.ts';
import { panelApi } from './panel-api.ts';
import { NAVIGATE_EVENT, type PanelClock, type PanelScreen } from './panel-navigation.ts';
import { formatClock } from './panel-time.ts';
import { LOGGED_IN_EVENT } from './login-screen.ts';
import { panelAlertStyles } from './panel-styles.ts';
import './scan-screen.ts';
import './progress-screen.ts';
import './jobs-screen.ts';

const POLL_MS = 1000;
/** The operator's symbol in the status bar (drawn: a panel has no emoji font). */
const PERSON_ICON = svg`<svg class="person" viewBox="0 0 16 16" width="18" height="18" aria-hidden="true"><circle cx="8" cy="5" r="3.2" fill="currentColor"/><path d="M1.8 15.5c0-3.6 2.8-6 6.2-6s6.2 2.4 6.2 6z" fill="currentColor"/></svg>`;

export class SimPanelPage extends LitElement {
  static override properties = { screen: { state: true } };

  declare screen: PanelScreen;
  private lastMonoMs = -1;
  /** The power state and the clock, from the simulator. */
  private readonly sim = new ApiTask(this, (_, call) => simApi('GET /sim/api/state', call), {
    everyMs: POLL_MS,
    onAnswer: (sim) => {
      // A new firmware run (switched on again, or power-cycled between two polls) starts at Home.
      const mono = sim.monoMs ?? -1;
      if (!sim.powered || mono < this.lastMonoMs) this.screen = { name: 'home' };
      this.lastMonoMs = mono;
    },
  });
  /** The operator of the last status read, to notice a logout. */
  private lastOperator: string | null = null;
  /** The screen was touched since the last status read: the next read tells the device (auto logout counts touches). */
  private touched = false;
  /**
   * The device name, the operator and why sending cannot work now, from the firmware's panel API.
   * A timed read is not a touch, unless the screen was touched since the last one: typing a long
   * list of destinations keeps the operator logged in, as any touch does on a printer.
   */
  private readonly status = new ApiTask(
    this,
    (_, call) => {
      const background = call.background && !this.touched;
      this.touched = false;
      return panelApi('GET /panel/api/status', { ...call, background });
    },
    {
      everyMs: POLL_MS,
      // Logged out (by hand, or by the device after the idle time): back to Home, as a printer's
      // auto reset does, so the next person sees neither the draft nor the progress of the last one's scan.
      onAnswer: (status) => {
        if (this.lastOperator !== null && status.operator === null) this.screen = { name: 'home' };
        this.lastOperator = status.operator?.name ?? null;
      },
    },
  );

  constructor() {
    super();
    this.screen = { name: 'home' };
    for (const touch of ['pointerdown', 'keydown']) this.addEventListener(touch, () => (this.touched = true));
    this.addEventListener(NAVIGATE_EVENT, (e) => {
      this.screen = (e as CustomEvent<PanelScreen>).detail;
      this.refresh();
    });
    this.addEventListener(LOGGED_IN_EVENT, (e) => {
      const operator = (e as CustomEvent<PanelOperator>).detail;
      const status = this.status.last;
      if (status) void this.status.set({ ...status, operator });
    });
  }

  private refresh(): void {
    void this.sim.refresh();
    void this.status.refresh();
  }

  /** The simulator did not answer the latest read (kept while the next one runs): the screen stays dark. */
  private get offline(): boolean {
    return this.sim.error !== undefined;
  }

  /** The panel's status of the latest read (kept while the next one runs); none while the panel API refuses (no scanner, printer off). */
  private get panelStatus(): PanelStatus | undefined {
    return this.status.value;
  }

  private async logOut(): Promise<void> {
    await panelApi('POST /panel/api/logout');
    this.refresh();
  }

  override render(): TemplateResult {
    const s = this.sim.last;
    const on = s?.powered === true && !this.offline;
    return html`<div class="bezel">
      <div class="screen ${on ? 'on' : 'off'}" role="region" aria-label="Control panel screen" data-test="panel-screen" data-screen=${on ? this.screen.name : 'off'}>
        ${on && s ? html`${this.renderStatusBar(s)}${this.renderScreen(s)}` : html`<div class="dark">${this.offline ? 'No connection to the simulator' : s ? 'Power off' : ''}</div>`}
      </div>
      <div class="keys">
        <button type="button" class="key" data-test="home-key" ?disabled=${!on} @click=${() => (this.screen = { name: 'home' })}>⌂ Home</button>
        <span class="power"><span class="led ${on ? 'lit' : ''}" title="Main power"></span> Main Power</span>
      </div>
    </div>`;
  }

  private clock(s: SimState): PanelClock | undefined {
    return s.wallMs === null ? undefined : { wallMs: s.wallMs, timeZone: s.timeZone ?? 'UTC' };
  }

  private renderStatusBar(s: SimState): TemplateResult {
    const clock = this.clock(s);
    const notSet = s.wallMs !== null && s.wallMs < WALL_PLAUSIBLE_AFTER_MS;
    const operator = this.panelStatus?.operator;
    const canLogIn = this.panelStatus !== undefined && this.screen.name !== 'login';
    return html`<div class="status-bar" role="banner">
      <span class="device" data-test="panel-device">${this.panelStatus?.deviceName ?? s.deviceName ?? 'MFP'}${s.label ? html` <span class="dim">· ${s.label.serialNumber}</span>` : nothing}</span>
      <span class="operator" data-test="operator" data-operator=${operator?.name ?? ''}>
        ${PERSON_ICON} ${operator ? operator.name : 'Guest'}
        ${operator
          ? html`<button type="button" class="bar-button" data-test="logout" @click=${() => void this.logOut()}>Log Out</button>`
          : canLogIn
            ? html`<button type="button" class="bar-button" data-test="login" @click=${() => (this.screen = { name: 'login' })}>Log In</button>`
            : nothing}
      </span>
      <span class="clock" data-test="panel-time">${notSet ? html`<span class="warn">⚠ Check date/time</span>` : nothing}${clock ? formatClock(clock.wallMs, clock.timeZone) : ''}</span>
    </div>`;
  }

  private renderScreen(s: SimState): TemplateResult {
    const clock = this.clock(s);
    switch (this.screen.name) {
      case 'scan':
        return html`<panel-scan-screen .operator=${this.panelStatus?.operator ?? null}></panel-scan-screen>`;
      case 'progress':
        return html`<panel-progress-screen .jobId=${this.screen.jobId} .request=${this.screen.request} .clock=${clock}></panel-progress-screen>`;
      case 'jobs':
        return html`<panel-jobs-screen .clock=${clock}></panel-jobs-screen>`;
      case 'login':
        return html`<panel-login-screen></panel-login-screen>`;
      case 'home':
        return this.renderHome();
    }
  }

  private renderHome(): TemplateResult {
    const noPanel = this.status.error as HttpError | undefined;
    const problems = this.panelStatus?.problems ?? [];
    return html`<div class="home">
      <div class="tiles">
        <button type="button" class="tile" data-test="tile-scan-and-send" ?disabled=${noPanel !== undefined} @click=${() => (this.screen = { name: 'scan' })}>
          <span class="icon" aria-hidden="true">✉</span><span>Scan and Send</span>
        </button>
        <button type="button" class="tile" data-test="tile-job-status" ?disabled=${noPanel !== undefined} @click=${() => (this.screen = { name: 'jobs' })}>
          <span class="icon" aria-hidden="true">☰</span><span>Job Status</span>
        </button>
      </div>
      <div class="status-lines" role="status" aria-live="polite">
        ${noPanel ? html`<div class="alert error" data-test="panel-unavailable" data-error=${noPanel.error}>${noPanel.message}</div>` : nothing}
        ${problems.map(
          (p) => html`<div class="alert" data-test="problem" data-code=${p.code}>
            <span aria-hidden="true">⚠</span><span class="code">${p.code}</span><span>${p.message}</span>
          </div>`,
        )}
      </div>
    </div>`;
  }

  static override styles = [
    panelAlertStyles,
    css`
    :host {
      display: flex;
      justify-content: center;
      padding: 24px 0;
    }
    .bezel {
      background: linear-gradient(#d9dcdf, #b9bdc2);
      border-radius: 16px;
      padding: 22px 26px 12px;
      box-shadow: 0 6px 24px rgb(0 0 0 / 45%);
    }
    .screen {
      width: 1024px;
      height: 600px;
      overflow: hidden;
      border: 3px solid #1c1f22;
      background: #0b0c0d;
      display: flex;
      flex-direction: column;
      font-size: var(--touch-text);
    }
    .screen.on {
      background: linear-gradient(#f4f6f8, #dde3e8);
    }
    .dark {
      margin: auto;
      color: #5e666e;
    }
    .status-bar {
      display: flex;
      align-items: center;
      gap: 18px;
      height: 48px;
      padding: 0 14px;
      background: #2f3a45;
      color: #fff;
      font-size: 16px;
      flex: none;
    }
    .device {
      flex: 1;
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .dim {
      color: #aeb8c2;
    }
    .operator {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .bar-button {
      font: inherit;
      font-size: 15px;
      min-height: 36px;
      padding: 0 14px;
      border: 1px solid #8fa0b1;
      border-radius: 6px;
      background: #45525f;
      color: #fff;
      cursor: pointer;
    }
    .clock {
      min-width: 190px;
      text-align: right;
      white-space: nowrap;
    }
    .warn {
      color: #ffd36b;
      margin-right: 8px;
    }
    .home {
      flex: 1;
      padding: 28px 32px 20px;
      display: flex;
      flex-direction: column;
      min-height: 0;
    }
    .tiles {
      display: grid;
      grid-template-columns: repeat(4, 210px);
      gap: 22px;
    }
    .tile {
      height: 190px;
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      gap: 14px;
      font: inherit;
      font-size: 19px;
      font-weight: 600;
      border: 1px solid #b4bcc4;
      border-radius: 14px;
      background: #fff;
      color: #2f3a45;
      box-shadow: 0 2px 4px rgb(0 0 0 / 12%);
      cursor: pointer;
    }
    .tile:active {
      background: #e3eefa;
    }
    .tile:disabled {
      color: #9aa3ad;
      background: var(--shade);
      box-shadow: none;
      cursor: default;
    }
    .tile:focus-visible,
    .key:focus-visible,
    .bar-button:focus-visible {
      outline: 3px solid var(--touch-focus);
      outline-offset: 2px;
    }
    .icon {
      font-size: 58px;
      line-height: 1;
    }
    .status-lines {
      margin-top: auto;
      display: flex;
      flex-direction: column;
      gap: 8px;
    }
    .keys {
      display: flex;
      align-items: center;
      justify-content: space-between;
      padding-top: 10px;
      font-size: 12px;
      color: #3b4652;
    }
    .key {
      font: inherit;
      font-size: 14px;
      min-height: 36px;
      padding: 0 18px;
      border: 1px solid #8c959e;
      border-radius: 18px;
      background: linear-gradient(#f3f4f5, #cfd3d7);
      color: #2f3a45;
      cursor: pointer;
    }
    .power {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .led {
      width: 10px;
      height: 10px;
      border-radius: 50%;
      background: #6c7379;
    }
    .led.lit {
      background: #3ddc5a;
      box-shadow: 0 0 6px #3ddc5a;
    }
  `,
  ];
}

customElements.define('sim-panel-page', SimPanelPage);
