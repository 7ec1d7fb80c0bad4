/**
 * Fetches one API resource for an element, optionally again every `everyMs`, and re-renders the
 * host when the answer arrives (a small stand-in for @lit/task with polling built in).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ApiError } from '../../firmware/web/api-types.ts';
import type { ApiResult } from './api.ts';

export class LoadController<T> implements ReactiveController {
  value: T | undefined;
  error: ApiError | undefined;
  /** `performance.now()` when `value` arrived: views add the time elapsed since to a device clock. */
  loadedAtMs = 0;
  private timer: number | undefined;
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    /** `background` is true for the timed refreshes (see BACKGROUND_HEADER). */
    private readonly fetcher: (background: boolean) => Promise<ApiResult<T>>,
    private readonly everyMs = 0,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.reload();
    if (this.everyMs > 0) this.timer = window.setInterval(() => void this.reload(true), this.everyMs);
  }

  hostDisconnected(): void {
    window.clearInterval(this.timer);
    this.generation++;
  }

  /** An answer that arrived another way (an action returned the resource): newer than any load in flight. */
  set(value: T): void {
    this.generation++;
    this.value = value;
    this.error = undefined;
    this.loadedAtMs = performance.now();
    this.host.requestUpdate();
  }

  async reload(background = false): Promise<void> {
    const generation = ++this.generation;
    const result = await this.fetcher(background);
    if (generation !== this.generation) return; // overtaken by a newer load, or disconnected
    if (result.ok) {
      this.value = result.data;
      this.error = undefined;
      this.loadedAtMs = performance.now();
    } else {
      this.error = result.error;
    }
    this.host.requestUpdate();
  }
}
