/**
 * The UDP driver of RUDP: one UDP socket (a UdpPort), one sans-IO RudpEndpoint, one timer. It is the
 * short loop DESIGN.md describes — deliver datagrams with `handleDatagram`, run `handleTimeout` when
 * `pollTimeout` is due, hand events to the sockets, send everything `pollTransmit` yields — and the
 * only RUDP code that touches a socket, a timer or the clock (performance.now()).
 *
 * Read first: src/rudp/datagram-endpoint.ts (the contract), src/rudp/endpoint.ts, udp-port.ts (the
 * socket underneath: batched native I/O on Linux, node:dgram elsewhere).
 *
 * Batching: datagrams that arrive in one poll phase of the event loop are all handled before one
 * flush runs in the check phase (setImmediate), so one flush answers many segments (delayed ACKs,
 * window updates and new data go out together), and writes made in the same tick share a flush.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRng } from '../core/rng.js';
import { RudpEndpoint, type RudpConfig } from '../rudp/endpoint.js';
import type { ConnectionEvent, RudpConnection } from '../rudp/connection.js';
import type { DatagramAddress } from '../rudp/datagram-endpoint.js';
import { formatTraceEvent } from '../rudp/trace.js';
import type { BoundAddress } from './stream-transport.js';
import { formatHostPort } from './node-errors.js';
import { refusedByIcmp } from './rudp-errors.js';
import { openUdpPort, type UdpIoKind, type UdpPort, type UdpPortBinding } from './udp-port.js';

/** UDP socket buffers for bulk traffic: the default ~208 KiB drops datagrams under load (DESIGN.md). */
export const DEFAULT_UDP_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long a gracefully destroyed connection may keep the process alive to deliver its last bytes and FIN. */
export const ORPHAN_LINGER_MS = 10_000;
/** Most event/transmit rounds per flush before yielding to the event loop. */
const MAX_ROUNDS_PER_FLUSH = 64;

/** Engine settings a driver passes through (everything of RudpConfig except what the driver supplies). */
export type RudpEngineOptions = Omit<RudpConfig, 'local' | 'isnKey' | 'rng' | 'trace'>;

/** Options shared by RUDP servers, sockets and the transport. */
export interface RudpOptions {
  /** UDP receive buffer in bytes (default 4 MiB; the OS may cap it at net.core.rmem_max). */
  recvBufferSize?: number;
  /** UDP send buffer in bytes (default 4 MiB). */
  sendBufferSize?: number;
  /** Engine tunables: congestion controller, MSS, buffers, MSL, timeouts, … */
  engine?: RudpEngineOptions;
  /** Receives one readable line per segment, state change, drop and timer (see formatTraceEvent). */
  trace?: (line: string) => void;
  /** Origin of trace times (a performance.now() value; default: when the driver was created). */
  traceOrigin?: number;
  /**
   * Keep the process alive until TIME_WAIT is over (2·MSL), not only until our FIN is acknowledged.
   * Default: on when `trace` is set, so a trace always ends with TIME_WAIT → CLOSED and the
   * connection's closing counters; off otherwise, as a kernel TCP client's process may exit while
   * the kernel still holds the connection in TIME_WAIT.
   */
  lingerInTimeWait?: boolean;
  /**
   * How long a gracefully destroyed connection may keep the process alive to deliver its last bytes
   * and FIN (default ORPHAN_LINGER_MS, 10 s); it is still driven after that, unreferenced.
   */
  orphanLingerMs?: number;
  /**
   * The UDP socket implementation: 'auto' (default: batched native I/O where built, else node:dgram),
   * 'native' or 'dgram'. SOCKIT_UDP_IO=dgram in the environment turns 'auto' into 'dgram'.
   */
  io?: UdpIoKind;
}

/** Receives the events of one connection. */
export interface ConnectionHandler {
  handleEvent(event: ConnectionEvent): void;
}

/**
 * Where a driver binds, and whether it is a client's (connected to the one peer it talks to: no
 * per-send address, ICMP errors reported). The buffer sizes come from {@link RudpOptions}.
 */
export type DriverBinding = Omit<UdpPortBinding, 'recvBufferSize' | 'sendBufferSize'>;

let isnKey: Uint8Array | undefined;
// RFC 6528 §3: one secret key for the process, from a CSPRNG.
function processIsnKey(): Uint8Array {
  isnKey ??= randomBytes(16);
  return isnKey;
}

/**
 * One UDP socket and the RUDP endpoint behind it. Servers own one; each client connection owns one
 * (like a kernel socket's ephemeral port). The socket keeps the process alive while something is
 * listening or a connection has not finished; connections lingering in TIME_WAIT do not.
 */
export class RudpDriver {
  readonly endpoint: RudpEndpoint;
  readonly address: BoundAddress;
  readonly #port: UdpPort;
  readonly #peer: DatagramAddress | undefined;
  readonly #handlers = new Map<RudpConnection, ConnectionHandler>();
  // Connections whose socket was destroyed gracefully: still sending their last bytes and FIN,
  // and until when they keep the process alive.
  readonly #orphans = new Map<RudpConnection, number>();
  #onAccept: ((connection: RudpConnection) => void) | undefined;
  #onError: ((err: Error) => void) | undefined;
  #flushScheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #timerDeadline = Infinity;
  #blocked = false;
  #timeoutDue = false;
  #closed = false;
  #closeWhenIdle = false;
  #referenced = true;
  readonly #lingerInTimeWait: boolean;
  readonly #orphanLingerMs: number;
  readonly #closeWaiters: Array<() => void> = [];
  readonly #flushNow = (): void => this.#flush();
  readonly #onTimer = (): void => this.#fireTimer();

  private constructor(port: UdpPort, engine: RudpEngineOptions, options: RudpOptions, peer: DatagramAddress | undefined) {
    this.#port = port;
    this.#peer = peer;
    this.#lingerInTimeWait = options.lingerInTimeWait ?? options.trace !== undefined;
    this.#orphanLingerMs = options.orphanLingerMs ?? ORPHAN_LINGER_MS;
    const a = port.address;
    this.address = a;
    const trace = options.trace;
    const origin = options.traceOrigin ?? performance.now();
    this.endpoint = new RudpEndpoint({
      ...engine,
      local: { host: a.host, port: a.port },
      isnKey: processIsnKey(),
      rng: createRng(randomInt(0x1_0000_0000)),
      ...(trace ? { trace: (event) => trace(formatTraceEvent(event, origin)) } : {}),
    });
  }

  /** Binds a UDP socket (4 MiB buffers by default) and builds the endpoint on it. */
  static async bind(binding: DriverBinding, options: RudpOptions = {}): Promise<RudpDriver> {
    let driver: RudpDriver | undefined;
    const port = await openUdpPort(
      {
        ...binding,
        recvBufferSize: options.recvBufferSize ?? DEFAULT_UDP_BUFFER_BYTES,
        sendBufferSize: options.sendBufferSize ?? DEFAULT_UDP_BUFFER_BYTES,
      },
      {
        datagram: (bytes, from) => {
          if (driver) driver.#onDatagram(bytes, from);
        },
        writable: () => {
          if (driver) driver.#onWritable();
        },
        error: (err) => {
          if (driver) driver.#onSocketError(err);
        },
      },
      options.io,
    );
    driver = new RudpDriver(port, options.engine ?? {}, options, binding.peer);
    return driver;
  }

  /** Which UDP implementation this driver runs on. */
  get io(): 'native' | 'dgram' {
    return this.#port.kind;
  }

  /** The current time on the driver's clock. */
  now(): number {
    return performance.now();
  }

  /** Accept connections; `onAccept` gets each one once its handshake completes. */
  listen(onAccept: (connection: RudpConnection) => void, backlog?: number): void {
    this.#onAccept = onAccept;
    this.endpoint.listen(backlog);
    this.#updateRef();
  }

  /** Stop accepting (existing connections go on). */
  stopListening(): void {
    this.#onAccept = undefined;
    this.endpoint.stopListening();
    this.#updateRef();
    this.kick();
  }

  /** Socket errors after bind (other than ICMP errors a connection handles) go here. */
  onError(handler: (err: Error) => void): void {
    this.#onError = handler;
  }

  /** Opens a connection to `remote` (sends SYN on the next flush). */
  connect(remote: DatagramAddress, handler: ConnectionHandler): RudpConnection {
    const connection = this.endpoint.connect(this.now(), remote);
    this.register(connection, handler);
    this.kick();
    return connection;
  }

  /** Routes the events of `connection` to `handler` until the connection reports `closed`. */
  register(connection: RudpConnection, handler: ConnectionHandler): void {
    this.#handlers.set(connection, handler);
    this.#updateRef();
  }

  /** Forgets `connection` (after its socket aborted it); it may still linger in the endpoint. */
  unregister(connection: RudpConnection): void {
    this.#handlers.delete(connection);
    this.#updateRef();
    this.kick();
  }

  /**
   * Keeps driving `connection` after its socket went away (a graceful destroy): the process stays
   * alive until our data and FIN are acknowledged, as the kernel would deliver them after close().
   */
  orphan(connection: RudpConnection): void {
    this.#handlers.delete(connection);
    if (!connection.isClosed) {
      this.#orphans.set(connection, performance.now() + this.#orphanLingerMs);
      // Look again when its linger time is over (unreferenced: the socket keeps us alive till then).
      setTimeout(() => this.#updateRef(), this.#orphanLingerMs + 1).unref();
    }
    this.#updateRef();
    this.kick();
  }

  /** Connections not yet `closed` for their application. */
  get liveConnections(): number {
    return this.#handlers.size;
  }

  /** Schedules one flush (events, then transmits, then the timer) for this turn of the event loop. */
  kick(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    setImmediate(this.#flushNow);
  }

  /**
   * Closes the UDP socket once nothing listens, no connection is live and the endpoint is idle
   * (TIME_WAIT over). Resolves then.
   */
  closeWhenIdle(): Promise<void> {
    this.#closeWhenIdle = true;
    const p = new Promise<void>((resolve) => {
      if (this.#closed) resolve();
      else this.#closeWaiters.push(resolve);
    });
    this.kick();
    return p;
  }

  /** Closes the UDP socket now; connections still open die silently with it. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#port.close();
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }

  #onDatagram(bytes: Uint8Array, from: DatagramAddress): void {
    if (this.#closed) return;
    this.endpoint.handleDatagram(performance.now(), bytes, this.#peer ?? from);
    this.kick();
  }

  #onSocketError(err: Error): void {
    // A connected client socket learns of ICMP port-unreachable as ECONNREFUSED on its next receive:
    // nobody listens on the peer's port. Only a connection still handshaking treats it as fatal
    // (RFC 1122 §4.2.3.9: an ICMP error is a soft error for an established connection).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' && this.#peer) {
      for (const [connection, handler] of this.#handlers) {
        if (connection.state === 'SYN_SENT') {
          connection.abort();
          this.#handlers.delete(connection);
          handler.handleEvent({ type: 'closed', error: refusedByIcmp(err) });
        }
      }
      this.#updateRef();
      this.kick();
      return;
    }
    if (this.#onError) this.#onError(err);
  }

  #fireTimer(): void {
    this.#timer = undefined;
    this.#timerDeadline = Infinity;
    if (this.#closed) return;
    // libuv runs timers before polling for I/O. After a stall (GC, a busy machine) the ACKs that
    // would cancel the retransmission timer may already sit in the socket buffer: handle the
    // timeout in the next flush, after this iteration's poll phase has delivered them, so a late
    // timer does not become a spurious RTO (and a go-back-N retransmission of the whole window).
    this.#timeoutDue = true;
    this.kick();
  }

  #onWritable(): void {
    if (this.#blocked) {
      this.#blocked = false;
      this.kick();
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const endpoint = this.endpoint;
    if (this.#timeoutDue) {
      this.#timeoutDue = false;
      endpoint.handleTimeout(performance.now());
    }
    let busy = true;
    for (let round = 0; busy && round < MAX_ROUNDS_PER_FLUSH; round++) {
      const delivered = this.#deliverEvents();
      const sent = this.#transmit();
      busy = delivered || sent;
    }
    // Still producing after the cap: let I/O in, then go on in the next turn of the loop.
    if (busy) this.kick();
    if (this.#orphans.size > 0 || this.#lingerInTimeWait) this.#updateRef();
    const deadline = endpoint.pollTimeout();
    this.#armTimer(deadline);
    this.#maybeClose();
  }

  /** Hands every pending endpoint and connection event to its receiver; true if there were any. */
  #deliverEvents(): boolean {
    const endpoint = this.endpoint;
    let any = false;
    for (let e = endpoint.pollEvent(); e !== undefined; e = endpoint.pollEvent()) {
      any = true;
      if (this.#onAccept) this.#onAccept(e.connection);
      else e.connection.abort();
    }
    for (let ce = endpoint.pollConnectionEvent(); ce !== undefined; ce = endpoint.pollConnectionEvent()) {
      any = true;
      const handler = this.#handlers.get(ce.connection);
      if (ce.event.type === 'closed') {
        this.#handlers.delete(ce.connection);
        this.#orphans.delete(ce.connection);
        this.#updateRef();
      }
      handler?.handleEvent(ce.event);
    }
    return any;
  }

  /** Sends what the endpoint has to send while the socket takes it; true if anything went out. */
  #transmit(): boolean {
    if (this.#blocked) return false;
    const port = this.#port;
    const endpoint = this.endpoint;
    const now = performance.now();
    let any = false;
    for (let t = endpoint.pollTransmit(now); t !== undefined; t = endpoint.pollTransmit(now)) {
      any = true;
      if (!port.send(t.bytes, t.to)) {
        this.#blocked = true;
        break;
      }
    }
    if (!this.#blocked && !port.flush()) this.#blocked = true;
    return any;
  }

  #armTimer(deadline: number | undefined): void {
    if (deadline === undefined) {
      // Nothing due: a timer still armed fires once and finds nothing to do (cheaper than clearing).
      return;
    }
    if (this.#timer && deadline >= this.#timerDeadline) return;
    if (this.#timer) clearTimeout(this.#timer);
    const delayMs = Math.max(0, Math.ceil(deadline - performance.now()));
    this.#timerDeadline = deadline;
    this.#timer = setTimeout(this.#onTimer, delayMs);
    if (!this.#referenced) this.#timer.unref();
  }

  #updateRef(): void {
    if (this.#closed) return;
    const want =
      this.#onAccept !== undefined ||
      this.#handlers.size > 0 ||
      this.#hasUnfinishedOrphan() ||
      this.#lingersInTimeWait();
    if (want === this.#referenced) return;
    this.#referenced = want;
    this.#port.setRef(want);
    if (want) this.#timer?.ref();
    else this.#timer?.unref();
  }

  /**
   * With `lingerInTimeWait`, connections still closing hold the process, except orphans past their
   * linger time: a dead peer would hold a traced process for the minutes retransmission takes.
   */
  #lingersInTimeWait(): boolean {
    if (!this.#lingerInTimeWait || this.endpoint.isIdle) return false;
    const now = performance.now();
    let expired = 0;
    for (const [c, until] of this.#orphans) if (!c.isClosed && now >= until) expired++;
    return this.endpoint.connections > expired;
  }

  #hasUnfinishedOrphan(): boolean {
    const now = performance.now();
    for (const [c, until] of this.#orphans) {
      if (c.isClosed) this.#orphans.delete(c);
      // Our FIN is acknowledged in FIN_WAIT_2 and TIME_WAIT: nothing of ours is left to deliver.
      // Past its linger time an orphan goes on being driven but no longer holds the process (a
      // peer that died never acknowledges; the kernel, too, lets a process exit with orphans).
      else if (c.state !== 'FIN_WAIT_2' && c.state !== 'TIME_WAIT' && now < until) return true;
    }
    return false;
  }

  #maybeClose(): void {
    if (!this.#closeWhenIdle || this.#closed) return;
    if (this.#onAccept !== undefined || this.#handlers.size > 0 || !this.endpoint.isIdle) return;
    this.#orphans.clear();
    this.destroy();
  }
}
