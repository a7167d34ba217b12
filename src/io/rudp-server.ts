/**
 * A RUDP server shaped like net.Server: `createServer([options], [onConnection])`, `listen()`,
 * `'listening'`/`'connection'`/`'error'`/`'close'`, `address()`, `close()`.
 *
 * One UDP socket carries every connection of the server (the endpoint demultiplexes by the peer's
 * address). Listening on the default host binds `::` dual-stack (IPv4 peers appear as
 * `::ffff:a.b.c.d`), falling back to `0.0.0.0` on a machine without IPv6, like the TCP transport.
 *
 * Read first: Node's net.Server docs (the shape), src/io/rudp-driver.ts, src/rudp/endpoint.ts.
 */
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidStateError } from '../errors.js';
import { checkPort } from './check-port.js';
import { fromNodeError, formatHostPort } from './node-errors.js';
import { RudpDriver, type RudpOptions } from './rudp-driver.js';
import { RudpSocket, type RudpSocketOptions } from './rudp-socket.js';

/** Options of {@link createServer}. */
export interface RudpServerOptions extends RudpOptions, RudpSocketOptions {}

/** What {@link RudpServer.listen} takes. */
export interface RudpListenOptions {
  port?: number;
  /** Default `::` (dual-stack), falling back to `0.0.0.0`. */
  host?: string;
  ipv6Only?: boolean;
  /** Handshakes completed but not yet accepted, at most. */
  backlog?: number;
}

/** Address as net.Server#address() reports it. */
export interface RudpServerAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** A RUDP listener with the shape of net.Server. */
export class RudpServer extends EventEmitter {
  readonly #options: RudpServerOptions;
  readonly #sockets = new Set<RudpSocket>();
  #driver: RudpDriver | undefined;
  #listening = false;
  /** A listen() whose UDP socket is still being bound. */
  #binding = false;
  #closing = false;
  #closed = false;
  #closeCallbacks: Array<(err?: Error) => void> = [];

  constructor(options: RudpServerOptions = {}, onConnection?: (socket: RudpSocket) => void) {
    super();
    this.#options = options;
    if (onConnection) this.on('connection', onConnection);
  }

  /** True while accepting connections. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Connections accepted and not yet closed. */
  get connectionCount(): number {
    return this.#sockets.size;
  }

  /** net.Server#getConnections. */
  getConnections(callback: (err: Error | null, count: number) => void): this {
    const n = this.#sockets.size;
    queueMicrotask(() => callback(null, n));
    return this;
  }

  /** The bound UDP address, or null before listening. */
  address(): RudpServerAddress | null {
    const a = this.#driver?.address;
    return a ? { address: a.host, family: a.family, port: a.port } : null;
  }

  /**
   * Starts listening: `listen(port, host?, backlog?, cb?)` or `listen({ port, host, backlog }, cb?)`.
   * A port outside 0–65535 throws SockitError `ERR_SOCKIT_INVALID_ARGUMENT` at once (net throws too).
   */
  listen(options: RudpListenOptions, callback?: () => void): this;
  listen(port?: number, host?: string, backlog?: number, callback?: () => void): this;
  listen(port?: number, host?: string, callback?: () => void): this;
  listen(port?: number, callback?: () => void): this;
  listen(...args: unknown[]): this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const options: RudpListenOptions =
      typeof args[0] === 'object' && args[0] !== null
        ? (args[0] as RudpListenOptions)
        : {
            ...(typeof args[0] === 'number' ? { port: args[0] } : {}),
            ...(typeof args[1] === 'string' ? { host: args[1] } : {}),
            ...(typeof args[2] === 'number' ? { backlog: args[2] } : {}),
          };
    // The UDP socket would wrap 70000 to 4464 and listen there.
    checkPort(options.port ?? 0, 'listen on rudp', true);
    if (callback) this.once('listening', callback);
    this.#binding = true;
    this.#bind(options).then(
      (driver) => {
        this.#binding = false;
        if (this.#closing) {
          // close() came while the socket was being bound: it never listens.
          driver.destroy();
          this.#maybeClosed();
          return;
        }
        this.#driver = driver;
        this.#listening = true;
        driver.onError((err) => this.emit('error', fromNodeError(err, `rudp listener ${formatHostPort(driver.address.host, driver.address.port)}`)));
        driver.listen((connection) => this.#accept(driver, connection), options.backlog);
        this.emit('listening');
      },
      (err: unknown) => {
        this.#binding = false;
        if (this.#closing) this.#maybeClosed();
        else this.emit('error', err);
      },
    );
    return this;
  }

  async #bind(options: RudpListenOptions): Promise<RudpDriver> {
    const port = options.port ?? 0;
    const where = (host: string): string => `listen on rudp ${formatHostPort(host, port)}`;
    if (options.host === undefined) {
      try {
        return await RudpDriver.bind({ type: 'udp6', host: '::', port, ipv6Only: options.ipv6Only ?? false }, this.#options);
      } catch (err) {
        // No IPv6 on this machine: IPv4 only. Other failures (port in use) are real.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw fromNodeError(err, where('::'));
        try {
          return await RudpDriver.bind({ type: 'udp4', host: '0.0.0.0', port }, this.#options);
        } catch (err4) {
          throw fromNodeError(err4, where('0.0.0.0'));
        }
      }
    }
    try {
      let host = options.host;
      if (isIP(host) === 0) host = (await lookup(host)).address;
      return await RudpDriver.bind({ type: isIP(host) === 6 ? 'udp6' : 'udp4', host, port, ipv6Only: options.ipv6Only ?? false }, this.#options);
    } catch (err) {
      throw fromNodeError(err, where(options.host));
    }
  }

  #accept(driver: RudpDriver, connection: Parameters<RudpSocket['attach']>[1]): void {
    const socket = new RudpSocket({ allowHalfOpen: this.#options.allowHalfOpen ?? false, noDelay: this.#options.noDelay ?? false });
    socket.attach(driver, connection, true, false);
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#maybeClosed();
    });
    this.emit('connection', socket);
  }

  /**
   * Stops accepting; `'close'` (and `callback`) follow once every accepted connection has closed,
   * as net.Server does. The UDP socket lingers, unreferenced, while connections sit in TIME_WAIT.
   * Called while `listen()` is still binding, the server never listens: the socket is closed as
   * soon as the bind completes, and `'close'` follows then. On a server already closed, `callback`
   * gets an InvalidStateError (net's ERR_SERVER_NOT_RUNNING) and nothing else happens.
   */
  close(callback?: (err?: Error) => void): this {
    if (this.#closed) {
      // As net.Server: a server that is not running calls back with an error (ERR_SERVER_NOT_RUNNING there).
      if (callback) queueMicrotask(() => callback(new InvalidStateError('rudp server: close(): the server is not running')));
      return this;
    }
    if (callback) this.#closeCallbacks.push(callback);
    if (this.#closing) return this;
    this.#closing = true;
    this.#listening = false;
    this.#driver?.stopListening();
    this.#maybeClosed();
    return this;
  }

  #maybeClosed(): void {
    if (!this.#closing || this.#closed || this.#binding || this.#sockets.size > 0) return;
    this.#closed = true;
    const driver = this.#driver;
    if (driver) void driver.closeWhenIdle();
    const callbacks = this.#closeCallbacks.splice(0);
    queueMicrotask(() => {
      for (const cb of callbacks) cb();
      this.emit('close');
    });
  }
}

/** Creates a RUDP server (net.createServer's shape). */
export function createServer(options?: RudpServerOptions, onConnection?: (socket: RudpSocket) => void): RudpServer;
export function createServer(onConnection?: (socket: RudpSocket) => void): RudpServer;
export function createServer(
  optionsOrListener?: RudpServerOptions | ((socket: RudpSocket) => void),
  onConnection?: (socket: RudpSocket) => void,
): RudpServer {
  if (typeof optionsOrListener === 'function') return new RudpServer({}, optionsOrListener);
  return new RudpServer(optionsOrListener ?? {}, onConnection);
}
