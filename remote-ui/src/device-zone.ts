/** The device's time zone, for pages that show device times: read once from `GET /api/status`. */
import type { ReactiveControllerHost } from 'lit';
import type { DeviceStatus } from '../../firmware/web/api-types.ts';
import { api } from './api.ts';
import { ApiTask } from './kit/api-task.ts';

export class DeviceZone extends ApiTask<[], DeviceStatus> {
  constructor(host: ReactiveControllerHost) {
    super(host, (_, call) => api('GET /api/status', call));
  }

  /** The zone's IANA name; UTC until the device answered. */
  get name(): string {
    return this.last?.clock.timeZone ?? 'UTC';
  }
}
