/**
 * The look shared by the tester's bench pages (control, mailbox): page frame, header, headings;
 * panels and controls. Colours, lines and type are the shared tokens (remote-ui/src/kit/style-tokens.ts);
 * `benchTokens` adds the bench's own greys.
 */
import { css } from 'lit';
import { deskButtonStyles, styleTokens } from '../../../remote-ui/src/kit/style-tokens.ts';

/** The shared tokens and the bench's own: label and note greys, the light lines inside a section. */
export const benchTokens = css`
  ${styleTokens}
  :host {
    --label: #4a5561;
    --faint: #6b7580;
    --line-soft: #e3e6ea;
    --space-1: 4px;
    --button-padding: 3px 10px;
  }
`;

/** A section's heading: small capitals, with room for a muted note or a button beside it. */
export const benchHeadingStyles = css`
  ${benchTokens}
  h2 {
    font-size: 13px;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: var(--label);
    margin: 0 0 6px;
    display: flex;
    align-items: center;
    gap: var(--space-2);
  }
`;

export const benchFrameStyles = css`
  :host {
    display: block;
    padding: 0 18px 24px;
  }
  header {
    display: flex;
    align-items: baseline;
    justify-content: space-between;
    border-bottom: 2px solid #5a6b7b;
    margin-bottom: var(--space-3);
  }
  h1 {
    font-size: var(--text-title);
    margin: 12px 0 6px;
  }
  nav a {
    margin-left: 14px;
    color: var(--accent);
  }
  ${benchHeadingStyles}
`;

/** A result line (`.msg.ok` / `.msg.error`) and muted side notes, on every bench page. */
export const benchMessageStyles = css`
  .msg {
    padding: 6px 10px;
    border: 1px solid;
    margin: 0 0 10px;
  }
  .msg.error {
    color: var(--error);
    background: var(--error-bg);
  }
  .msg.ok {
    color: var(--ok);
    background: var(--ok-bg);
  }
  .muted {
    color: var(--faint);
    font-weight: normal;
    text-transform: none;
    letter-spacing: 0;
  }
`;

/** The bench's buttons (also the mailbox's download link that looks like one). */
export const benchButtonStyles = css`
  ${deskButtonStyles}
  button,
  a.button {
    white-space: nowrap;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button.small {
    font-size: var(--text-small);
    padding: 1px 8px;
    text-transform: none;
    letter-spacing: 0;
  }
`;

/** Panels, lines of controls, inputs, buttons and the result message of the control page's sections. */
export const benchFormStyles = css`
  section {
    background: #fff;
    border: 1px solid var(--line);
    padding: 10px 12px;
    margin-bottom: var(--space-3);
  }
  .line {
    display: flex;
    align-items: center;
    gap: var(--space-2);
    margin: 5px 0;
  }
  input {
    font: inherit;
    padding: 3px 5px;
    border: 1px solid var(--field-line);
    border-radius: var(--radius);
    width: 200px;
  }
  ${benchButtonStyles}
  button.small {
    margin-left: auto;
  }
  ${benchMessageStyles}
`;

/** The bench's lists: full-width tables with a shaded head row. */
export const benchTableStyles = css`
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: var(--text-small);
  }
  th,
  td {
    text-align: left;
    padding: 2px 6px;
    border-bottom: 1px solid var(--line-soft);
    vertical-align: middle;
  }
  th {
    font-weight: 500;
    color: var(--label);
    background: #f5f6f8;
  }
  /* A small label in a cell (a lever's name, a flag). */
  .tag {
    font-size: 11px;
    color: var(--accent);
    background: #e8f0f8;
    padding: 0 var(--space-1);
    white-space: nowrap;
  }
`;
