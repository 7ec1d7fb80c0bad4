/**
 * The simulator as a tester runs it: `device-sim/main.ts` in its own process, reached only over
 * HTTP (the Remote UI, the panel API and the bench's `/sim/api`), with the addresses read from the
 * banner it prints. Tests built on this import nothing of the simulator's insides.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '../..');

export interface SimProcess {
  readonly child: ChildProcess;
  /** The Remote UI, e.g. http://127.0.0.1:40123/ */
  readonly remoteUi: string;
  /** The bench's origin (control page, panel API, /sim/api), e.g. http://127.0.0.1:40124/ */
  readonly control: string;
  readonly factoryPassword: string;
  readonly seed: string;
  readonly exited: Promise<void>;
  /** SIGKILL (a power cut of the whole machine); resolves when it is gone. */
  kill(): Promise<void>;
}

/** Start the simulator on `stateDir` with `args` (`--virtual-time`, `--seed N`); resolves once it is ready. */
export async function startSimProcess(stateDir: string, args: readonly string[] = []): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'device-sim/main.ts', '--port', '0', '--sim-port', '0', '--state-dir', stateDir, '--log-level', 'silent', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const found: Record<string, string> = {};
  await new Promise<void>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /Remote UI \(administrators\):\s+(\S+)|Simulator control \(testers\):\s+(\S+)|password from the label: (\S+)|Seed: (\S+)/.exec(line);
      if (m?.[1]) found.remoteUi = m[1];
      if (m?.[2]) found.control = new URL('/', m[2]).href;
      if (m?.[3]) found.password = m[3];
      if (m?.[4]) found.seed = m[4];
      if (found.remoteUi && found.control && found.password && found.seed) ok();
    });
    void exited.then(() => fail(new Error(`the simulator exited before it was ready: ${stderr}`)));
  });
  return {
    child,
    remoteUi: found.remoteUi!,
    control: found.control!,
    factoryPassword: found.password!,
    seed: found.seed!,
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The bench's HTTP API: JSON in, JSON out, the status kept. */
export class BenchClient {
  constructor(readonly control: string) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const r = await fetch(new URL(path, this.control), { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const text = await r.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: r.status, json };
  }

  /** Pull a lever; throws with the answer when it is refused. Returns the pull (with `fault.id` for a fault). */
  async lever(name: string, args: unknown = {}): Promise<any> {
    const r = await this.call('POST', `/sim/api/levers/${name}`, args);
    if (r.status >= 400) throw new Error(`${name} refused: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/sim/api/faults');
  }
}
