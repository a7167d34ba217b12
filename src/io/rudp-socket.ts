/**
 * A RUDP connection as a Node Duplex with the shape of net.Socket: events `connect`/`ready`/`data`/
 * `end`/`finish`/`close`/`error`, `write`/`end`/`destroy`, backpressure through the writable side,
 * half-close, `setNoDelay`, addresses and byte counts.
 *
 * Read first: Node's stream docs (implementing a Duplex: _write/_writev/_final/_read/_destroy),
 * net.Socket (the shape copied), src/rudp/connection.ts (the sans-IO connection under it).
 *
 * Backpressure: `_write` hands bytes to the connection's bounded send buffer; when it accepts less
 * than offered, the write callback waits for the connection's `writable` event, so the Writable's
 * own buffer fills, `write()` returns false and `'drain'` follows once the connection took it all.
 * On the readable side `read()` is only called while `push()` wants more; unread bytes stay in the
 * connection and shrink the advertised window, which is what slows the peer down.
 */
import { Duplex } from 'node:stream';
import { InvalidStateError } from '../errors.js';
import type { ConnectionEvent, RudpConnection } from '../rudp/connection.js';
import type { ConnectionHandler, RudpDriver } from './rudp-driver.js';
import type { StreamSocket } from './stream-transport.js';
import { formatHostPort } from './node-errors.js';
import { toSocketError } from './rudp-errors.js';

/** Options of a {@link RudpSocket}. */
export interface RudpSocketOptions {
  /**
   * Keep the writable side open after the peer's FIN (net's `allowHalfOpen`). Default false, as in
   * net: the socket ends its side when the peer ends. sockit's transport always passes true.
   */
  allowHalfOpen?: boolean;
  /** Turn Nagle's algorithm off from the start. */
  noDelay?: boolean;
}

type WriteCallback = (err?: Error | null) => void;

interface PendingWrite {
  chunks: Uint8Array[];
  index: number;
  offset: number;
  callback: WriteCallback;
}

/** Stream high-water marks: 64 KiB, as net uses for reads, for both sides. */
const HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * One RUDP connection as a net.Socket-shaped Duplex. Made by `connect()` (src/io/rudp-connect.ts)
 * and by a server for each accepted peer (src/io/rudp-server.ts).
 */
export class RudpSocket extends Duplex implements StreamSocket {
  #driver: RudpDriver | undefined;
  #connection: RudpConnection | undefined;
  #ownsDriver = false;
  #open = false;
  #connectionClosed = false;
  #peerClosed = false;
  #readEnded = false;
  #shutdownSent = false;
  #wantRead = false;
  #noDelay: boolean;
  #pending: PendingWrite | undefined;
  #finalCallback: WriteCallback | undefined;
  #bytesRead = 0;
  #bytesWritten = 0;
  readonly #handler: ConnectionHandler = { handleEvent: (event) => this.#onEvent(event) };

  constructor(options: RudpSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: HIGH_WATER_MARK_BYTES,
      writableHighWaterMark: HIGH_WATER_MARK_BYTES,
    });
    this.#noDelay = options.noDelay ?? false;
  }

  /** True until the handshake completes (net.Socket#connecting). */
  get connecting(): boolean {
    return !this.#open && !this.destroyed;
  }

  /** True before the socket is connected (net.Socket#pending). */
  get pending(): boolean {
    return !this.#open;
  }

  /** net.Socket#readyState. */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.destroyed) return 'closed';
    if (!this.#open) return 'opening';
    if (this.readable && this.writable) return 'open';
    return this.readable ? 'readOnly' : this.writable ? 'writeOnly' : 'closed';
  }

  /** The peer's address (an IPv4-mapped `::ffff:a.b.c.d` on a dual-stack server). */
  get remoteAddress(): string | undefined {
    return this.#connection?.remote.host;
  }

  get remotePort(): number | undefined {
    return this.#connection?.remote.port;
  }

  get remoteFamily(): 'IPv4' | 'IPv6' | undefined {
    const host = this.remoteAddress;
    return host === undefined ? undefined : host.includes(':') ? 'IPv6' : 'IPv4';
  }

  get localAddress(): string | undefined {
    return this.#driver?.address.host;
  }

  get localPort(): number | undefined {
    return this.#driver?.address.port;
  }

  /** Payload bytes received and handed to the reader. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Payload bytes the connection accepted for sending (net counts what write() was given; so do we once accepted). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** The sans-IO connection underneath (state, counters), once there is one. */
  get connection(): RudpConnection | undefined {
    return this.#connection;
  }

  /** net.Socket#address(): the local UDP address. */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    const a = this.#driver?.address;
    return a ? { address: a.host, family: a.family, port: a.port } : {};
  }

  /** Nagle off (true, the default argument) or on, as net.Socket#setNoDelay. */
  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    if (this.#connection && !this.#connectionClosed) {
      this.#connection.setNoDelay(noDelay);
      this.#driver?.kick();
    }
    return this;
  }

  /**
   * Binds this socket to `connection` on `driver` (for the connect function and servers, not for
   * applications). `established` is true for a connection a server accepted (handshake complete);
   * `ownsDriver` makes the socket close the driver's UDP socket once its connection is done.
   */
  attach(driver: RudpDriver, connection: RudpConnection, established: boolean, ownsDriver: boolean): void {
    if (this.#connection) throw new InvalidStateError('RudpSocket is already attached to a connection');
    this.#driver = driver;
    this.#connection = connection;
    this.#ownsDriver = ownsDriver;
    driver.register(connection, this.#handler);
    if (this.#noDelay) connection.setNoDelay(true);
    if (established) this.#onConnected();
  }

  /** The handler a driver routes this socket's connection events to (for `RudpDriver.connect`). */
  get handler(): ConnectionHandler {
    return this.#handler;
  }

  /** Where this socket goes, for error messages. */
  #where(): string {
    const c = this.#connection;
    return c ? `rudp connection to ${formatHostPort(c.remote.host, c.remote.port)}` : 'rudp connection';
  }

  #onEvent(event: ConnectionEvent): void {
    switch (event.type) {
      case 'connected':
        if (!this.#open) this.#onConnected();
        return;
      case 'readable':
        this.#pull();
        return;
      case 'writable':
        this.#writePending();
        return;
      case 'peer-closed':
        this.#peerClosed = true;
        this.#pull();
        return;
      case 'closed':
        this.#connectionClosed = true;
        this.#releaseDriver();
        if (event.error !== undefined) {
          this.destroy(toSocketError(event.error, this.#where(), this.#open ? 'read' : 'connect'));
          return;
        }
        // A clean close: both FINs exchanged. Bytes still buffered remain readable; then 'end'.
        this.#peerClosed = true;
        this.#pull();
        if (this.#pending) this.#failPending(new InvalidStateError(`${this.#where()}: closed before the write was sent`));
        return;
    }
  }

  #onConnected(): void {
    this.#open = true;
    this.emit('connect');
    this.emit('ready');
    this.#writePending();
    const final = this.#finalCallback;
    if (final && !this.#pending) {
      this.#finalCallback = undefined;
      this.#shutdown(final);
    }
    this.#pull();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#pending = { chunks: [chunk], index: 0, offset: 0, callback };
    this.#writePending();
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: WriteCallback): void {
    this.#pending = { chunks: chunks.map((c) => c.chunk), index: 0, offset: 0, callback };
    this.#writePending();
  }

  /** Moves as much of the pending write as the connection accepts; completes it when all is taken. */
  #writePending(): void {
    const p = this.#pending;
    const connection = this.#connection;
    if (!p || !connection || !this.#open || this.#connectionClosed) return;
    let accepted = 0;
    while (p.index < p.chunks.length) {
      const chunk = p.chunks[p.index]!;
      const part = p.offset === 0 ? chunk : chunk.subarray(p.offset);
      const n = connection.write(part);
      accepted += n;
      if (n < part.length) {
        p.offset += n;
        break;
      }
      p.index++;
      p.offset = 0;
    }
    this.#bytesWritten += accepted;
    if (accepted > 0) this.#driver?.kick();
    if (p.index < p.chunks.length) return;
    this.#pending = undefined;
    const final = this.#finalCallback;
    p.callback();
    if (final && this.#pending === undefined) {
      this.#finalCallback = undefined;
      this.#shutdown(final);
    }
  }

  #failPending(err: Error): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.callback(err);
  }

  override _final(callback: WriteCallback): void {
    if (!this.#open || this.#pending) {
      this.#finalCallback = callback;
      return;
    }
    this.#shutdown(callback);
  }

  #shutdown(callback: WriteCallback): void {
    if (this.#connectionClosed || !this.#connection) {
      callback();
      return;
    }
    // RFC 9293 §3.10.4: FIN goes after every queued byte; the write side is done for the caller now.
    this.#connection.shutdown();
    this.#shutdownSent = true;
    this.#driver?.kick();
    callback();
  }

  override _read(_size: number): void {
    this.#wantRead = true;
    this.#pull();
  }

  /** Pushes received bytes while the reader wants more; pushes the end once the peer's FIN is reached. */
  #pull(): void {
    const connection = this.#connection;
    if (!connection || this.#readEnded) return;
    let took = false;
    while (this.#wantRead) {
      const data = connection.read();
      if (data === undefined) break;
      took = true;
      this.#bytesRead += data.length;
      this.#wantRead = this.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    // Reading opened the receive window: let the flush send the window update.
    if (took) this.#driver?.kick();
    if (this.#peerClosed && connection.readableBytes === 0) {
      this.#readEnded = true;
      this.push(null);
    }
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const connection = this.#connection;
    const driver = this.#driver;
    if (connection && driver && !this.#connectionClosed) {
      this.#connectionClosed = true;
      if (err || !this.#open) {
        // RFC 9293 §3.10.5 ABORT: RST, buffers dropped.
        connection.abort();
        driver.unregister(connection);
      } else {
        // net.Socket#destroy() closes the descriptor: the kernel still sends what was written, then
        // FIN (or RST if unread data remains, RFC 9293 §3.10.4). The driver keeps the connection
        // going, without this socket, until it has finished sending. After both FINs (the usual
        // autoDestroy path) there is nothing left to close: CLOSE there is "connection closing".
        if (!(this.#shutdownSent && this.#readEnded)) connection.close();
        driver.orphan(connection);
      }
      driver.kick();
      this.#releaseDriver();
    }
    if (this.#pending) this.#failPending(err ?? new InvalidStateError(`${this.#where()}: destroyed before the write was sent`));
    const final = this.#finalCallback;
    this.#finalCallback = undefined;
    final?.(err);
    callback(err);
  }

  #releaseDriver(): void {
    if (this.#ownsDriver && this.#driver) {
      this.#ownsDriver = false;
      void this.#driver.closeWhenIdle();
    }
  }
}

