/**
 * The touch panel's look, shared by its screens: a title row with a way back, big touch targets
 * (at least 48 px), segmented choices made of real radio buttons, inputs a finger can hit, and the
 * colours of a job's outcome. Colours and sizes are the shared tokens
 * (remote-ui/src/kit/style-tokens.ts) and the touch screen's own (`touchTokens`).
 */
import { css } from 'lit';
import { styleTokens } from '../../../remote-ui/src/kit/style-tokens.ts';

/** The shared tokens and a touch screen's own: target size, corners, type sizes, its brighter palette. */
export const touchTokens = css`
  ${styleTokens}
  :host {
    --touch-target: 48px;
    --touch-radius: 8px;
    --touch-text: 17px;
    --touch-ink: #1f2a35;
    --touch-label: #3c4a58;
    --touch-muted: #5d6975;
    --touch-line: #c3ccd5;
    --touch-primary: #1f6fbf;
    --touch-primary-line: #1a5c9e;
    --touch-focus: #f2a900;
    --touch-ok: #17692f;
    --touch-danger: #c62828;
    --touch-danger-ink: #a31d16;
  }
`;

/** A device code and the boxes that say why something cannot be done (also on the Home screen). */
export const panelAlertStyles = css`
  ${touchTokens}
  .code {
    font-family: ui-monospace, 'DejaVu Sans Mono', monospace;
    font-weight: 600;
  }
  .alert {
    display: flex;
    align-items: center;
    gap: 10px;
    padding: 8px 14px;
    border-radius: var(--touch-radius);
    border: 1px solid #e0a100;
    background: #fff7de;
    color: #5e4200;
    font-size: 16px;
  }
  .alert.error {
    border-color: #d9534f;
    background: #fdeceb;
    color: #8c1d18;
  }
`;

/** Everything a screen below the status bar uses. */
export const panelStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    flex: 1;
    min-height: 0;
    color: var(--touch-ink);
  }
  .titlebar {
    display: flex;
    align-items: center;
    gap: 14px;
    height: 60px;
    padding: 0 16px;
    border-bottom: 1px solid var(--touch-line);
    background: #fff;
    flex: none;
  }
  /* The row of the screen's main actions (Start, Done), at the bottom. */
  .footer {
    display: flex;
    align-items: center;
    gap: var(--space-3);
    height: 76px;
    padding: 0 16px;
    border-top: 1px solid var(--touch-line);
    background: #fff;
    flex: none;
  }
  .titlebar h1 {
    margin: 0;
    font-size: 22px;
    font-weight: 600;
  }
  .titlebar .right {
    margin-left: auto;
    display: flex;
    gap: 10px;
  }
  button,
  .choice span {
    font: inherit;
    min-height: var(--touch-target);
    padding: 0 18px;
    border: 1px solid #9fabb7;
    border-radius: var(--touch-radius);
    background: linear-gradient(#ffffff, #e8edf1);
    color: var(--touch-ink);
    cursor: pointer;
    touch-action: manipulation;
  }
  button:active {
    background: #d4dde5;
  }
  button:disabled {
    color: #9aa4ae;
    background: var(--shade);
    border-color: #c9d0d7;
    cursor: default;
  }
  button.primary {
    background: linear-gradient(#2f8ae0, var(--touch-primary));
    border-color: var(--touch-primary-line);
    color: #fff;
    font-weight: 600;
  }
  button.back {
    font-size: var(--touch-text);
  }
  input[type='text'],
  input[type='search'],
  input[type='email'],
  input[type='password'],
  input[type='number'],
  textarea {
    font: inherit;
    font-size: 18px;
    min-height: var(--touch-target);
    box-sizing: border-box;
    padding: 6px 12px;
    border: 1px solid #8e9aa6;
    border-radius: var(--touch-radius);
    background: #fff;
    width: 100%;
  }
  textarea {
    resize: none;
  }
  input[aria-invalid='true'],
  textarea[aria-invalid='true'] {
    border: 2px solid var(--touch-danger);
    background: #fff6f5;
  }
  label.field {
    display: block;
    font-size: 15px;
    font-weight: 600;
    color: var(--touch-label);
    margin: 0 0 4px;
  }
  .field-error {
    color: var(--error);
    font-size: 15px;
    margin-top: 4px;
  }
  .hint {
    color: var(--touch-muted);
    font-size: 14px;
    font-weight: normal;
  }
  /* Segmented choices: real radio buttons (keyboard, labels, screen readers) drawn as keys. */
  fieldset {
    border: 0;
    margin: 0;
    padding: 0;
    min-width: 0;
  }
  legend {
    font-size: 15px;
    font-weight: 600;
    color: var(--touch-label);
    padding: 0;
    margin-bottom: 4px;
  }
  .choices {
    display: flex;
    gap: 0;
  }
  .choice {
    flex: 1;
    position: relative;
  }
  .choice input {
    position: absolute;
    opacity: 0;
    inset: 0;
    margin: 0;
    cursor: pointer;
  }
  .choice span {
    display: flex;
    align-items: center;
    justify-content: center;
    border-radius: 0;
    margin-left: -1px;
    white-space: nowrap;
    padding: 0 10px;
  }
  .choice:first-child span {
    border-radius: var(--touch-radius) 0 0 var(--touch-radius);
    margin-left: 0;
  }
  .choice:last-child span {
    border-radius: 0 var(--touch-radius) var(--touch-radius) 0;
  }
  .choice input:checked + span {
    background: var(--touch-primary);
    border-color: var(--touch-primary-line);
    color: #fff;
    font-weight: 600;
  }
  .choice input:focus-visible + span,
  button:focus-visible {
    outline: 3px solid var(--touch-focus);
    outline-offset: 1px;
  }
  .badge {
    display: inline-block;
    min-width: 44px;
    text-align: center;
    padding: 3px 8px;
    border-radius: 6px;
    font-size: 14px;
    font-weight: 600;
    background: #dfe6ec;
    color: #2f3a45;
  }
  .phase-delivered {
    background: #dff3e4;
    color: var(--touch-ok);
  }
  .phase-failed {
    background: #fde3e1;
    color: var(--touch-danger-ink);
  }
  .phase-retrying {
    background: #fff1cc;
    color: #7a5200;
  }
  ${panelAlertStyles}
`;
