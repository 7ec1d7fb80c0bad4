/**
 * Who is logged in at the control panel: one panel, one operator at a time, in RAM (a power cycle
 * logs the operator out). Only the name is kept: the rest is read from the account each time, so
 * an address the administrator sets or removes counts at once, and a deleted account logs its
 * operator out.
 *
 * Auto logout, a printer's "auto reset": after Security → Auto Logout at the Panel
 * (`panelAutoLogoutMin`) without a touch, the operator is logged out and the event
 * `panel-logged-out` says so. Idle time runs on the monotonic clock. It is checked when the panel
 * asks anything and by a device timer at the deadline, so the status says "logged out" on time
 * even when nobody asks. What counts as a touch is the caller's to say (`touch`): the panel's own
 * timed refreshes do not. The setting is read at each check: a change counts from the next
 * request (the timer set for the old deadline then fires late, and finds nothing to do or
 * re-arms).
 */
import type { DeviceEvents } from '../events.ts';
import type { Clock, TimerHandle } from '../hal/clock.ts';
import type { SettingsStore } from '../settings/settings-store.ts';
import type { AccountStore, AccountView } from './accounts.ts';

export class OperatorSession {
  #name: string | undefined;
  #lastTouchMonoMs = 0;
  #timer: { readonly handle: TimerHandle; readonly atMonoMs: number } | undefined;

  constructor(private readonly d: { readonly accounts: AccountStore; readonly settings: SettingsStore; readonly clock: Clock; readonly events: DeviceEvents }) {}

  /** The logged-in operator's account; undefined while nobody is logged in (the operator is Guest). */
  current(): AccountView | undefined {
    this.#logOutIfIdle();
    if (this.#name === undefined) return undefined;
    const account = this.d.accounts.find(this.#name);
    if (!account) this.logOut();
    return account;
  }

  logIn(name: string): void {
    this.#name = name;
    this.#lastTouchMonoMs = this.d.clock.monoNowMs();
    this.#arm();
  }

  logOut(): void {
    this.#name = undefined;
    this.#timer?.handle.cancel();
    this.#timer = undefined;
  }

  /** Someone used the panel: the idle time starts again (after an operator already idle too long is logged out). */
  touch(): void {
    this.#logOutIfIdle();
    if (this.#name === undefined) return;
    this.#lastTouchMonoMs = this.d.clock.monoNowMs();
    this.#arm();
  }

  /** Power off. */
  stop(): void {
    this.logOut();
  }

  #idleMs(): number {
    return this.d.settings.get('security').panelAutoLogoutMin * 60_000;
  }

  #logOutIfIdle(): void {
    if (this.#name === undefined) return;
    const idleMs = this.#idleMs();
    if (this.d.clock.monoNowMs() - this.#lastTouchMonoMs < idleMs) return;
    const user = this.#name;
    this.logOut();
    this.d.events.record('panel-logged-out', 'info', `${user} was logged out at the panel after ${idleMs / 60_000} min without activity`, { user, reason: 'idle' });
  }

  /**
   * A timer at the deadline. One is kept while the operator is logged in: when it fires early
   * (touched since), it is set again for the new deadline; a timer already due later than the
   * deadline (the setting was lowered) is replaced.
   */
  #arm(): void {
    const deadline = this.#lastTouchMonoMs + this.#idleMs();
    if (this.#timer && this.#timer.atMonoMs <= deadline) return;
    this.#timer?.handle.cancel();
    const handle = this.d.clock.schedule(Math.max(0, deadline - this.d.clock.monoNowMs()), () => {
      this.#timer = undefined;
      this.#logOutIfIdle();
      if (this.#name !== undefined) this.#arm();
    });
    this.#timer = { handle, atMonoMs: deadline };
  }
}
