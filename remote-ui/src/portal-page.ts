/**
 * Portal: what the device is and how it is doing. The device clock ticks here every second from
 * the last `GET /api/status` plus the time elapsed since, and is re-read every 15 s (the RTC may
 * drift or be set meanwhile).
 */
import { LitElement, html, nothing } from 'lit';
import type { DeviceNotice, DeviceStatus, SessionInfo } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { ApiTask } from './kit/api-task.ts';
import { mayOpen, page, sectionPage, type NavItem } from './nav.ts';
import { sharedStyles } from './shared-styles.ts';
import { TickController } from './tick-controller.ts';
import { formatDuration, formatWall } from './time-format.ts';

export const STATUS_REFRESH_MS = 15_000;

/** The page where each kind of notice is fixed (a settings section) or looked into (the event log). */
const NOTICE_PAGES: Record<DeviceNotice['page'], NavItem> = {
  certificates: sectionPage('certificates'),
  oauthMicrosoft: sectionPage('oauthMicrosoft'),
  oauthGoogle: sectionPage('oauthGoogle'),
  events: page('events'),
  email: sectionPage('email'),
};

export class PortalPage extends LitElement {
  static override properties = { session: { attribute: false } };

  declare session: SessionInfo | undefined;
  private readonly status = new ApiTask(this, (_, call) => api('GET /api/status', call), { everyMs: STATUS_REFRESH_MS });

  constructor() {
    super();
    new TickController(this);
  }

  override render() {
    const canSetClock = this.session?.capabilities.includes('setClock') ?? false;
    const mayChangeSettings = (this.session?.sections.length ?? 0) > 0 || (this.session?.capabilities.length ?? 0) > 0;
    return html`<h1>Portal</h1>
      ${mayChangeSettings
        ? nothing
        : html`<p class="note" role="note" data-test="no-settings-note">
            Your role cannot change settings. Ask an administrator if something needs to be changed.
          </p>`}
      ${this.status.view((status) => this.renderStatus(status, canSetClock), html`<p>Reading the device status…</p>`)}`;
  }

  private renderStatus(status: DeviceStatus, canSetClock: boolean) {
    const elapsedMs = performance.now() - this.status.loadedAtMs;
    const wallMs = status.clock.wallMs + elapsedMs;
    return html`
      ${status.state === 'ready'
        ? nothing
        : html`<p class="warning" role="alert" data-test="clock-warning">
            ⚠ ${status.stateMessage} ${canSetClock ? html`<a href="/settings/datetime">Set the date and time</a>` : nothing}
          </p>`}
      ${status.notices.map(
        (n) =>
          html`<p class=${n.level === 'error' ? 'warning error' : 'warning'} role=${n.level === 'error' ? 'alert' : 'status'} data-test="notice" data-code=${n.code}>
            ⚠ ${n.message} ${this.session && mayOpen(this.session, NOTICE_PAGES[n.page]) ? html`<a href=${NOTICE_PAGES[n.page].path}>Open ${NOTICE_PAGES[n.page].label}</a>` : nothing}
          </p>`,
      )}
      <h2>Device Information</h2>
      <div class="panel" data-test="device-info">
        <div class="row"><span class="label">Device Name</span><span class="cell" data-test="status-device-name">${status.deviceName}</span></div>
        <div class="row"><span class="label">Location</span><span class="cell" data-test="status-location">${status.location || '—'}</span></div>
        <div class="row"><span class="label">Serial Number</span><span class="cell" data-test="serial-number">${status.serialNumber}</span></div>
        <div class="row"><span class="label">Firmware Version</span><span class="cell" data-test="firmware-version">${status.firmwareVersion}</span></div>
      </div>
      <h2>Status</h2>
      <div class="panel">
        <div class="row">
          <span class="label">Device Status</span>
          <span class="cell" data-test="device-status" data-state=${status.state}>${status.stateMessage}</span>
        </div>
        <div class="row">
          <span class="label">Device Date/Time</span>
          <span class="cell mono" data-test="device-time">${formatWall(wallMs, status.clock.timeZone)} (${status.clock.timeZone})</span>
        </div>
        <div class="row">
          <span class="label">Time Since Start-Up</span>
          <span class="cell mono" data-test="uptime">${formatDuration(Math.floor(status.uptimeS + elapsedMs / 1000))}</span>
        </div>
      </div>`;
  }

  static override styles = sharedStyles;
}

customElements.define('rui-portal-page', PortalPage);
