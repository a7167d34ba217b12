/**
 * The impairment proxy behind `sockit impair`: a UDP relay that applies the simulator's link models
 * (src/sim/impairments.ts: loss, bursts, delay, jitter, reordering, duplication, corruption,
 * bandwidth with a drop-tail queue, MTU) to real datagrams with real timers, so any UDP program —
 * sockit's RUDP included — can be tested over a bad network on loopback.
 *
 * Read first: tc-netem(8) (the same knobs, in the kernel), Node's dgram docs (`connect`, buffers).
 *
 * Like a NAT, it gives every client address its own upstream socket, so
 * the target sees one distinct source per client and its replies find their way back to that
 * client. Both directions each share one impaired link, as clients behind one bottleneck do.
 * Deliveries wait in one time-ordered queue served by a single timer, so a fixed delay keeps order.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createRng } from '../core/rng.js';
import { EventQueue } from '../sim/event-queue.js';
import { ImpairedLink, validateImpairments, type LinkCounters, type LinkImpairments } from '../sim/impairments.js';
import { linkSeed } from '../sim/simulator.js';
import { fromNodeError, formatHostPort } from './node-errors.js';
import type { BoundAddress } from './stream-transport.js';

/** Options of {@link ImpairProxy.start}. */
export interface ImpairProxyOptions {
  /** Where clients send; default host 127.0.0.1, port 0 picks a free port. */
  listen: { host?: string; port: number };
  /** Where datagrams are forwarded. A host name is resolved once, at start. */
  target: { host: string; port: number };
  /** Impairments of client → target. */
  upstream: LinkImpairments;
  /** Impairments of target → client (default: the same as upstream). */
  downstream?: LinkImpairments;
  /** Seeds both links' random generators (a run of the same traffic repeats its drops). */
  seed: number;
  /** Most clients relayed at once; the least recently active is forgotten beyond it (default 256). */
  maxSessions?: number;
  /** Kernel socket buffer sizes (default 4 MiB: bulk traffic overflows the default ~208 KiB). */
  socketBufferBytes?: number;
}

/** Counters of both directions, plus datagrams the kernel refused to send. */
export interface ImpairCounters {
  upstream: LinkCounters;
  downstream: LinkCounters;
  sendErrors: number;
}

interface Session {
  readonly client: { host: string; port: number };
  readonly socket: dgram.Socket;
}

interface Pending {
  readonly link: ImpairedLink;
  readonly socket: dgram.Socket;
  readonly to: { host: string; port: number };
  readonly bytes: Uint8Array;
}

const DEFAULT_BUFFER_BYTES = 4 << 20;

function bind(type: 'udp4' | 'udp6', host: string | undefined, port: number, bufferBytes: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
    const onError = (err: Error): void => {
      socket.close();
      reject(fromNodeError(err, `impair: listen on udp ${formatHostPort(host ?? (type === 'udp6' ? '::' : '0.0.0.0'), port)}`));
    };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** A running impairment relay. */
export class ImpairProxy {
  /** Where clients send to. */
  readonly address: BoundAddress;
  /** Where datagrams go (resolved). */
  readonly target: { host: string; port: number };
  /** Client → target. */
  readonly upstream: ImpairedLink;
  /** Target → client. */
  readonly downstream: ImpairedLink;
  readonly #listener: dgram.Socket;
  readonly #sessions = new Map<string, Session>();
  readonly #queue = new EventQueue<Pending>();
  readonly #maxSessions: number;
  readonly #bufferBytes: number;
  readonly #t0 = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #sendErrors = 0;
  #closed = false;

  private constructor(listener: dgram.Socket, target: { host: string; port: number }, options: ImpairProxyOptions) {
    this.#listener = listener;
    this.target = target;
    const a = listener.address();
    this.address = { host: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    this.upstream = new ImpairedLink(options.upstream, createRng(linkSeed(options.seed, 0)));
    this.downstream = new ImpairedLink(options.downstream ?? options.upstream, createRng(linkSeed(options.seed, 1)));
    this.#maxSessions = options.maxSessions ?? 256;
    this.#bufferBytes = options.socketBufferBytes ?? DEFAULT_BUFFER_BYTES;
    listener.on('message', (msg, rinfo) => this.#fromClient(msg, { host: rinfo.address, port: rinfo.port }));
    // A send to a closed port can surface as an error on some platforms; the relay keeps going.
    listener.on('error', () => this.#sendErrors++);
  }

  /** Binds the listening socket and starts relaying. */
  static async start(options: ImpairProxyOptions): Promise<ImpairProxy> {
    // Refuse bad settings before binding anything.
    validateImpairments(options.upstream);
    if (options.downstream) validateImpairments(options.downstream);
    const targetHost = isIP(options.target.host) ? options.target.host : await resolve(options.target.host);
    const listenHost = options.listen.host ?? '127.0.0.1';
    const type = isIP(listenHost) === 6 ? 'udp6' : 'udp4';
    const listener = await bind(type, listenHost, options.listen.port, options.socketBufferBytes ?? DEFAULT_BUFFER_BYTES);
    return new ImpairProxy(listener, { host: targetHost, port: options.target.port }, options);
  }

  /** Clients currently relayed. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** A snapshot of the counters. */
  counters(): ImpairCounters {
    return {
      upstream: structuredClone(this.upstream.counters),
      downstream: structuredClone(this.downstream.counters),
      sendErrors: this.#sendErrors,
    };
  }

  /** Stops relaying: drops what is still in flight and closes every socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.clear();
    const sockets = [this.#listener, ...[...this.#sessions.values()].map((s) => s.socket)];
    this.#sessions.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((done) => s.close(() => done()))));
  }

  #now(): number {
    return performance.now() - this.#t0;
  }

  #fromClient(msg: Buffer, client: { host: string; port: number }): void {
    if (this.#closed) return;
    const key = `${client.host}|${client.port}`;
    let session = this.#sessions.get(key);
    if (session) {
      // Most recently active last, so the first entry is the one to evict.
      this.#sessions.delete(key);
      this.#sessions.set(key, session);
    } else {
      session = this.#openSession(client);
      this.#sessions.set(key, session);
      if (this.#sessions.size > this.#maxSessions) {
        const [oldKey, old] = this.#sessions.entries().next().value as [string, Session];
        this.#sessions.delete(oldKey);
        old.socket.close();
      }
    }
    this.#offer(this.upstream, session.socket, this.target, msg);
  }

  #openSession(client: { host: string; port: number }): Session {
    // Unconnected, bound implicitly by the first send: nothing to wait for, so order is kept.
    const socket = dgram.createSocket({ type: isIP(this.target.host) === 6 ? 'udp6' : 'udp4', recvBufferSize: this.#bufferBytes, sendBufferSize: this.#bufferBytes });
    socket.on('error', () => this.#sendErrors++);
    socket.on('message', (msg, rinfo) => {
      // Only the target's replies go back; anything else reaching this port is not ours to relay.
      if (rinfo.address === this.target.host && rinfo.port === this.target.port) this.#offer(this.downstream, this.#listener, client, msg);
    });
    return { client, socket };
  }

  #offer(link: ImpairedLink, socket: dgram.Socket, to: { host: string; port: number }, msg: Buffer): void {
    if (this.#closed) return;
    const now = this.#now();
    const verdict = link.offer(now, msg);
    if (verdict.kind === 'dropped') return;
    for (const copy of verdict.copies) this.#queue.push(copy.atMs, { link, socket, to, bytes: copy.bytes });
    this.#serve();
  }

  // Sends everything due, then arms the one timer for the next delivery.
  #serve(): void {
    if (this.#closed) return;
    const now = this.#now();
    while ((this.#queue.peekTime() ?? Infinity) <= now) {
      const { atMs, value } = this.#queue.pop()!;
      value.link.recordDelivery({ atMs, bytes: value.bytes });
      const onSent = (err: Error | null): void => {
        if (err) this.#sendErrors++;
      };
      try {
        value.socket.send(value.bytes, value.to.port, value.to.host, onSent);
      } catch {
        // The session's socket was evicted and closed while this datagram was in flight.
        this.#sendErrors++;
      }
    }
    const next = this.#queue.peekTime();
    if (next === undefined) return;
    if (this.#timer && this.#timerAt <= next) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#serve();
    }, Math.max(0, Math.ceil(next - now)));
  }
}

async function resolve(host: string): Promise<string> {
  try {
    return (await lookup(host)).address;
  } catch (err) {
    throw fromNodeError(err, `impair: resolve ${host}`);
  }
}
