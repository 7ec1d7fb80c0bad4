/**
 * The mailbox's answer shapes (types only, no runtime code): shared by the mailbox itself
 * (mailbox.ts), its HTTP API and the testers' mailbox page, which compiles without Node types.
 */

export interface DataFraming {
  /** Longest line seen, octets including its CRLF (or bare LF). */
  readonly longestLineOctets: number;
  /** Lines longer than SMTP_MAX_TEXT_LINE_OCTETS. */
  readonly linesOverLimit: number;
  /** LF not preceded by CR. */
  readonly bareLf: number;
  /** CR not followed by LF. */
  readonly bareCr: number;
  /** Any octet >= 0x80. */
  readonly eightBit: boolean;
}

export interface MailEnvelope {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
}

/** How the message reached the mailbox (filled in by the server that accepted it). */
export interface DeliveryInfo {
  readonly server: { readonly kind: string; readonly host: string; readonly port: number };
  /** null: the message came in without TLS (or was added by a test directly). */
  readonly tls: {
    readonly mode: 'starttls' | 'implicit';
    readonly protocol: string | null;
    readonly cipher: string | null;
    /** The name the client asked for with SNI. */
    readonly servername: string | null;
  } | null;
  readonly auth: { readonly user: string; readonly method: string } | null;
  readonly remoteAddress: string;
  /** BODY= parameter of MAIL FROM ('7bit' when absent). */
  readonly bodyType: string;
  readonly smtpUtf8: boolean;
  readonly framing: DataFraming | null;
}

export interface AttachmentInfo {
  /** Position among the message's attachments, from 0 (the `:n` of the download URL). */
  readonly index: number;
  readonly filename: string | null;
  readonly contentType: string;
  readonly disposition: string | null;
  readonly contentId: string | null;
  /** Decoded size, octets. */
  readonly size: number;
  /** SHA-256 of the decoded content, hex. */
  readonly sha256: string;
}

/** One line of the list. */
export interface MailboxSummary {
  readonly id: string;
  /** When the server accepted it, on the simulated clock. */
  readonly receivedAtMs: number;
  readonly receivedAt: string;
  readonly serverKind: string;
  readonly envelope: MailEnvelope;
  /** The From header as text (e.g. `"Scanner" <scan@example.com>`). */
  readonly from: string | null;
  /** Addresses of the To header. */
  readonly to: readonly string[];
  readonly subject: string | null;
  /** The Date header, ISO 8601, or null when absent or unparsable. */
  readonly date: string | null;
  /** Raw size, octets. */
  readonly size: number;
  /** SHA-256 of the raw source, hex. */
  readonly sha256: string;
  readonly attachmentCount: number;
}

/** `GET /sim/api/mailbox`: what the emulated mail servers accepted, newest first. */
export interface MailboxList {
  readonly total: number;
  readonly messages: readonly MailboxSummary[];
}

/** The parsed summary of one message. */
export interface MailboxMessage extends MailboxSummary {
  readonly delivery: DeliveryInfo;
  readonly messageId: string | null;
  readonly cc: readonly string[];
  /** Raw header lines in order (unfolded key, folded line as received). */
  readonly headerLines: readonly { readonly key: string; readonly line: string }[];
  readonly text: string | null;
  readonly textTruncated: boolean;
  readonly html: string | null;
  readonly htmlTruncated: boolean;
  readonly attachments: readonly AttachmentInfo[];
  /** Whether the raw source is kept in a temp file (large message) rather than RAM. */
  readonly spilled: boolean;
}
