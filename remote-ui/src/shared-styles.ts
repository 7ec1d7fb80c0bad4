/**
 * The Remote UI's look: compact, neutral, a printer's admin pages rather than a web app. Colours,
 * lines and type come from the shared tokens (kit/style-tokens.ts).
 */
import { css } from 'lit';
import { deskButtonStyles, styleTokens } from './kit/style-tokens.ts';

export const sharedStyles = css`
  ${styleTokens}
  :host {
    display: block;
    /* The dark bar of the header and the login box. */
    --bar: linear-gradient(#3b4652, #28313a);
    --bar-muted: #d5dbe1;
  }
  h1 {
    font-size: var(--text-title);
    font-weight: 600;
    margin: 0 0 10px;
    padding-bottom: 6px;
    border-bottom: 2px solid var(--accent);
  }
  h2 {
    font-size: 14px;
    font-weight: 600;
    margin: 18px 0 6px;
  }
  a {
    color: var(--accent);
  }
  .panel {
    background: #fff;
    border: 1px solid var(--line);
    margin-bottom: 12px;
  }
  .row {
    display: grid;
    grid-template-columns: 230px 1fr;
    border-bottom: 1px solid var(--line);
  }
  .row:last-child {
    border-bottom: 0;
  }
  .row > label,
  .row > .label {
    background: var(--head);
    padding: 7px 10px;
    font-weight: 500;
  }
  .row > .cell {
    padding: 5px 10px;
    min-height: 20px;
    align-self: center;
  }
  input:not([type='checkbox']),
  select {
    font: inherit;
    padding: 3px 5px;
    border: 1px solid var(--field-line);
    border-radius: var(--radius);
    min-width: 260px;
    box-sizing: border-box;
    background: #fff;
  }
  input[type='number'] {
    min-width: 90px;
    width: 90px;
  }
  /* Multi-line text to paste (PEM, an address): monospace, the width of the cell. */
  textarea {
    font: var(--text-small) / 1.4 var(--mono);
    width: 100%;
    box-sizing: border-box;
    border: 1px solid var(--field-line);
    border-radius: var(--radius);
  }
  input[aria-invalid='true'],
  select[aria-invalid='true'],
  textarea[aria-invalid='true'] {
    border-color: var(--error);
    outline: 1px solid var(--error);
  }
  .hint {
    color: var(--muted);
    font-size: var(--text-small);
    margin-top: 2px;
  }
  .field-error {
    color: var(--error);
    font-size: var(--text-small);
    margin-top: 2px;
  }
  .field-error::before {
    content: '⚠ ';
  }
  ${deskButtonStyles}
  button.small,
  .row-actions button {
    padding: 2px 10px;
  }
  /* A download link or a file picker's label that looks like the buttons beside it. */
  a.button,
  label.button {
    display: inline-block;
    color: inherit;
    text-decoration: none;
  }
  button.primary {
    background: linear-gradient(#3f75a9, #2f5d8a);
    border-color: #244a6e;
    color: #fff;
  }
  button.danger {
    color: var(--error);
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  .actions {
    display: flex;
    gap: var(--space-2);
    justify-content: flex-end;
    margin: var(--space-2) 0 var(--space-3);
  }
  .actions.start {
    justify-content: flex-start;
  }
  /* What to do about a failure, under its sentence. */
  .remedy {
    margin-top: 3px;
    color: #3d4650;
  }
  .msg {
    padding: 6px 10px;
    margin: 0 0 10px;
    border: 1px solid;
  }
  .msg.error,
  .warning.error {
    color: var(--error);
    border-color: var(--error-line);
    background: var(--error-bg);
  }
  .msg.ok {
    color: var(--ok);
    border-color: var(--ok-line);
    background: var(--ok-bg);
  }
  .note,
  .warning {
    padding: 7px 10px;
    margin: 0 0 12px;
    border: 1px solid var(--warn-line);
    background: var(--warn-bg);
  }
  .note {
    border-color: var(--note-line);
    background: var(--note-bg);
  }
  table {
    border-collapse: collapse;
    width: 100%;
    background: #fff;
  }
  th,
  td {
    text-align: left;
    padding: 5px 8px;
    border: 1px solid var(--line);
  }
  th {
    background: var(--head);
    font-weight: 500;
  }
  .mono {
    font-variant-numeric: tabular-nums;
  }
  .nowrap {
    white-space: nowrap;
  }
  /* A line of controls above a table (search, filter, Add). */
  .toolbar {
    display: flex;
    align-items: center;
    gap: 10px;
    margin: 0 0 10px;
  }
  /* A table row's Edit and Delete. */
  .row-actions {
    white-space: nowrap;
    width: 1%;
  }
  tr.failed td,
  tr.error td {
    background: var(--error-bg);
  }
  /* An inline "are you sure?" strip above a table. */
  .confirm {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 12px;
  }
  .confirm .buttons {
    display: flex;
    flex: none;
    gap: 8px;
    white-space: nowrap;
  }
`;
