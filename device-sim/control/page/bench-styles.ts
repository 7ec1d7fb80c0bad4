/** The look shared by the tester's bench pages (control, mailbox): page frame, header, headings. */
import { css } from 'lit';

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
