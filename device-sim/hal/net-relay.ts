/**
 * The data path of a connection that has data faults (latency, bandwidth, reset, stall): a relay
 * on loopback between the device's socket and the emulated server's.
 *
 *   device socket ──TCP──> relay listener (127.0.0.1:<ephemeral>, one connection)
 *                          ├─ upstream:   bandwidth → latency → byte gate ─┐
 *                          └─ downstream: bandwidth → latency → byte gate ─┤
 *   emulated server <──────────────TCP─────────────────────────────────────┘
 *
 * The relay only moves TCP payload, so TLS (implicit or after STARTTLS) runs end to end between
 * the device and the server: the server's certificate chain reaches the firmware unchanged. Both
 * sockets are real, so a reset is a real RST (`resetAndDestroy`) that each side reads as
 * ECONNRESET, and a FIN is relayed as a FIN (half-close kept) in order behind the data.
 *
 * Backpressure: a direction stops reading its source while its stages hold more than
 * RELAY_HIGH_WATER_BYTES or its destination's buffer is full, so a slow link slows the sender
 * (its writes stop resolving), as TCP would, and memory stays flat. A stalled direction stops
 * reading for good: the sender's buffers fill and it sees silence, not an error.
 *
 * The listener is on 127.0.0.1 only, relays the one connection that comes from the device's own
 * socket (matched by its local port) and closes as soon as that one arrived. Nothing is relayed
 * before the device's connect completed, so a fault that acts "at once" (reset after 0 bytes)
 * meets an established connection, never a half-made one.
 *
 * Timers: through the plan's RelayTimers (see net-toxics.ts): the world's in the simulator.
 */
import { createServer, type Socket } from 'node:net';
import type { RandomStream } from '../sim-random.ts';
import { actsOn, type ConnectionFault, type DataDirection } from './net-faults.ts';
import {
  BandwidthStage,
  ByteGate,
  LatencyStage,
  pieceBytes,
  type Piece,
  type PieceSink,
  type RelayTimers,
  type Stage,
} from './net-toxics.ts';

/** Bytes a direction may hold in its stages before it stops reading its source. */
export const RELAY_HIGH_WATER_BYTES = 256 * 1024;

/** What SimNetwork hands the connector for a connection that has data faults. */
export interface RelayPlan {
  /** The name and port the device asked for, for fault details. */
  readonly where: string;
  readonly faults: readonly ConnectionFault[];
  /** This connection's own stream (latency jitter), so its traffic never shifts other draws. */
  readonly random: RandomStream;
  readonly timers: RelayTimers;
}

/** Connection setup through latency faults costs one round trip (SYN out, SYN-ACK back), without jitter. */
export function setupDelayMs(plan: RelayPlan): number {
  return plan.faults.reduce((sum, f) => sum + (f.spec.kind === 'latency' ? 2 * f.spec.ms : 0), 0);
}

export interface RelayListener {
  /** Where the device connects (127.0.0.1). */
  readonly port: number;
  /**
   * The device's socket is connected from `devicePort`: relay that connection (any other one that
   * reached the listener is dropped) and close the listener. Nothing moves before this call, so
   * the device's connect completes before any fault can act on the connection.
   */
  start(devicePort: number): void;
  /** Give up before the device connected: close the listener and the server connection. */
  abort(): void;
}

/** Listen on loopback for the device's connection, to relay it to the connected `upstream` socket. */
export async function startRelay(upstream: Socket, plan: RelayPlan): Promise<RelayListener> {
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const arrived: Socket[] = [];
  let devicePort: number | undefined;
  const abort = (): void => {
    server.close();
    for (const socket of arrived.splice(0)) socket.destroy();
    if (devicePort === undefined) upstream.destroy();
  };
  const pair = (): void => {
    if (devicePort === undefined) return;
    const device = arrived.find((s) => s.remotePort === devicePort);
    if (device === undefined) return;
    server.close(); // one connection per relay
    for (const stranger of arrived.splice(0)) if (stranger !== device) stranger.destroy();
    new RelayConnection(device, upstream, plan);
    device.resume();
  };
  server.on('connection', (socket: Socket) => {
    if (devicePort !== undefined && socket.remotePort !== devicePort) {
      socket.destroy();
      return;
    }
    arrived.push(socket);
    pair();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    upstream.destroy();
    throw err;
  }
  server.on('error', abort); // after listening, nothing is expected; never let it throw
  const address = server.address();
  if (address === null || typeof address === 'string') {
    abort();
    throw new Error('relay listener has no TCP port');
  }
  return {
    port: address.port,
    start(port) {
      devicePort = port;
      pair();
    },
    abort,
  };
}

/** One relayed connection: two directions and the reset that ends both. */
class RelayConnection {
  readonly #sockets: readonly Socket[];
  readonly #directions: RelayDirection[];
  #over = false;

  constructor(client: Socket, server: Socket, plan: RelayPlan) {
    this.#sockets = [client, server];
    this.#directions = [
      new RelayDirection(client, server, 'upstream', plan, this),
      new RelayDirection(server, client, 'downstream', plan, this),
    ];
    let open = 0;
    for (const socket of this.#sockets) {
      socket.setNoDelay(true);
      if (socket.destroyed) continue;
      open++;
      socket.once('close', () => {
        if (--open === 0) this.#end();
      });
    }
    if (open < 2) this.reset(); // one side was already gone: the other must not wait for it
  }

  get over(): boolean {
    return this.#over;
  }

  /** Cut both sides with an RST (a reset fault, or a peer's RST arriving at the other end). */
  reset(): void {
    if (this.#over) return;
    this.#end();
    for (const socket of this.#sockets) if (!socket.destroyed) socket.resetAndDestroy();
  }

  #end(): void {
    this.#over = true;
    for (const direction of this.#directions) direction.dispose();
  }
}

/** Bytes from one socket to the other through this direction's stages. */
class RelayDirection {
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #name: DataDirection;
  readonly #plan: RelayPlan;
  readonly #connection: RelayConnection;
  readonly #gate: ByteGate<ConnectionFault>;
  readonly #stages: Stage[] = [];
  readonly #head: PieceSink;
  /** Bytes pushed into the stages and not yet out of the sink. */
  #queued = 0;
  #sourceDone = false;
  #stalled = false;
  #blocked = false;

  constructor(from: Socket, to: Socket, name: DataDirection, plan: RelayPlan, connection: RelayConnection) {
    this.#from = from;
    this.#to = to;
    this.#name = name;
    this.#plan = plan;
    this.#connection = connection;
    const mine = plan.faults.filter((f) => actsOn(f.spec, name));
    this.#gate = new ByteGate(
      mine.flatMap((f) => (f.spec.kind === 'reset' || f.spec.kind === 'stall' ? [{ afterBytes: f.spec.afterBytes ?? 0, tag: f }] : [])),
    );
    // From the source: bandwidth (serialisation) first, then latency (propagation), then the gate.
    const order = [...mine.filter((f) => f.spec.kind === 'bandwidth'), ...mine.filter((f) => f.spec.kind === 'latency')];
    let head: PieceSink = (piece) => this.#sink(piece);
    for (const fault of order.reverse()) {
      const stage = this.#stageFor(fault, head);
      this.#stages.push(stage);
      head = (piece) => stage.push(piece);
    }
    this.#head = head;

    from.on('data', (chunk: Buffer) => {
      this.#queued += chunk.byteLength;
      this.#head(chunk);
      this.#flow();
    });
    from.on('end', () => this.#finishSource('end'));
    // Every error of this socket lands here (it is the source of exactly one direction): a peer's
    // RST, or a failed write to it. Either way it is dead, and its peer is told with an RST.
    from.on('error', () => this.#finishSource('reset'));
  }

  dispose(): void {
    for (const stage of this.#stages) stage.dispose();
  }

  #stageFor(fault: ConnectionFault, next: PieceSink): Stage {
    const { spec } = fault;
    const timers = this.#plan.timers;
    if (spec.kind === 'bandwidth') return new BandwidthStage({ bytesPerS: spec.bytesPerS, timers }, next);
    if (spec.kind === 'latency') return new LatencyStage({ ms: spec.ms, jitterMs: spec.jitterMs ?? 0, random: this.#plan.random, timers }, next);
    throw new Error(`no stage for a ${spec.kind} fault`);
  }

  #finishSource(piece: 'end' | 'reset'): void {
    if (this.#sourceDone || this.#connection.over) return;
    this.#sourceDone = true;
    this.#head(piece);
  }

  /** What leaves the stages: counted by the gate, then written (or swallowed by a stall). */
  #sink(piece: Piece): void {
    this.#queued -= pieceBytes(piece);
    if (this.#stalled || this.#connection.over) return this.#flow();
    if (piece === 'reset') return this.#connection.reset();
    if (piece === 'end') {
      if (!this.#to.destroyed) this.#to.end();
      return;
    }
    const { forward, tripped } = this.#gate.pass(piece);
    if (forward.byteLength > 0 && !this.#to.destroyed && !this.#to.write(forward) && !this.#blocked) {
      this.#blocked = true;
      this.#to.once('drain', () => {
        this.#blocked = false;
        this.#flow();
      });
    }
    if (tripped !== undefined) this.#trip(tripped);
    this.#flow();
  }

  #trip(fault: ConnectionFault): void {
    const { where } = this.#plan;
    if (fault.spec.kind === 'reset') {
      fault.fired(`${where}: reset after ${this.#gate.passed} ${this.#name} bytes`);
      this.#connection.reset();
      return;
    }
    this.#stalled = true;
    fault.fired(`${where}: ${this.#name} stalled after ${this.#gate.passed} bytes`);
  }

  /** Read the source only while this direction can move what it reads. */
  #flow(): void {
    const hold = this.#stalled || this.#blocked || this.#queued > RELAY_HIGH_WATER_BYTES;
    if (this.#from.destroyed) return;
    if (hold) this.#from.pause();
    else if (this.#from.isPaused()) this.#from.resume();
  }
}
