/**
 * The bench's "Add a Fault or Do Something" section: every lever of the table
 * (`GET /sim/api/levers`, read once), group by group, each a disclosure with its summary that
 * opens onto its generated form (lever-form.ts). A form is made the first time its lever is
 * opened and kept after, so what the tester typed survives closing it.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiTask } from '../../../remote-ui/src/kit/api-task.ts';
import { describeError } from '../../../remote-ui/src/kit/http-client.ts';
import type { LeverInfo } from '../sim-state.ts';
import { benchFormStyles, benchHeadingStyles } from './bench-styles.ts';
import { simApi } from './sim-api.ts';
import './lever-form.ts';

export class SimLeverCatalogue extends LitElement {
  static override properties = { opened: { state: true } };

  /** The levers whose form has been opened once. */
  declare opened: ReadonlySet<string>;
  private readonly levers = new ApiTask(this, (_, call) => simApi('GET /sim/api/levers', call));

  constructor() {
    super();
    this.opened = new Set();
  }

  private onToggle(name: string, event: Event): void {
    if ((event.target as HTMLDetailsElement).open && !this.opened.has(name)) this.opened = new Set([...this.opened, name]);
  }

  override render(): TemplateResult {
    return html`<section data-test="levers">
      <h2>Add a Fault or Do Something <span class="muted">(every lever of the bench; each form starts with a working example)</span></h2>
      ${this.levers.view(
        (levers) => groupsOf(levers).map(
          ([title, group]) => html`<h3>${title}</h3>
            ${group.map(
              (l) => html`<details data-test="lever" data-lever=${l.name} @toggle=${(e: Event) => this.onToggle(l.name, e)}>
                <summary><code>${l.name}</code> <span class="kind ${l.makes}">${l.makes}</span> <span class="summary">${l.summary}</span></summary>
                ${this.opened.has(l.name) ? html`<sim-lever-form .lever=${l} data-lever=${l.name}></sim-lever-form>` : nothing}
              </details>`,
            )}`,
        ),
        html`<p class="muted">Asking the simulator for its levers…</p>`,
        (e) => html`<p class="msg error" role="alert">${describeError(e)}</p>`,
      )}
    </section>`;
  }

  static override styles = [
    benchHeadingStyles,
    benchFormStyles,
    css`
      :host {
        display: block;
      }
      h3 {
        font-size: var(--text-small);
        margin: 10px 0 2px;
        color: #2b333b;
      }
      details {
        border-bottom: 1px solid var(--line-soft);
      }
      details[open] {
        background: #fafbfc;
        padding-bottom: 6px;
      }
      summary {
        cursor: pointer;
        padding: 3px 4px;
        font-size: var(--text-small);
      }
      summary:focus-visible {
        outline: 2px solid var(--accent);
      }
      summary code {
        font-family: var(--mono);
        font-weight: 600;
        color: var(--ink);
      }
      .summary {
        color: #3b444d;
      }
      .kind {
        font-size: 11px;
        padding: 0 var(--space-1);
        color: var(--accent);
        background: #e8f0f8;
      }
      .kind.action {
        color: var(--ok);
        background: var(--ok-bg);
      }
      sim-lever-form {
        padding: 0 4px 0 22px;
      }
    `,
  ];
}

customElements.define('sim-lever-catalogue', SimLeverCatalogue);

/** The levers under their group titles, in the order the simulator lists them. */
function groupsOf(levers: readonly LeverInfo[]): [string, LeverInfo[]][] {
  const groups = new Map<string, LeverInfo[]>();
  for (const l of levers) groups.set(l.groupTitle, [...(groups.get(l.groupTitle) ?? []), l]);
  return [...groups];
}
