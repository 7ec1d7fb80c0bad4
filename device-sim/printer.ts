/**
 * One simulated printer: the firmware booted on the Node HAL, its Remote UI listener, the RTC
 * that survives power cycles (it has a battery), the secure element (the device key, in a key
 * store outside the state directory: hal/file-key-store.ts), the power switch, and the tester's
 * faults of the printer itself (`faults`: power cuts at named points, scanner faults;
 * printer-faults.ts).
 *
 * Each boot's ports go through a power domain of its own (hal/power-domain.ts): at a power off,
 * by the switch or by a cut, whatever of that boot is still running in this process (a send in
 * flight, an NVRAM write between two steps, a timer) can no longer touch NVRAM, the spool, the
 * network or the clock, so the next boot starts on exactly what the power off left.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer as createHttpsServer } from 'node:https';
import { serve } from '@hono/node-server';
import { bootDevice, type Device } from '../firmware/device.ts';
import type { LogLevel } from '../firmware/hal/log.ts';
import type { Random } from '../firmware/hal/random.ts';
import type { Scanner } from '../firmware/hal/scanner.ts';
import type { NetworkSettings } from '../firmware/settings/schemas.ts';
import { DEFAULT_SPOOL_CAPACITY_BYTES, FileSpool } from './hal/file-spool.ts';
import { FileStorage, PoweredOffError, type WriteStage } from './hal/file-storage.ts';
import { deviceIdOf } from './hal/device-id.ts';
import { defaultKeyStoreDir, FileKeyStore } from './hal/file-key-store.ts';
import { consoleLog, directoryAssets, nodeRandom } from './hal/node-basics.ts';
import { NodeHttp } from './hal/node-http.ts';
import { NodeNet, type NetRoutes } from './hal/node-net.ts';
import { HostResolver } from './hal/host-resolver.ts';
import { PowerDomain, poweredClock, poweredHttp, poweredLog, poweredNet, poweredScanner, poweredSpool, poweredStorage } from './hal/power-domain.ts';
import { SimClock, type RtcState } from './hal/sim-clock.ts';
import { SimNetwork } from './hal/sim-network.ts';
import type { SmtpWireEvent } from './hal/smtp-wire-watch.ts';
import { RealTimeSource, type TimeSource } from './hal/time-source.ts';
import { PrinterFaults } from './printer-faults.ts';
import { SimScanner } from './scanner/sim-scanner.ts';

export interface PrinterOptions {
  /** Where NVRAM, the RTC state and the spool live. */
  readonly stateDir: string;
  /**
   * The key store (the secure element): where the device key lives, outside `stateDir` (a copy
   * of the state directory must not carry it). Default defaultKeyStoreDir(): `$KEY_STORE_DIR`,
   * else `$XDG_STATE_HOME/mfp-sim/secure-element` (or `~/.local/state/…`).
   */
  readonly keyStoreDir?: string;
  /** Remote UI port on 127.0.0.1; 0 picks a free one (kept across power cycles). */
  readonly port: number;
  /** The built Remote UI (the firmware image's web files). */
  readonly remoteUiDir: string;
  readonly logLevel: LogLevel | 'silent';
  /**
   * The world's time (shared with the emulated cloud): virtual for tests and the simulator's
   * virtual-time mode, real host time otherwise. The device's monotonic clock restarts at 0 at each
   * power-on either way.
   */
  readonly timeSource?: TimeSource;
  readonly network?: SimNetwork;
  /**
   * 'host': the device's sockets go to real addresses, looked up with a real resolver on the DNS
   * servers of its own Network settings (hal/host-resolver.ts), not through `network`. Default
   * 'sim': the simulated network answers every name.
   */
  readonly networkMode?: 'sim' | 'host';
  /** The CA certificates baked into the firmware image (the simulator's root CA; on a host network the public roots). */
  readonly factoryCaDer?: readonly Uint8Array[];
  /** Hal.adminLink: where the admin's browser finds the emulated cloud's pages. */
  readonly adminLink?: (url: string) => string;
  /** Hal.passwordHashIterations; default the firmware's PBKDF2_ITERATIONS (see startSimulator). */
  readonly passwordHashIterations?: number;
  /**
   * Size of the simulated scan storage (`<stateDir>/spool/`), bytes; default 2 GiB. Set it small
   * to provoke "spool full" (or at run time: a `spool-full` fault of `faults`).
   */
  readonly spoolCapacityBytes?: number;
  /**
   * The device's random bytes (session ids, salts, keys, the label); default the host's
   * cryptographic ones. The simulator gives a seeded stream when the tester chose a seed, so a run
   * repeats byte for byte.
   */
  readonly random?: Random;
}

const RTC_FILE = 'rtc.json';

/** What one power-on made; gone at the power off. */
interface Boot {
  readonly domain: PowerDomain;
  readonly clock: SimClock;
  readonly scanner: SimScanner;
  spool?: FileSpool;
  device?: Device;
  server?: Server;
}

export class SimPrinter {
  private current: Device | undefined;
  private boot: Boot | undefined;
  private boundPort: number;
  private scheme: 'http' | 'https' = 'http';
  /** Power on and off one at a time: the power off after a cut waits for a boot under way. */
  private switching: Promise<void> = Promise.resolve();
  private readonly timeSource: TimeSource;
  private readonly keyStoreDir: string;
  /** How long the last boot took, from power-on to the Remote UI answering, ms. */
  lastBootMs = 0;
  /** The device key's file in the key store; known from the first power-on. */
  keyFile: string | undefined;
  /** The simulated network (on a host network the device does not use it; its timers are the world's). */
  readonly network: SimNetwork;
  /** The tester's faults of this printer: they outlive its power cycles. */
  readonly faults: PrinterFaults;

  private constructor(private readonly options: PrinterOptions) {
    this.boundPort = options.port;
    this.network = options.network ?? new SimNetwork();
    this.timeSource = options.timeSource ?? new RealTimeSource();
    this.keyStoreDir = resolve(options.keyStoreDir ?? defaultKeyStoreDir());
    assertKeyStoreOutside(this.keyStoreDir, options.stateDir);
    this.faults = new PrinterFaults({
      nowMs: () => this.timeSource.hostNowMs(),
      cutPower: () => this.cutPower(),
      spoolCapacityChanged: () => this.boot?.spool?.setCapacityBytes(this.spoolCapacityBytes()),
    });
  }

  static async start(options: PrinterOptions): Promise<SimPrinter> {
    const printer = new SimPrinter(options);
    await mkdir(options.stateDir, { recursive: true });
    await printer.powerOn();
    return printer;
  }

  get device(): Device | undefined {
    return this.current;
  }

  get powered(): boolean {
    return this.current !== undefined;
  }

  /** The RTC; present while powered (a new monotonic clock starts at each power-on). */
  get clock(): SimClock {
    if (!this.current || !this.boot) throw new Error('the printer is powered off');
    return this.boot.clock;
  }

  get remoteUiUrl(): string {
    return `${this.scheme}://127.0.0.1:${this.boundPort}/`;
  }

  /** Power on. A cut during the boot (a fault at a point the boot reaches) leaves the printer off. */
  powerOn(): Promise<void> {
    return this.switch(() => this.bootUp());
  }

  /** Hard stop: the listener goes away mid-request, RAM state is lost, NVRAM stays as written. */
  powerOff(): Promise<void> {
    return this.switch(() => this.shutDown());
  }

  async powerCycle(): Promise<void> {
    await this.powerOff();
    await this.powerOn();
  }

  private switch(step: () => Promise<void>): Promise<void> {
    const run = this.switching.then(step);
    this.switching = run.catch(() => {});
    return run;
  }

  /** A cut: the running boot's ports die now, then the printer powers off as by the switch. */
  private cutPower(): Promise<void> {
    this.boot?.domain.cut();
    return this.powerOff().catch((err: unknown) => {
      process.stderr.write(`simulator: powering off after a power cut: ${String(err)}\n`);
    });
  }

  private async bootUp(): Promise<void> {
    if (this.boot) return;
    const started = performance.now();
    const rtc = await this.loadRtc();
    const clock = new SimClock(this.timeSource, rtc);
    // The RTC setting lives beside NVRAM, like a battery-backed clock chip; a failed write costs only that setting.
    clock.onWallChange(() => void this.saveRtc(clock.state()).catch((err: unknown) => process.stderr.write(`simulator: the RTC setting could not be saved: ${String(err)}\n`)));
    const domain = new PowerDomain();
    const scanner = new SimScanner();
    const boot: Boot = { domain, clock, scanner };
    this.boot = boot;
    domain.atCut(() => {
      if (this.current !== undefined && this.current === boot.device) this.current = undefined;
      boot.device?.shutdown();
      clock.powerOff();
      scanner.stop();
    });
    try {
      const storage = await FileStorage.open(this.options.stateDir, {
        onWriteStage: (name, stage, bytes) => this.onNvramStage(domain, name, stage, bytes),
        isPowered: () => domain.on,
      });
      // Opening the spool sweeps the files a power cut left half-written.
      const spool = await FileSpool.open(this.options.stateDir, {
        capacityBytes: this.spoolCapacityBytes(),
        faults: {
          onWriteStage: (name, stage) => {
            if (!domain.on) throw new PoweredOffError();
            if (this.faults.reach({ family: 'spool', file: name, stage })) throw new PoweredOffError(`power cut at spool:${stage}`);
          },
          isPowered: () => domain.on,
        },
      });
      boot.spool = spool;
      const random = this.options.random ?? nodeRandom;
      // The secure element makes the key from the device's random bytes: a seeded run repeats its NVRAM byte for byte.
      const keyStore = await FileKeyStore.open({ dir: this.keyStoreDir, deviceId: await deviceIdOf(this.options.stateDir), random });
      this.keyFile = keyStore.path;
      // On a host network the resolver reads this boot's Network settings at each lookup, once the
      // firmware has loaded them.
      let settingsLoaded!: (read: () => NetworkSettings) => void;
      const networkSettings = new Promise<() => NetworkSettings>((resolve) => (settingsLoaded = resolve));
      const routes: NetRoutes =
        this.options.networkMode === 'host' ? new HostResolver({ settings: async () => (await networkSettings)(), timers: this.network.timers }) : this.network;
      const device = await bootDevice({
        clock: poweredClock(domain, clock),
        storage: poweredStorage(domain, storage),
        keyStore,
        net: poweredNet(domain, new NodeNet(routes), (event) => this.onWire(domain, event)),
        http: poweredHttp(domain, new NodeHttp(routes)),
        random,
        log: poweredLog(domain, consoleLog(this.options.logLevel)),
        assets: directoryAssets(this.options.remoteUiDir),
        scanner: poweredScanner(domain, this.scannerWithFaults(domain, scanner)),
        spool: poweredSpool(domain, spool),
        factoryCaDer: this.options.factoryCaDer ?? [],
        ...(this.options.adminLink ? { adminLink: this.options.adminLink } : {}),
        ...(this.options.passwordHashIterations !== undefined ? { passwordHashIterations: this.options.passwordHashIterations } : {}),
      });
      boot.device = device;
      settingsLoaded(() => device.settings.get('network'));
      if (!domain.on) {
        device.shutdown();
        return;
      }
      boot.server = await listen(device, this.boundPort);
      if (!domain.on) return;
      this.scheme = device.remoteUiTls ? 'https' : 'http';
      this.boundPort = (boot.server.address() as AddressInfo).port;
      this.current = device;
      this.lastBootMs = performance.now() - started;
    } catch (err) {
      // The power went during the boot: the printer is off (the cut's power off cleans up).
      if (!domain.on) return;
      domain.cut();
      this.boot = undefined;
      await domain.settled();
      throw err;
    }
  }

  private async shutDown(): Promise<void> {
    const boot = this.boot;
    if (!boot) return;
    boot.domain.cut();
    this.current = undefined;
    this.boot = undefined;
    try {
      await this.saveRtc(boot.clock.state());
    } finally {
      const server = boot.server;
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      // The old boot's file operations under way at the cut end before the next boot sweeps.
      await boot.domain.settled();
    }
  }

  /** An NVRAM write reached a stage: a cut there stops the write (the hook throws). */
  private onNvramStage(domain: PowerDomain, name: string, stage: WriteStage, bytes: Uint8Array): void {
    if (!domain.on) throw new PoweredOffError();
    if (this.faults.onNvramWrite(name, stage, bytes)) throw new PoweredOffError(`power cut at nvram:${name}:${stage}`);
  }

  /** The device's SMTP conversation moved (its own writes, seen by the network). */
  private onWire(domain: PowerDomain, event: SmtpWireEvent): void {
    if (!domain.on) return;
    if (event.kind === 'command') this.faults.reach({ family: 'smtp', step: event.verb.toLowerCase() });
    else this.faults.reach({ family: 'job', phase: event.kind === 'message-data' ? 'sending' : 'after-final-dot' });
  }

  /** The scanner with the tester's faults of each scan, and the scanning phase reported at its first page. */
  private scannerWithFaults(domain: PowerDomain, scanner: SimScanner): Scanner {
    return {
      scan: async (request, spool, onPage) => {
        const faults = this.faults.scanFaults();
        try {
          return await scanner.scan(
            request,
            spool,
            (done, total) => {
              onPage?.(done, total);
              if (done === 1 && domain.on) this.faults.reach({ family: 'job', phase: 'scanning', jobId: request.jobId });
            },
            faults.unit,
          );
        } finally {
          faults.end();
        }
      },
    };
  }

  private spoolCapacityBytes(): number {
    return this.faults.spoolCapacityBytes() ?? this.options.spoolCapacityBytes ?? DEFAULT_SPOOL_CAPACITY_BYTES;
  }

  private async loadRtc(): Promise<RtcState> {
    try {
      const data = JSON.parse(await readFile(join(this.options.stateDir, RTC_FILE), 'utf8')) as Partial<RtcState>;
      if (Number.isFinite(data.offsetMs) && Number.isFinite(data.driftPpm)) return { offsetMs: data.offsetMs!, driftPpm: data.driftPpm! };
    } catch {
      // No RTC state yet (new device) or unreadable: the RTC runs at host time.
    }
    return { offsetMs: 0, driftPpm: 0 };
  }

  private async saveRtc(state: RtcState): Promise<void> {
    await writeFile(join(this.options.stateDir, RTC_FILE), JSON.stringify(state));
  }
}

/** Refuses a key store inside the state directory: a copy of the state directory would carry the key with it. */
export function assertKeyStoreOutside(keyStoreDir: string, stateDir: string): void {
  const [keys, state] = [resolve(keyStoreDir), resolve(stateDir)];
  const rel = relative(state, keys);
  if (rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))) throw new Error(`the key store ${keys} must be outside the state directory ${state}: a copy of the state directory would carry the device key`);
}

/** The Remote UI listener: HTTPS with the device's own certificate when the firmware asks for it. */
function listen(device: Device, port: number): Promise<Server> {
  const tls = device.remoteUiTls;
  const transport = tls
    ? {
        createServer: createHttpsServer,
        serverOptions: {
          cert: derToPem(tls.certDer, 'CERTIFICATE'),
          key: derToPem(tls.keyPkcs8Der, 'PRIVATE KEY'),
          minVersion: 'TLSv1.2' as const,
        },
      }
    : {};
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: (request, env: { incoming?: { socket?: { remoteAddress?: string } } }) => {
        const address = env.incoming?.socket?.remoteAddress;
        return device.handleHttp(request, address === undefined ? undefined : { address });
      },
      port,
      hostname: '127.0.0.1',
      ...transport,
    }) as Server;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
