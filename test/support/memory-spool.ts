/**
 * A spool in RAM for tests of the send queue (the simulator's is device-sim/hal/file-spool.ts).
 * `files` is the committed state a power cut leaves; open writers vanish with the RAM.
 */
import type { Spool, SpoolWriter } from '../../firmware/hal/spool.ts';

export class MemorySpool implements Spool {
  readonly files = new Map<string, Uint8Array>();

  constructor(private readonly capacityBytes = 1 << 30) {}

  async create(name: string): Promise<SpoolWriter> {
    if (this.files.has(name)) throw new Error(`spool file ${name} exists`);
    const parts: Uint8Array[] = [];
    let size = 0;
    return {
      write: async (bytes) => {
        size += bytes.length;
        if (size > (await this.freeBytes())) throw new Error('spool full');
        parts.push(bytes.slice());
      },
      commit: async () => {
        const all = new Uint8Array(size);
        let at = 0;
        for (const p of parts) {
          all.set(p, at);
          at += p.length;
        }
        this.files.set(name, all);
        return size;
      },
      abort: async () => {
        parts.length = 0;
      },
    };
  }

  async *read(name: string, chunkBytes: number, startByte = 0): AsyncIterable<Uint8Array> {
    const file = this.files.get(name);
    if (!file) throw new Error(`no spool file ${name}`);
    for (let at = startByte; at < file.length; at += chunkBytes) yield file.subarray(at, Math.min(file.length, at + chunkBytes));
  }

  async size(name: string): Promise<number | undefined> {
    return this.files.get(name)?.length;
  }

  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }

  async list(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }

  async freeBytes(): Promise<number> {
    let used = 0;
    for (const f of this.files.values()) used += f.length;
    return this.capacityBytes - used;
  }
}
