/**
 * The printer's touch panel (`/panel/`), as a placeholder until the send pipeline lands: an
 * 800×480 screen with a status bar (device, clock) and the Home screen, where "Scan and Send"
 * is present but disabled.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { WALL_PLAUSIBLE_AFTER_MS } from '../../../firmware/defaults.ts';
import { PollController } from '../../control/page/poll-controller.ts';
import { simRequest, type SimState } from '../../control/page/sim-api.ts';

export class SimPanelPage extends LitElement {
  static override properties = { state: { state: true }, offline: { state: true } };

  declare state: SimState | undefined;
  declare offline: boolean;

  constructor() {
    super();
    this.offline = false;
    new PollController(this, () => this.poll(), 1000);
  }

  private async poll(): Promise<void> {
    const result = await simRequest<SimState>('/sim/api/state');
    this.offline = !result.ok;
    if (result.ok) this.state = result.data;
  }

  override render(): TemplateResult {
    const s = this.state;
    const on = s?.powered === true && !this.offline;
    return html`<div class="bezel">
      <div class="screen ${on ? 'on' : 'off'}" role="region" aria-label="Control panel screen" data-test="panel-screen">
        ${on && s ? this.renderHome(s) : html`<div class="dark">${this.offline ? 'No connection to the simulator' : s ? 'Power off' : ''}</div>`}
      </div>
      <div class="keys"><span class="led ${on ? 'lit' : ''}" title="Main power"></span> Main Power</div>
    </div>`;
  }

  private renderHome(s: SimState): TemplateResult {
    const clock = s.wallMs === null ? '' : this.formatClock(s.wallMs, s.timeZone ?? 'UTC');
    const notSet = s.wallMs !== null && s.wallMs < WALL_PLAUSIBLE_AFTER_MS;
    return html`<div class="status-bar">
        <span data-test="panel-device">${s.deviceName ?? 'MFP'}${s.label ? html` <span class="dim">· ${s.label.serialNumber}</span>` : nothing}</span>
        <span class="clock" data-test="panel-time">${notSet ? html`<span class="alert">⚠ Check date/time</span>` : nothing} ${clock}</span>
      </div>
      <div class="home">
        <div class="title">Home</div>
        <div class="tiles">
          <button class="tile" type="button" disabled aria-disabled="true" data-test="scan-and-send">
            <span class="icon" aria-hidden="true">✉</span>
            <span>Scan and Send</span>
          </button>
        </div>
        <p class="later" data-test="panel-note">The control panel arrives with the send pipeline. Until then, use the Remote UI to configure the device.</p>
      </div>`;
  }

  /** Device time as a panel shows it: date and HH:MM, in the device's zone when the simulator reports it. */
  private formatClock(wallMs: number, timeZone = 'UTC'): string {
    try {
      const text = new Intl.DateTimeFormat('en-GB', { timeZone, day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(wallMs);
      return timeZone === 'UTC' ? `${text} UTC` : text;
    } catch {
      return new Date(wallMs).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    }
  }

  static override styles = css`
    :host {
      display: flex;
      justify-content: center;
      padding: 30px 0;
    }
    .bezel {
      background: linear-gradient(#d9dcdf, #b9bdc2);
      border-radius: 14px;
      padding: 22px 26px 14px;
      box-shadow: 0 6px 24px rgb(0 0 0 / 45%);
    }
    .screen {
      width: 800px;
      height: 480px;
      overflow: hidden;
      border: 3px solid #1c1f22;
      background: #0b0c0d;
      display: flex;
      flex-direction: column;
      font-size: 16px;
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
      justify-content: space-between;
      padding: 8px 14px;
      background: #2f3a45;
      color: #fff;
      font-size: 15px;
    }
    .dim {
      color: #aeb8c2;
    }
    .alert {
      color: #ffd36b;
      margin-right: 8px;
    }
    .home {
      flex: 1;
      padding: 14px 22px;
      display: flex;
      flex-direction: column;
    }
    .title {
      font-size: 20px;
      font-weight: 600;
      color: #2f3a45;
      margin-bottom: 16px;
    }
    .tiles {
      display: grid;
      grid-template-columns: repeat(4, 170px);
      gap: 16px;
    }
    .tile {
      height: 150px;
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      gap: 10px;
      font: inherit;
      font-size: 17px;
      border: 1px solid #b4bcc4;
      border-radius: 10px;
      background: #fff;
      color: #2f3a45;
    }
    .tile:disabled {
      color: #9aa3ad;
      background: #eef1f4;
    }
    .icon {
      font-size: 46px;
      line-height: 1;
    }
    .later {
      margin-top: auto;
      padding: 10px 12px;
      background: #fff;
      border: 1px solid #b4bcc4;
      border-radius: 6px;
      color: #4a5561;
    }
    .keys {
      display: flex;
      align-items: center;
      justify-content: flex-end;
      gap: 8px;
      padding-top: 10px;
      font-size: 12px;
      color: #3b4652;
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
  `;
}

customElements.define('sim-panel-page', SimPanelPage);
