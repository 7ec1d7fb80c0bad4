/** Servers on 127.0.0.1 for integration tests: tracked so that each test closes what it opened. */
import type { AddressInfo, Server, Socket } from 'node:net';

export class LoopbackServers {
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];
  /** What smtp-servers listening through `listenSmtp` reported as errors (e.g. a client killed mid-DATA). */
  readonly smtpErrors: (Error & { code?: string })[] = [];

  /** Listen on an ephemeral loopback port; returns the port. */
  async listen(server: Server): Promise<number> {
    this.servers.push(server);
    server.on('connection', (socket: Socket) => this.sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  /**
   * Listen with an smtp-server. It reports a client that vanished inside a mail transaction
   * (ECONNRESET, EPIPE) as an 'error' event on the server object; unheard, Node would throw it out
   * of the test file. Such errors are recorded in `smtpErrors` for the test to look at.
   */
  async listenSmtp(smtp: { readonly server: Server; on(event: 'error', listener: (err: Error) => void): unknown }): Promise<number> {
    smtp.on('error', (err) => this.smtpErrors.push(err));
    return this.listen(smtp.server);
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
