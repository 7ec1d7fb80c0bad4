/**
 * Async state of the browser pages as @lit/task Tasks.
 *
 * `ApiTask` is one resource of an API: fetched when the host first renders and again whenever
 * its `args` change (as any Task), and, with `everyMs`, again on a timer while the host is
 * connected. Timed refreshes go out marked `background` (the Remote UI's idle session must not
 * count them) and are skipped while one is still on its way, so a slow server is never asked
 * twice at once. The page shows it through `view`: the answer (the latest one stays while a
 * refresh runs, and under the error of a refresh that failed), what to show until the first, and
 * the refusal.
 *
 * `action` is a Task run by hand for something the user asked for (Save, Import, Delete): the
 * page disables its buttons while it is `pending`.
 */
import { Task, TaskStatus } from '@lit/task';
import { html, nothing, type ReactiveControllerHost } from 'lit';
import { unwrap, type HttpError, type HttpResult } from './http-client.ts';

export interface ApiTaskOptions<A extends readonly unknown[], T> {
  /** What the answer depends on (Task `args`): a change fetches again. */
  readonly args?: () => A;
  /** Fetch again every this many ms while the host is connected. */
  readonly everyMs?: number;
  /** Sees every answer as it arrives. */
  readonly onAnswer?: (value: T) => void;
}

/** What a load passes on to the client: whether it is a timed refresh, and its abort signal. */
export interface LoadCall {
  readonly background: boolean;
  readonly signal: AbortSignal;
}

export class ApiTask<A extends readonly unknown[], T> extends Task<A, T> {
  /** The latest answer, kept while a refresh runs or after one failed. */
  last: T | undefined;
  /** `performance.now()` when `last` arrived: views add the time elapsed since to a device clock. */
  loadedAtMs = 0;
  private timer: number | undefined;
  /** Read (and cleared) by the next run: it is a timed refresh. */
  private background = false;
  /** An answer that arrived another way (an action returned the resource), for the next run. */
  private supplied: { readonly value: T } | undefined;

  constructor(
    host: ReactiveControllerHost,
    load: (args: A, call: LoadCall) => Promise<HttpResult<T>>,
    private readonly options: ApiTaskOptions<A, T> = {},
  ) {
    super(host, {
      args: options.args ?? (() => [] as unknown as A),
      task: async (args, { signal }) => {
        const supplied = this.supplied;
        const background = this.background;
        this.supplied = undefined;
        this.background = false;
        return supplied ? supplied.value : unwrap(await load(args, { background, signal }));
      },
      onComplete: (value) => {
        this.last = value;
        this.loadedAtMs = performance.now();
        // Task swallows what onComplete throws: a programmer's error here is reported instead.
        try {
          this.options.onAnswer?.(value);
        } catch (error) {
          reportError(error);
        }
      },
    });
  }

  hostConnected(): void {
    const everyMs = this.options.everyMs;
    if (!everyMs) return;
    this.timer = window.setInterval(() => {
      if (this.status !== TaskStatus.PENDING) void this.refresh(true);
    }, everyMs);
  }

  hostDisconnected(): void {
    this.stop();
  }

  /** No more timed refreshes (the resource will not change again). */
  stop(): void {
    window.clearInterval(this.timer);
  }

  /** Fetch now; `background` for a refresh that is not the user's doing. */
  refresh(background = false): Promise<void> {
    this.background = background;
    return this.run();
  }

  /** Take an answer that arrived another way: it overtakes any fetch on its way. */
  set(value: T): Promise<void> {
    this.supplied = { value };
    return this.run();
  }

  /**
   * The resource as the page shows it: `complete` with the latest answer, `waiting` until the
   * first; when the latest run was refused, `failed` says so (above the latest answer, or instead
   * of `waiting`). A run on its way changes nothing: the Task keeps the value and the error of
   * the run before until it ends, so a timed refresh neither blanks the page nor blinks an error.
   * One template whatever the status, so a form in `complete` keeps what the user typed.
   */
  view(complete: (value: T) => unknown, waiting: unknown = nothing, failed: (error: HttpError) => unknown = alertLine): unknown {
    const last = this.last;
    return html`${this.failure(failed)}${last !== undefined ? complete(last) : this.error === undefined ? waiting : nothing}`;
  }

  /** Only the refusal of the latest run, where the page places the answer itself. */
  failure(failed: (error: HttpError) => unknown = alertLine): unknown {
    return this.error === undefined ? nothing : failed(this.error as HttpError);
  }
}

/** A refusal as a line above what it concerns. */
export function alertLine(error: HttpError): unknown {
  return html`<p class="msg error" role="alert">${error.message}</p>`;
}

/** A Task the page runs by hand (`task.run([…])`) for one kind of user action. */
export function action<A extends readonly unknown[]>(host: ReactiveControllerHost, run: (...args: A) => Promise<void>): Task<A, void> {
  // A programmer's error in `run` is reported, not kept as the Task's error where nobody looks.
  return new Task<A, void>(host, { autoRun: false, task: (args) => run(...args), onError: reportError });
}

/** A Task for the changes a page sends one at a time (`task.run([async () => …])`), its buttons off while one is on its way. */
export function oneAtATime(host: ReactiveControllerHost): Task<readonly [() => Promise<void>], void> {
  return action(host, (run: () => Promise<void>) => run());
}

/** The task is on its way: its buttons are off. */
export function pending(task: { readonly status: TaskStatus }): boolean {
  return task.status === TaskStatus.PENDING;
}
