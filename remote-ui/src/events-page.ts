/** Event Log: what the device noticed (logins, lockouts, clock changes, settings), newest first. */
import { LitElement, css, html, nothing } from 'lit';
import type { DeviceStatus } from '../../firmware/web/api-types.ts';
import { request } from './api.ts';
import { LoadController } from './load-controller.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatWall } from './time-format.ts';

/** The wire shape of `GET /api/events` (firmware/events.ts DeviceEvent). */
interface DeviceEvent {
  readonly seq: number;
  readonly code: string;
  readonly level: string;
  readonly message: string;
  readonly wallMs: number;
}

export class EventsPage extends LitElement {
  private readonly events = new LoadController(this, (background) => request<DeviceEvent[]>('GET', '/api/events?after=0', undefined, { background }), 5000);
  /** Only for the device's time zone. */
  private readonly status = new LoadController(this, () => request<DeviceStatus>('GET', '/api/status'));

  override render() {
    const timeZone = this.status.value?.clock.timeZone ?? 'UTC';
    const events = [...(this.events.value ?? [])].reverse();
    return html`<h1>Event Log</h1>
      ${this.events.error ? html`<p class="msg error" role="alert">${this.events.error.message}</p>` : nothing}
      <table data-test="events-table">
        <thead>
          <tr><th>No.</th><th>Device Date/Time (${timeZone})</th><th>Level</th><th>Event</th><th>Message</th></tr>
        </thead>
        <tbody>
          ${events.map(
            (e) => html`<tr data-test="event-row" data-code=${e.code} class=${e.level}>
              <td class="mono">${e.seq}</td>
              <td class="mono nowrap">${formatWall(e.wallMs, timeZone)}</td>
              <td>${e.level}</td>
              <td class="nowrap">${e.code}</td>
              <td>${e.message}</td>
            </tr>`,
          )}
        </tbody>
      </table>`;
  }

  static override styles = [
    sharedStyles,
    css`
      tr.warn td {
        background: var(--warn-bg);
      }
      tr.error td {
        background: #fdf0ef;
      }
    `,
  ];
}

customElements.define('rui-events-page', EventsPage);
