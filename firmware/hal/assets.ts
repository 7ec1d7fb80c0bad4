/** Assets port: the read-only flash image holding the built Remote UI. */
export interface Assets {
  /** `path` is relative, without a leading slash, e.g. `index.html`, `assets/app-x1.js`. */
  read(path: string): Promise<Uint8Array | undefined>;
}
