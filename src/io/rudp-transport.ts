/**
 * RUDP (TCP's mechanisms over UDP, src/rudp) as a {@link StreamTransport}, so message connections,
 * services, file transfer and chat run over it unchanged (`--rudp` on the command line).
 *
 * Every socket is half-open capable, as the StreamTransport contract requires. With `trace`, each
 * segment, state change, drop and timer of every connection is written as one readable line.
 *
 * Read first: src/io/stream-transport.ts (the contract), src/io/rudp-server.ts, src/io/rudp-connect.ts.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fromNodeError, formatHostPort } from './node-errors.js';
import { checkPort } from './check-port.js';
import { connect as rudpConnect } from './rudp-connect.js';
import type { RudpOptions } from './rudp-driver.js';
import { RudpServer } from './rudp-server.js';
import type { RudpSocket } from './rudp-socket.js';
import type { BoundAddress, ConnectOptions, ListenOptions, StreamListener, StreamSocket, StreamTransport } from './stream-transport.js';

/** Options of the RUDP transport. */
export interface RudpTransportOptions extends RudpOptions {
  /** Receives one readable trace line per segment and state change (times from transport creation). */
  trace?: (line: string) => void;
  /**
   * Nagle's algorithm off on every socket (default true, as the TCP transport does): request/reply
   * and chat would otherwise wait for the peer's delayed ACK (up to 40 ms) on every small message.
   */
  noDelay?: boolean;
}

class RudpListener extends EventEmitter implements StreamListener {
  readonly #server: RudpServer;
  readonly address: BoundAddress;

  constructor(server: RudpServer) {
    super();
    this.#server = server;
    const a = server.address();
    this.address = a ? { host: a.address, port: a.port, family: a.family } : { host: '', port: 0, family: 'IPv4' };
    server.on('connection', (socket: RudpSocket) => this.emit('connection', socket));
    server.on('error', (err: Error) => this.emit('error', err));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Builds the RUDP transport with the given options (trace sink, engine tunables, UDP buffers). */
export function createRudpTransport(options: RudpTransportOptions = {}): StreamTransport {
  const base: RudpTransportOptions = { ...options, noDelay: options.noDelay ?? true, traceOrigin: options.traceOrigin ?? performance.now() };

  const listen = (listenOptions: ListenOptions): Promise<StreamListener> =>
    new Promise((resolve, reject) => {
      checkPort(listenOptions.port, 'listen on rudp', true);
      const server = new RudpServer({ ...base, allowHalfOpen: true });
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(
        {
          port: listenOptions.port,
          ...(listenOptions.host === undefined ? {} : { host: listenOptions.host }),
          ...(listenOptions.ipv6Only === undefined ? {} : { ipv6Only: listenOptions.ipv6Only }),
          ...(listenOptions.backlog === undefined ? {} : { backlog: listenOptions.backlog }),
        },
        () => {
          server.off('error', onError);
          resolve(new RudpListener(server));
        },
      );
    });

  const connect = (connectOptions: ConnectOptions): Promise<StreamSocket> =>
    new Promise((resolve, reject) => {
      const where = `rudp connect to ${formatHostPort(connectOptions.host, connectOptions.port)}`;
      checkPort(connectOptions.port, where, false);
      const signal = connectOptions.signal;
      if (signal?.aborted) {
        reject(fromNodeError(signal.reason ?? new Error('aborted'), where));
        return;
      }
      const socket = rudpConnect({
        ...base,
        host: connectOptions.host,
        port: connectOptions.port,
        allowHalfOpen: true,
        ...(connectOptions.timeoutMs === undefined || connectOptions.timeoutMs <= 0 ? {} : { timeoutMs: connectOptions.timeoutMs }),
      });
      const cleanup = (): void => {
        socket.off('connect', onConnect);
        socket.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
      };
      const onConnect = (): void => {
        cleanup();
        resolve(socket);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onAbort = (): void => {
        cleanup();
        const err = fromNodeError(signal?.reason ?? new Error('aborted'), where);
        socket.destroy();
        reject(err);
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  return { name: 'rudp', listen, connect };
}
