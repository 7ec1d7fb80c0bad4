/** Event Log: what the device noticed (logins, lockouts, clock changes, settings), newest first. */
import { LitElement, css, html } from 'lit';
import type { DeviceEventView } from '../../firmware/web/api-routes.ts';
import { api } from './api.ts';
import { DeviceZone } from './device-zone.ts';
import { ApiTask } from './kit/api-task.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatWall } from './time-format.ts';

export class EventsPage extends LitElement {
  private readonly events = new ApiTask(this, (_, call) => api('GET /api/events', { ...call, query: { after: 0 } }), { everyMs: 5000 });
  private readonly zone = new DeviceZone(this);

  override render() {
    return html`<h1>Event Log</h1>
      ${this.events.view((list) => this.renderTable(list), this.renderTable([]))}`;
  }

  private renderTable(list: readonly DeviceEventView[]) {
    const timeZone = this.zone.name;
    const events = [...list].reverse();
    return html`<table data-test="events-table">
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
    `,
  ];
}

customElements.define('rui-events-page', EventsPage);
