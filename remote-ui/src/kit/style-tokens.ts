/**
 * The design tokens of every page: the Remote UI (shared-styles.ts), the tester's bench and
 * mailbox (device-sim/control/page/bench-styles.ts) and the control panel
 * (device-sim/panel/page/panel-styles.ts). Colours, lines, radii, spacing and type sizes are named
 * here once, as custom properties on each element's host, and the three style systems draw with
 * `var(--…)`. A system adds the few values only it uses (the bench's label greys, the panel's
 * touch sizes) beside its own styles: an unused `css` fragment is not tree-shaken, and the Remote
 * UI ships from the device's flash.
 */
import { css } from 'lit';

export const styleTokens = css`
  :host {
    /* Ink and lines */
    --ink: #1d1f22;
    --muted: #5b636d;
    --line: #c9ced6;
    --head: #eef0f3;
    --shade: #eef1f4;
    --accent: #2f5d8a;
    /* Outcomes: done, refused, look out, for your information */
    --ok: #1e6b35;
    --ok-bg: #eef8f0;
    --ok-line: #9ccfa9;
    --error: #b3261e;
    --error-bg: #fdf0ef;
    --error-line: #e3a8a4;
    --warn-bg: #fff4d6;
    --warn-line: #e0b44c;
    --warn-ink: #8a5a00;
    --note-bg: #eef4fa;
    --note-line: #a9bfd6;
    /* Controls */
    --field-line: #9aa3ad;
    --button-line: #7d8894;
    --button-face: linear-gradient(#fdfdfd, #e4e7ea);
    --button-padding: 4px 14px;
    --radius: 2px;
    --space-2: 8px;
    --space-3: 12px;
    /* Type */
    --mono: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
    --text-small: 12px;
    --text-title: 17px;
  }
`;

/** The button of the desk pages (the Remote UI, the bench), and a link or a file picker's label drawn as one. */
export const deskButtonStyles = css`
  button,
  a.button,
  label.button {
    font: inherit;
    padding: var(--button-padding);
    border: 1px solid var(--button-line);
    border-radius: var(--radius);
    background: var(--button-face);
    cursor: pointer;
  }
`;
