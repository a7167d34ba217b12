/**
 * The seam between sockit's stream layer and the transport under it.
 *
 * sockit's message connections, services, file transfer and chat run over any
 * {@link StreamTransport}: kernel TCP (node:net, see tcp-transport.ts) or RUDP, TCP's mechanisms
 * over UDP (see rudp-transport.ts). Sockets are Node Duplex streams shaped like net.Socket, always
 * half-open capable: the peer's FIN ends our readable side only; our writable side stays usable
 * until we end it.
 */
import type { Duplex } from 'node:stream';
import type { EventEmitter } from 'node:events';

/** Which transport a stream runs over. */
export type StreamTransportName = 'tcp' | 'rudp';

/** A bound address as the OS reports it. */
export interface BoundAddress {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** A connected byte stream with the shape of net.Socket (the parts sockit relies on). */
export interface StreamSocket extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  setNoDelay(noDelay?: boolean): this;
}

/** Options for {@link StreamTransport.listen}. */
export interface ListenOptions {
  /** Address to bind; default `::` (dual-stack: IPv4 and IPv6) falling back to `0.0.0.0`. */
  host?: string;
  /** Port to bind; 0 picks a free one (read it back from `address`). */
  port: number;
  /** Only IPv6 when `host` is an IPv6 address (no IPv4-mapped clients). */
  ipv6Only?: boolean;
  /** Pending-connection backlog. */
  backlog?: number;
}

/**
 * A listening socket. Emits `'connection'` with a {@link StreamSocket} for each accepted peer and
 * `'error'` for errors after listen succeeded.
 */
export interface StreamListener extends EventEmitter {
  readonly address: BoundAddress;
  /** Stops accepting new connections; resolves once the listening socket is closed. */
  close(): Promise<void>;
}

/** Options for {@link StreamTransport.connect}. */
export interface ConnectOptions {
  host: string;
  port: number;
  /** Give up connecting after this long (TimeoutError, phase `connect`). */
  timeoutMs?: number;
  /** Abort the attempt. */
  signal?: AbortSignal;
}

/** A way to listen for and open byte streams. Errors are sockit errors (ConnectionError, TimeoutError). */
export interface StreamTransport {
  readonly name: StreamTransportName;
  listen(options: ListenOptions): Promise<StreamListener>;
  connect(options: ConnectOptions): Promise<StreamSocket>;
}
