/** The Remote UI's look: compact, neutral, a printer's admin pages rather than a web app. */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    display: block;
    --line: #c9ced6;
    --head: #eef0f3;
    --accent: #2f5d8a;
    --error: #b3261e;
    --ok: #1e6b35;
    --warn-bg: #fff4d6;
    --warn-line: #e0b44c;
  }
  h1 {
    font-size: 17px;
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
    border: 1px solid #9aa3ad;
    border-radius: 2px;
    min-width: 260px;
    box-sizing: border-box;
    background: #fff;
  }
  input[type='number'] {
    min-width: 90px;
    width: 90px;
  }
  input[aria-invalid='true'],
  select[aria-invalid='true'] {
    border-color: var(--error);
    outline: 1px solid var(--error);
  }
  .hint {
    color: #5b636d;
    font-size: 12px;
    margin-top: 2px;
  }
  .field-error {
    color: var(--error);
    font-size: 12px;
    margin-top: 2px;
  }
  .field-error::before {
    content: '⚠ ';
  }
  button,
  a.button,
  label.button {
    font: inherit;
    padding: 4px 14px;
    border: 1px solid #7d8894;
    border-radius: 2px;
    background: linear-gradient(#fdfdfd, #e4e7ea);
    cursor: pointer;
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
    gap: 8px;
    justify-content: flex-end;
    margin: 8px 0 12px;
  }
  .msg {
    padding: 6px 10px;
    margin: 0 0 10px;
    border: 1px solid;
  }
  .msg.error {
    color: var(--error);
    border-color: #e3a8a4;
    background: #fdf0ef;
  }
  .msg.ok {
    color: var(--ok);
    border-color: #9ccfa9;
    background: #eef8f0;
  }
  .note,
  .warning {
    padding: 7px 10px;
    margin: 0 0 12px;
    border: 1px solid var(--warn-line);
    background: var(--warn-bg);
  }
  .warning.error {
    color: var(--error);
    border-color: #e3a8a4;
    background: #fdf0ef;
  }
  .note {
    border-color: #a9bfd6;
    background: #eef4fa;
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
