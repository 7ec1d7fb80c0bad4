/** Re-renders its host once a second (live clocks and uptime between two fetches). */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class TickController implements ReactiveController {
  private timer: number | undefined;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.timer = window.setInterval(() => this.host.requestUpdate(), 1000);
  }

  hostDisconnected(): void {
    window.clearInterval(this.timer);
  }
}
