/** Calls `tick` when the host connects and then every `everyMs`; never two ticks at once. */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class PollController implements ReactiveController {
  private timer: number | undefined;
  private running = false;

  constructor(
    host: ReactiveControllerHost,
    private readonly tick: () => Promise<void>,
    private readonly everyMs: number,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.run();
    this.timer = window.setInterval(() => void this.run(), this.everyMs);
  }

  hostDisconnected(): void {
    window.clearInterval(this.timer);
  }

  /** Runs a tick now (e.g. right after an action), unless one is already under way. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.tick();
    } finally {
      this.running = false;
    }
  }
}
