/**
 * A TCP (or RUDP) server of framed message connections.
 *
 * Read first: RFC 9293 §3.5 (establishing connections) and §3.6 (closing them); Node's
 * `net.Server.close()` (stops accepting, waits for connections).
 *
 * `listenTcp` binds dual-stack by default (`::`, IPv4 clients appear as `::ffff:a.b.c.d`), hands
 * each accepted peer to `onConnection` as a {@link MessageConnection}, and serves any number of
 * them concurrently. `close(graceMs)` stops accepting, lets open connections finish, then destroys
 * the rest.
 */
import { EventEmitter } from 'node:events';
import type { SockitError } from '../errors.js';
import type { BoundAddress, StreamListener, StreamSocket, StreamTransport } from '../io/stream-transport.js';
import { tcpTransport } from '../io/tcp-transport.js';
import { MessageConnection, checkMessageConnectionOptions, type MessageConnectionOptions } from './message-connection.js';
import { closeGracefully } from './graceful-close.js';

/** Default grace period of {@link MessageServer.close}. */
export const DEFAULT_CLOSE_GRACE_MS = 5000;

/** Options of {@link listenTcp}. */
export interface ListenTcpOptions extends MessageConnectionOptions {
  /** The transport to listen on; default kernel TCP. */
  transport?: StreamTransport;
  /** Address to bind; default `::` dual-stack (falls back to 0.0.0.0 without IPv6). */
  host?: string;
  /** Port; 0 picks a free one (see {@link MessageServer.address}). */
  port: number;
  /** With an IPv6 `host`: refuse IPv4-mapped clients. */
  ipv6Only?: boolean;
  /** Pending-connection backlog. */
  backlog?: number;
}

/** The events of a {@link MessageServer} and their arguments. */
export interface MessageServerEvents {
  connection: [conn: MessageConnection];
  error: [err: SockitError];
}

/**
 * A listening message server. Events: `'error'` (SockitError from the listening socket, emitted
 * only when someone listens) and `'connection'` (each new {@link MessageConnection}).
 */
export class MessageServer extends EventEmitter<MessageServerEvents> {
  readonly #listener: StreamListener;
  readonly #live = new Set<MessageConnection>();
  #closing: Promise<void> | undefined;

  /** Use {@link listenTcp}. */
  constructor(listener: StreamListener, options: ListenTcpOptions, onConnection: (conn: MessageConnection) => void) {
    super();
    this.#listener = listener;
    listener.on('connection', (socket: StreamSocket) => {
      if (this.#closing) {
        socket.destroy();
        return;
      }
      let conn: MessageConnection;
      try {
        conn = new MessageConnection(socket, options);
      } catch (err) {
        socket.destroy();
        this.#report(err as SockitError);
        return;
      }
      this.#live.add(conn);
      conn.once('close', () => this.#live.delete(conn));
      this.emit('connection', conn);
      try {
        onConnection(conn);
      } catch (err) {
        // A throwing handler costs its own connection, never the server.
        conn.destroy(err as SockitError);
      }
    });
    listener.on('error', (err: SockitError) => this.#report(err));
  }

  /** The bound address (the real port when 0 was asked for). */
  get address(): BoundAddress {
    return this.#listener.address;
  }

  /** Connections open right now. */
  get connectionCount(): number {
    return this.#live.size;
  }

  /** The open connections. */
  get connections(): ReadonlySet<MessageConnection> {
    return this.#live;
  }

  /**
   * Graceful shutdown: stop accepting at once, wait up to `graceMs` for open connections to close
   * on their own, destroy the rest; resolves when the listening socket and every connection are
   * closed. Idempotent.
   */
  close(graceMs: number = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.#closing ??= (async () => {
      const listenerClosed = this.#listener.close();
      await closeGracefully(this.#live, graceMs);
      await listenerClosed;
    })();
    return this.#closing;
  }

  #report(err: SockitError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * Listens for message connections. Resolves once bound; rejects with a ConnectionError
 * (`ERR_SOCKIT_ADDRESS_IN_USE`, `ERR_SOCKIT_PERMISSION_DENIED`, ...) when it cannot bind, and
 * before binding with the SockitError of bad connection options (an unknown framing, say).
 */
export async function listenTcp(options: ListenTcpOptions, onConnection: (conn: MessageConnection) => void): Promise<MessageServer> {
  // Bad options would otherwise cost every accepted connection, silently unless 'error' is watched.
  checkMessageConnectionOptions(options);
  const transport = options.transport ?? tcpTransport;
  const listener = await transport.listen({
    port: options.port,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.ipv6Only !== undefined ? { ipv6Only: options.ipv6Only } : {}),
    ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
  });
  return new MessageServer(listener, options, onConnection);
}
