/** Servers on 127.0.0.1 for integration tests: tracked so that each test closes what it opened. */
import type { AddressInfo, Server, Socket } from 'node:net';

export class LoopbackServers {
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];

  /** Listen on an ephemeral loopback port; returns the port. */
  async listen(server: Server): Promise<number> {
    this.servers.push(server);
    server.on('connection', (socket: Socket) => this.sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  /** Servers that never read would not notice the client's FIN: destroy their sockets explicitly. */
  async closeAll(): Promise<void> {
    for (const socket of this.sockets.splice(0)) socket.destroy();
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
