/**
 * Net port: TCP connections by host name and port, with a TLS upgrade (STARTTLS, RFC 3207) or
 * TLS from the first byte (implicit TLS, RFC 8314).
 *
 * The platform performs the TLS handshake but does NOT decide whether to trust the peer: every
 * TLS step returns the peer's certificate chain as DER and the firmware verifies it (firmware/pki)
 * against its own CA store at device time before sending a byte of credentials or mail.
 */

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsOptions {
  /** Sent as SNI. */
  readonly servername: string;
  readonly minVersion: TlsVersion;
}

export interface TlsInfo {
  readonly version: string;
  readonly cipher: string;
  /** Peer chain as sent by the server, leaf first, DER. Not verified by the platform. */
  readonly peerChainDer: readonly Uint8Array[];
}

/** Why a connection attempt or a socket failed; each maps to a device error code later. */
export type NetErrorKind =
  | 'dns' // the name does not resolve
  | 'refused'
  | 'timeout'
  | 'reset'
  | 'tls-handshake' // TLS failed before a chain was received (cipher, not TLS at all, anything else)
  | 'tls-version' // TLS failed because the peer and the device have no protocol version in common
  | 'closed'
  | 'other';

export interface NetError {
  readonly kind: NetErrorKind;
  readonly detail: string;
}

export type NetResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: NetError };

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Present for implicit TLS. */
  readonly tls?: TlsOptions;
}

export interface SocketHandlers {
  onData(bytes: Uint8Array): void;
  /** The peer closed or the connection failed. Called at most once. */
  onClose(error?: NetError): void;
}

export interface NetSocket {
  /** TLS details once TLS is up (implicit TLS or after `upgradeTls`). */
  readonly tls: TlsInfo | undefined;
  setHandlers(handlers: SocketHandlers): void;
  /**
   * Queue bytes for the peer. Resolves when the platform is done with `bytes` (the caller may
   * reuse the buffer) and can take more (its send buffer drained below its limit); a sender that
   * awaits each write never makes memory grow with the message. After a close it resolves at once
   * (onClose reports the close).
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Start TLS on this connection (STARTTLS). Bytes received before the handshake and not yet
   * delivered are discarded (RFC 3207 §4.2: nothing read before TLS may be trusted).
   */
  upgradeTls(options: TlsOptions & { readonly timeoutMs: number }): Promise<NetResult<TlsInfo>>;
  close(): void;
}

export interface Net {
  connect(options: ConnectOptions): Promise<NetResult<NetSocket>>;
}
