/**
 * Pseudo-random bytes for the benches (xorshift32, not crypto): scans and attachments that do
 * not compress, made in one reused block so that making them costs no memory.
 */

/** `totalBytes` bytes in blocks of at most `blockBytes`; each block is LENT until the next. */
export function* pseudoRandomBlocks(totalBytes: number, seed: number, blockBytes = 4 * 1024 * 1024): Generator<Uint8Array> {
  const block = new Uint32Array(Math.ceil(blockBytes / 4));
  let x = seed >>> 0 || 1;
  for (let done = 0; done < totalBytes; ) {
    for (let i = 0; i < block.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      block[i] = x;
    }
    const piece = new Uint8Array(block.buffer, 0, Math.min(block.byteLength, totalBytes - done));
    yield piece;
    done += piece.length;
  }
}
