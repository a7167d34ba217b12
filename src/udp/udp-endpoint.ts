/**
 * A UDP endpoint over node:dgram: bind, receive with the sender's address, reply, send anywhere,
 * broadcast and multicast, with the size checked before sending.
 *
 * Read first: RFC 768 (UDP), RFC 8085 (UDP usage guidelines: §3.2 message sizes), RFC 919 / RFC 922
 * (broadcast), RFC 1112 (IP multicast, IGMP) and Node's dgram docs.
 *
 * A datagram is one message: it arrives whole or not at all, may be lost, duplicated or
 * reordered. Receiving cannot be paused, so the async iterator keeps a bounded queue and drops
 * (and counts) datagrams beyond it, as the kernel's own receive buffer would.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import { LimitExceededError, NetCodes, ConnectionError, InvalidStateError, SockitError } from '../errors.js';
import { checkPort } from '../io/check-port.js';
import { fromNodeError, formatHostPort, isIpv6Unavailable } from '../io/node-errors.js';
import type { BoundAddress } from '../io/stream-transport.js';

/** Largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header). RFC 768, RFC 791. */
export const MAX_UDP4_PAYLOAD_BYTES = 65_507;
/** Largest UDP payload over IPv6 without jumbograms: 65,535 − 8 (UDP header). RFC 8200 §4.5. */
export const MAX_UDP6_PAYLOAD_BYTES = 65_527;

/** Datagrams the async iterator holds before it drops new ones. */
export const DEFAULT_UDP_QUEUE_DATAGRAMS = 4096;

/** The sender of a received datagram. */
export interface RemoteInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** Payload size in bytes. */
  size: number;
}

/** One received datagram, as the async iterator yields it. */
export interface ReceivedDatagram {
  message: Buffer;
  rinfo: RemoteInfo;
}

/** Options of {@link UdpEndpoint.bind}. */
export interface UdpBindOptions {
  /** Address to bind; default `::` for udp6 (dual-stack) or `0.0.0.0` for udp4. */
  host?: string;
  /** Port; 0 picks a free one (see {@link UdpEndpoint.address}). */
  port: number;
  /** Socket family; default from `host` (IPv6 literal → udp6), else udp6 dual-stack with fallback to udp4. */
  type?: 'udp4' | 'udp6';
  /** SO_REUSEADDR: let several sockets bind the same port (several multicast listeners). */
  reuseAddr?: boolean;
  /** With udp6: refuse IPv4 traffic. */
  ipv6Only?: boolean;
  /** SO_RCVBUF in bytes (a few MiB for bulk traffic; the default ~208 KiB drops under load). */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes. */
  sendBufferSize?: number;
  /** Datagrams the async iterator queues before dropping; default 4096. */
  queueDatagrams?: number;
}

/** The events of a {@link UdpEndpoint} and their arguments. */
export interface UdpEndpointEvents {
  message: [message: Buffer, rinfo: RemoteInfo];
  error: [err: SockitError];
  close: [];
}

/**
 * A bound UDP socket. Events: `'message'` `(msg: Buffer, rinfo: RemoteInfo)`, `'error'`
 * (SockitError, emitted only when someone listens), `'close'`.
 */
export class UdpEndpoint extends EventEmitter<UdpEndpointEvents> {
  readonly #socket: dgram.Socket;
  readonly #type: 'udp4' | 'udp6';
  readonly #maxQueue: number;
  readonly #queue: ReceivedDatagram[] = [];
  #queueHead = 0;
  #iterating = false;
  #iterWaiter: { resolve(r: IteratorResult<ReceivedDatagram>): void } | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #dropped = 0;
  /** The bound address (the real port when 0 was asked for). */
  readonly address: BoundAddress;

  /** Binds a UDP socket. Rejects with ConnectionError (address in use, not available, permission). */
  static override async bind(options: UdpBindOptions): Promise<UdpEndpoint> {
    checkBindOptions(options);
    const type = options.type ?? (options.host === undefined ? 'udp6' : net.isIPv6(options.host) ? 'udp6' : 'udp4');
    try {
      return new UdpEndpoint(await bindSocket(type, options), type, options);
    } catch (err) {
      // No IPv6 on this machine: the default dual-stack bind falls back to IPv4 only.
      if (options.type === undefined && options.host === undefined && isIpv6Unavailable(err)) {
        return new UdpEndpoint(await bindSocket('udp4', options), 'udp4', options);
      }
      throw err;
    }
  }

  private constructor(socket: dgram.Socket, type: 'udp4' | 'udp6', options: UdpBindOptions) {
    super();
    this.#socket = socket;
    this.#type = type;
    this.#maxQueue = options.queueDatagrams ?? DEFAULT_UDP_QUEUE_DATAGRAMS;
    const a = socket.address();
    this.address = { host: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    socket.on('message', (message: Buffer, r: dgram.RemoteInfo) => {
      const rinfo: RemoteInfo = { address: r.address, port: r.port, family: r.family === 'IPv6' ? 'IPv6' : 'IPv4', size: r.size };
      if (this.#iterating) this.#enqueue({ message, rinfo });
      this.emit('message', message, rinfo);
    });
    socket.on('error', (err: Error) => {
      const e = fromNodeError(err, `udp ${formatHostPort(this.address.host, this.address.port)}`);
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
      this.emit('close');
    });
  }

  /** 'udp4' or 'udp6'. */
  get type(): 'udp4' | 'udp6' {
    return this.#type;
  }

  /**
   * Largest payload this endpoint may send (65,507 for udp4, 65,527 for udp6). A dual-stack udp6
   * endpoint sending to an IPv4 peer is held to IPv4's 65,507 ({@link UdpEndpoint.send} checks).
   */
  get maxPayloadBytes(): number {
    return this.#type === 'udp6' ? MAX_UDP6_PAYLOAD_BYTES : MAX_UDP4_PAYLOAD_BYTES;
  }

  /**
   * The largest payload {@link UdpEndpoint.send} accepts towards `host`: IPv4's 65,507 when the
   * datagram will travel as IPv4 (a dual-stack udp6 endpoint sending to an IPv4 or IPv4-mapped
   * address), else {@link UdpEndpoint.maxPayloadBytes}.
   */
  maxPayloadBytesTo(host: string): number {
    return this.#type === 'udp6' && (net.isIPv4(host) || IPV4_MAPPED.test(host)) ? MAX_UDP4_PAYLOAD_BYTES : this.maxPayloadBytes;
  }

  /** Datagrams the async iterator dropped because its queue was full. */
  get droppedCount(): number {
    return this.#dropped;
  }

  /** Current SO_RCVBUF in bytes (Linux reports twice what was set: it counts bookkeeping). */
  get recvBufferSize(): number {
    return this.#socketOp('read SO_RCVBUF', () => this.#socket.getRecvBufferSize());
  }

  /** Current SO_SNDBUF in bytes. */
  get sendBufferSize(): number {
    return this.#socketOp('read SO_SNDBUF', () => this.#socket.getSendBufferSize());
  }

  /** Sets SO_RCVBUF. */
  setRecvBufferSize(bytes: number): void {
    this.#socketOp('set SO_RCVBUF', () => this.#socket.setRecvBufferSize(bytes));
  }

  /** Sets SO_SNDBUF. */
  setSendBufferSize(bytes: number): void {
    this.#socketOp('set SO_SNDBUF', () => this.#socket.setSendBufferSize(bytes));
  }

  /**
   * Sends one datagram to `host:port`. The size is checked first: LimitExceededError
   * `ERR_SOCKIT_DATAGRAM_TOO_LARGE` above {@link UdpEndpoint.maxPayloadBytes}. A broadcast address
   * without {@link UdpEndpoint.setBroadcast} rejects with ConnectionError
   * `ERR_SOCKIT_PERMISSION_DENIED`.
   */
  send(bytes: Uint8Array | string, port: number, host: string): Promise<void> {
    const where = `send udp to ${formatHostPort(String(host), port)}`;
    if (typeof bytes !== 'string' && !(bytes instanceof Uint8Array)) {
      return Promise.reject(new SockitError(NetCodes.INVALID_ARGUMENT, `${where}: a datagram is a Uint8Array or a string, not ${typeof bytes}`));
    }
    try {
      checkPort(port, where, false);
    } catch (err) {
      return Promise.reject(err);
    }
    const payload = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    const max = this.maxPayloadBytesTo(host);
    const tooLarge = (): LimitExceededError => new LimitExceededError(NetCodes.DATAGRAM_TOO_LARGE,
      `${where}: ${payload.byteLength}-byte datagram exceeds the ${max}-byte ${max === MAX_UDP4_PAYLOAD_BYTES ? 'udp4' : 'udp6'} maximum; split it or use a stream transport`,
      max, payload.byteLength);
    if (payload.byteLength > max) return Promise.reject(tooLarge());
    if (this.#closed || this.#closing) return Promise.reject(new InvalidStateError(`${where}: endpoint is closed`));
    return new Promise((resolve, reject) => {
      this.#socket.send(payload, port, host, (err) => {
        if (!err) return resolve();
        // A name that resolved to IPv4 on a dual-stack endpoint: the kernel is the one to say so.
        if ((err as NodeJS.ErrnoException).code === 'EMSGSIZE') return reject(tooLarge());
        const e = fromNodeError(err, where);
        if (e instanceof ConnectionError && e.code === NetCodes.PERMISSION_DENIED) {
          reject(new ConnectionError(NetCodes.PERMISSION_DENIED, 'permission-denied',
            `${e.message} (sending to a broadcast address needs setBroadcast(true))`, { cause: err }));
        } else {
          reject(e);
        }
      });
    });
  }

  /** Allows (or forbids) sending to broadcast addresses (SO_BROADCAST). */
  setBroadcast(on: boolean): void {
    this.#socketOp('set SO_BROADCAST', () => this.#socket.setBroadcast(on));
  }

  /** Joins multicast group `group` on the interface with address `iface` (default: chosen by the OS). */
  joinGroup(group: string, iface?: string): void {
    this.#socketOp(`join multicast group ${group}`, () => this.#socket.addMembership(group, iface));
  }

  /** Leaves multicast group `group`. */
  leaveGroup(group: string, iface?: string): void {
    this.#socketOp(`leave multicast group ${group}`, () => this.#socket.dropMembership(group, iface), 'is this endpoint a member of that group on that interface?');
  }

  /** Hops a multicast datagram may travel (IP_MULTICAST_TTL); 1 keeps it on the local network. */
  setMulticastTTL(ttl: number): void {
    this.#socketOp('set multicast TTL', () => this.#socket.setMulticastTTL(ttl));
  }

  /** Whether our own multicast datagrams loop back to this host (IP_MULTICAST_LOOP). */
  setMulticastLoopback(on: boolean): void {
    this.#socketOp('set multicast loopback', () => this.#socket.setMulticastLoopback(on));
  }

  /** The interface (by its address) outgoing multicast leaves from (IP_MULTICAST_IF). */
  setMulticastInterface(iface: string): void {
    this.#socketOp(`set multicast interface ${iface}`, () => this.#socket.setMulticastInterface(iface));
  }

  /** Closes the socket; resolves once closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#closed) return resolve();
      this.#socket.close(() => resolve());
    });
    return this.#closing;
  }

  /**
   * Iterates over received datagrams until the endpoint closes, from the moment iteration starts
   * (datagrams before that went to `'message'` listeners only). One iterator at a time; the queue
   * is bounded (see {@link UdpEndpoint.droppedCount}). Breaking out of the loop keeps the socket.
   */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedDatagram> {
    if (this.#iterating) throw new InvalidStateError('udp endpoint is already being iterated');
    this.#iterating = true;
    const done = (): IteratorResult<ReceivedDatagram> => ({ value: undefined, done: true });
    return {
      next: () => {
        const d = this.#shift();
        if (d) return Promise.resolve({ value: d, done: false });
        if (this.#closed || !this.#iterating) {
          this.#iterating = false;
          return Promise.resolve(done());
        }
        return new Promise((resolve) => {
          this.#iterWaiter = { resolve };
        });
      },
      return: () => {
        this.#iterating = false;
        this.#iterWaiter = undefined;
        this.#queue.length = 0;
        this.#queueHead = 0;
        return Promise.resolve(done());
      },
    };
  }

  #enqueue(d: ReceivedDatagram): void {
    const waiter = this.#iterWaiter;
    if (waiter) {
      this.#iterWaiter = undefined;
      waiter.resolve({ value: d, done: false });
      return;
    }
    if (this.#queue.length - this.#queueHead >= this.#maxQueue) {
      this.#dropped++;
      return;
    }
    this.#queue.push(d);
  }

  #shift(): ReceivedDatagram | undefined {
    if (this.#queueHead >= this.#queue.length) return undefined;
    const d = this.#queue[this.#queueHead++]!;
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
    return d;
  }

  #wake(): void {
    const waiter = this.#iterWaiter;
    if (waiter && this.#queueHead >= this.#queue.length) {
      this.#iterWaiter = undefined;
      this.#iterating = false;
      waiter.resolve({ value: undefined, done: true });
    }
  }

  /**
   * Runs one socket call: on a closed endpoint it is InvalidStateError; an argument Node refuses
   * (TypeError, RangeError) is ERR_SOCKIT_INVALID_ARGUMENT; an OS refusal gets its mapped code.
   */
  #socketOp<T>(what: string, op: () => T, hint?: string): T {
    const where = `udp ${formatHostPort(this.address.host, this.address.port)}: ${what}`;
    if (this.#closed || this.#closing) throw new InvalidStateError(`${where}: endpoint is closed`);
    try {
      return op();
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) throw new SockitError(NetCodes.INVALID_ARGUMENT, `${where}: ${err.message}`, { cause: err });
      const e = fromNodeError(err, where);
      if (hint && e instanceof ConnectionError) throw new ConnectionError(e.code, e.reason, `${e.message} (${hint})`, { cause: err });
      throw e;
    }
  }
}

/** `::ffff:a.b.c.d`: an IPv4 peer as a dual-stack socket names it. */
const IPV4_MAPPED = /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i;

/** Refuses bind options Node would throw a plain TypeError or RangeError for, or silently wrap. */
function checkBindOptions(options: UdpBindOptions): void {
  checkPort(options.port, 'bind udp', true);
  const bad = (message: string): never => {
    throw new SockitError(NetCodes.INVALID_ARGUMENT, `bind udp: ${message}`);
  };
  if (options.type !== undefined && options.type !== 'udp4' && options.type !== 'udp6') bad(`type is 'udp4' or 'udp6', not ${String(options.type)}`);
  for (const name of ['recvBufferSize', 'sendBufferSize'] as const) {
    const v = options[name];
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) bad(`${name} is a positive whole number of bytes, not ${String(v)}`);
  }
  const q = options.queueDatagrams;
  if (q !== undefined && !(Number.isSafeInteger(q) && q >= 0)) bad(`queueDatagrams is a whole number of datagrams, not ${String(q)}`);
}

function bindSocket(type: 'udp4' | 'udp6', options: UdpBindOptions): Promise<dgram.Socket> {
  const host = options.host ?? (type === 'udp6' ? '::' : '0.0.0.0');
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({
      type,
      reuseAddr: options.reuseAddr ?? false,
      ipv6Only: options.ipv6Only ?? false,
      ...(options.recvBufferSize !== undefined ? { recvBufferSize: options.recvBufferSize } : {}),
      ...(options.sendBufferSize !== undefined ? { sendBufferSize: options.sendBufferSize } : {}),
      ...(type === 'udp6' && !options.ipv6Only ? { lookup: dualStackLookup } : {}),
    });
    const onError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // A socket whose bind failed may already count as closed; nothing is left to release.
      }
      reject(fromNodeError(err, `bind udp ${formatHostPort(host, options.port)}`));
    };
    socket.once('error', onError);
    socket.bind({ address: host, port: options.port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * Name lookup for a dual-stack udp6 socket: IPv4 destinations (literals or names that resolve to
 * IPv4) become IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, RFC 4291 §2.5.5.2), which such a
 * socket can reach; Node's default lookup would ask for IPv6 only and fail with EINVAL/ENOTFOUND.
 */
function dualStackLookup(hostname: string, _family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  dns.lookup(hostname, (err, address, family) => {
    if (err) return callback(err, '', 0);
    callback(null, family === 4 ? `::ffff:${address}` : address, 6);
  });
}
