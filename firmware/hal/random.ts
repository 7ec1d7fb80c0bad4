/** Random port: cryptographically strong bytes (salts, session ids, CSRF tokens, PKCE). */
export interface Random {
  bytes(length: number): Uint8Array;
}
