/** The small Node HAL ports: randomness, the log, and the Remote UI's files in "flash". */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Assets } from '../../firmware/hal/assets.ts';
import type { Log, LogLevel } from '../../firmware/hal/log.ts';
import type { Random } from '../../firmware/hal/random.ts';

export const nodeRandom: Random = {
  bytes: (length) => new Uint8Array(randomBytes(length)),
};

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Log lines to stderr at or above `minLevel`; `silent` for tests. */
export function consoleLog(minLevel: LogLevel | 'silent', prefix = 'device'): Log {
  return {
    write(level, component, message, fields) {
      if (minLevel === 'silent' || LEVELS[level] < LEVELS[minLevel]) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`${new Date().toISOString()} ${prefix} ${level.toUpperCase()} ${component}: ${message}${extra}\n`);
    },
  };
}

/** Files of a built UI directory, confined to it. */
export function directoryAssets(dir: string): Assets {
  const root = resolve(dir);
  return {
    async read(path) {
      const full = resolve(join(root, path));
      if (!full.startsWith(root + sep)) return undefined;
      try {
        return new Uint8Array(await readFile(full));
      } catch {
        return undefined;
      }
    },
  };
}
