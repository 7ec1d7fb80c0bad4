/**
 * One simulated printer: the firmware booted on the Node HAL, its Remote UI listener, the RTC
 * that survives power cycles (it has a battery), and the power switch.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer as createHttpsServer } from 'node:https';
import { serve } from '@hono/node-server';
import { bootDevice, type Device } from '../firmware/device.ts';
import type { LogLevel } from '../firmware/hal/log.ts';
import { FileSpool } from './hal/file-spool.ts';
import { FileStorage } from './hal/file-storage.ts';
import { consoleLog, directoryAssets, nodeRandom } from './hal/node-basics.ts';
import { NodeHttp } from './hal/node-http.ts';
import { NodeNet } from './hal/node-net.ts';
import { SimClock, type RtcState } from './hal/sim-clock.ts';
import { SimNetwork } from './hal/sim-network.ts';
import { RealTimeSource, type TimeSource } from './hal/time-source.ts';
import { SimScanner } from './scanner/sim-scanner.ts';

export interface PrinterOptions {
  /** Where NVRAM and the RTC state live. */
  readonly stateDir: string;
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
  /** The CA certificates baked into the firmware image (the simulator's root CA). */
  readonly factoryCaDer?: readonly Uint8Array[];
  /** Hal.adminLink: where the admin's browser finds the emulated cloud's pages. */
  readonly adminLink?: (url: string) => string;
  /** Size of the simulated scan storage (`<stateDir>/spool/`), bytes; default 2 GiB. Set it small to provoke "spool full". */
  readonly spoolCapacityBytes?: number;
}

const RTC_FILE = 'rtc.json';

export class SimPrinter {
  private current: Device | undefined;
  private server: Server | undefined;
  private boundPort: number;
  private scheme: 'http' | 'https' = 'http';
  private clockNow: SimClock | undefined;
  private scanner: SimScanner | undefined;
  /** How long the last boot took, from power-on to the Remote UI answering, ms. */
  lastBootMs = 0;
  readonly network: SimNetwork;

  private constructor(private readonly options: PrinterOptions) {
    this.boundPort = options.port;
    this.network = options.network ?? new SimNetwork();
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
    if (!this.clockNow) throw new Error('the printer is powered off');
    return this.clockNow;
  }

  get remoteUiUrl(): string {
    return `${this.scheme}://127.0.0.1:${this.boundPort}/`;
  }

  async powerOn(): Promise<void> {
    if (this.current) return;
    const started = performance.now();
    const rtc = await this.loadRtc();
    const source = this.options.timeSource ?? new RealTimeSource();
    const clock = new SimClock(source, rtc);
    // The RTC setting lives beside NVRAM, like a battery-backed clock chip; a failed write costs only that setting.
    clock.onWallChange(() => void this.saveRtc(clock.state()).catch((err: unknown) => process.stderr.write(`simulator: the RTC setting could not be saved: ${String(err)}\n`)));
    const storage = await FileStorage.open(this.options.stateDir);
    // Opening the spool sweeps the files a power cut left half-written.
    const spool = await FileSpool.open(this.options.stateDir, this.options.spoolCapacityBytes !== undefined ? { capacityBytes: this.options.spoolCapacityBytes } : {});
    const scanner = new SimScanner();
    const device = await bootDevice({
      clock,
      storage,
      net: new NodeNet(this.network),
      http: new NodeHttp(this.network),
      random: nodeRandom,
      log: consoleLog(this.options.logLevel),
      assets: directoryAssets(this.options.remoteUiDir),
      scanner,
      spool,
      factoryCaDer: this.options.factoryCaDer ?? [],
      ...(this.options.adminLink ? { adminLink: this.options.adminLink } : {}),
    });
    this.server = await listen(device, this.boundPort);
    this.scheme = device.remoteUiTls ? 'https' : 'http';
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.clockNow = clock;
    this.scanner = scanner;
    this.current = device;
    this.lastBootMs = performance.now() - started;
  }

  /** Hard stop: the listener goes away mid-request, RAM state is lost, NVRAM stays as written. */
  async powerOff(): Promise<void> {
    const server = this.server;
    if (this.clockNow) await this.saveRtc(this.clockNow.state());
    this.current?.shutdown();
    this.clockNow?.powerOff();
    this.scanner?.stop();
    this.scanner = undefined;
    this.current = undefined;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async powerCycle(): Promise<void> {
    await this.powerOff();
    await this.powerOn();
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
    const server = serve({ fetch: (request) => device.handleHttp(request), port, hostname: '127.0.0.1', ...transport }) as Server;
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
