/**
 * The bench's "Faults" section: every fault in force, oldest first, as a row (what the world does
 * now, on what, since when in world time, whether it has run its course) with a Clear button, and
 * Clear All. The page hands the list in from the state it polls (`faults` of `GET /sim/api/state`);
 * after a clear this sends `world-changed` up, and the page reads the state again at once.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { action, pending } from '../../../remote-ui/src/kit/api-task.ts';
import { describeError, type HttpResult } from '../../../remote-ui/src/kit/http-client.ts';
import type { FaultView } from '../sim-state.ts';
import { formatUtc } from './bench-time.ts';
import { benchFormStyles, benchTableStyles, benchHeadingStyles } from './bench-styles.ts';
import { WORLD_CHANGED } from './lever-form.ts';
import { simApi } from './sim-api.ts';

export class SimFaults extends LitElement {
  static override properties = {
    faults: { attribute: false },
    message: { state: true },
  };

  /** Oldest first; undefined until the state first arrives. */
  declare faults: readonly FaultView[] | undefined;
  declare message: { ok: boolean; text: string } | undefined;

  private readonly clear = action(this, async (request: Promise<HttpResult<unknown>>, done: string) => {
    const result = await request;
    this.message = result.ok ? { ok: true, text: done } : { ok: false, text: describeError(result.error) };
    if (!result.ok) this.refocusAfter = undefined;
    this.dispatchEvent(new Event(WORLD_CHANGED, { bubbles: true, composed: true }));
  });

  /**
   * The faults being cleared and the row whose button was pressed: once they are gone from the
   * list, the focus goes to the Clear button now at that row (or to the empty list's line), not
   * to the page's start.
   */
  private refocusAfter: { readonly ids: readonly string[]; readonly index: number } | undefined;

  override updated(): void {
    const after = this.refocusAfter;
    if (!after || this.faults?.some((f) => after.ids.includes(f.id))) return;
    this.refocusAfter = undefined;
    const buttons = this.renderRoot.querySelectorAll<HTMLElement>('[data-test=fault] button');
    (buttons[Math.min(after.index, buttons.length - 1)] ?? this.renderRoot.querySelector<HTMLElement>('[data-test=no-faults]'))?.focus();
  }

  private clearOne(fault: FaultView, index: number): void {
    this.refocusAfter = { ids: [fault.id], index };
    void this.clear.run([simApi('DELETE /sim/api/faults/:id', { params: { id: fault.id } }), `Cleared ${fault.id}: ${fault.sentence}`]);
  }

  private clearAll(): void {
    this.refocusAfter = { ids: (this.faults ?? []).map((f) => f.id), index: 0 };
    void this.clear.run([simApi('DELETE /sim/api/faults'), 'Every fault cleared: the simulated world is back to normal.']);
  }

  override render(): TemplateResult {
    const faults = this.faults;
    const busy = pending(this.clear);
    return html`<section data-test="faults">
      <h2>
        Faults <span class="muted">(in force, oldest first; times are world time, UTC)</span>
        <button type="button" class="small" data-test="clear-all-faults" ?disabled=${busy || !faults?.length} @click=${this.clearAll}>Clear All</button>
      </h2>
      ${this.message
        ? html`<p class="msg ${this.message.ok ? 'ok' : 'error'}" role=${this.message.ok ? 'status' : 'alert'} data-test="faults-message">${this.message.text}</p>`
        : nothing}
      ${faults === undefined
        ? html`<p class="muted">Asking the simulator…</p>`
        : faults.length === 0
          ? html`<p class="muted empty" data-test="no-faults" tabindex="-1">No faults: the simulated world behaves normally.</p>`
          : html`<table>
              <thead>
                <tr><th class="id">Id</th><th>What the world does</th><th>Target</th><th class="since">Since</th><th class="status">Status</th><th class="actions"><span class="sr">Clear</span></th></tr>
              </thead>
              <tbody>
                ${faults.map(
                  (f, index) => html`<tr data-test="fault" data-id=${f.id} data-lever=${f.lever} class=${f.active ? '' : 'spent'}>
                    <td class="id mono">${f.id}</td>
                    <td><span class="sentence" data-test="fault-sentence">${f.sentence}</span> <code class="tag" title="the lever that made it">${f.lever}</code></td>
                    <td class="mono">${f.target}</td>
                    <td class="since">${formatUtc(f.sinceMs)}</td>
                    <td class="status">${f.active ? html`<span class="live">in force</span>` : html`<span class="spent-mark" data-test="fault-spent">ran its course</span>`}</td>
                    <td class="actions">
                      <button type="button" class="small" ?disabled=${busy} aria-label=${`Clear ${f.id}: ${f.sentence}`} @click=${() => this.clearOne(f, index)}>Clear</button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
    </section>`;
  }

  static override styles = [
    benchHeadingStyles,
    benchFormStyles,
    benchTableStyles,
    css`
      :host {
        display: block;
      }
      td {
        padding: 3px 6px;
        vertical-align: baseline;
      }
      .id {
        width: 36px;
        color: var(--faint);
      }
      .since {
        width: 130px;
        white-space: nowrap;
        font-variant-numeric: tabular-nums;
      }
      .status {
        width: 100px;
        white-space: nowrap;
      }
      .actions {
        width: 1%;
        text-align: right;
      }
      .mono,
      code {
        font-family: var(--mono);
        font-size: 11.5px;
      }
      .live {
        color: var(--error);
        font-weight: 600;
      }
      tr.spent td {
        color: var(--faint);
      }
      .spent-mark {
        color: var(--warn-ink);
        background: var(--warn-bg);
        padding: 0 var(--space-1);
        white-space: nowrap;
      }
      .empty {
        margin: 4px 0;
      }
      .sr {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip-path: inset(50%);
      }
    `,
  ];
}

customElements.define('sim-faults', SimFaults);
