/** The look shared by the tester's bench pages (control, mailbox): page frame, header, headings; panels and controls. */
import { css } from 'lit';

/** A section's heading: small capitals, with room for a muted note or a button beside it. */
export const benchHeadingStyles = css`
  h2 {
    font-size: 13px;
    text-transform: uppercase;
    letter-spacing: 0.04em;
    color: #4a5561;
    margin: 0 0 6px;
    display: flex;
    align-items: center;
    gap: 8px;
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
    margin-bottom: 12px;
  }
  h1 {
    font-size: 17px;
    margin: 12px 0 6px;
  }
  nav a {
    margin-left: 14px;
    color: #2f5d8a;
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
    color: #b3261e;
    background: #fdf0ef;
  }
  .msg.ok {
    color: #1e6b35;
    background: #eef8f0;
  }
  .muted {
    color: #6b7580;
    font-weight: normal;
    text-transform: none;
    letter-spacing: 0;
  }
`;

/** Panels, lines of controls, inputs, buttons and the result message of the control page's sections. */
export const benchFormStyles = css`
  section {
    background: #fff;
    border: 1px solid #c9ced6;
    padding: 10px 12px;
    margin-bottom: 12px;
  }
  .line {
    display: flex;
    align-items: center;
    gap: 8px;
    margin: 5px 0;
  }
  input {
    font: inherit;
    padding: 3px 5px;
    border: 1px solid #9aa3ad;
    border-radius: 2px;
    width: 200px;
  }
  button {
    font: inherit;
    padding: 3px 10px;
    border: 1px solid #7d8894;
    border-radius: 2px;
    background: linear-gradient(#fdfdfd, #e4e7ea);
    cursor: pointer;
    white-space: nowrap;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button.small {
    margin-left: auto;
    font-size: 12px;
    padding: 1px 8px;
    text-transform: none;
    letter-spacing: 0;
  }
  ${benchMessageStyles}
`;
