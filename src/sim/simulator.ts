/**
 * A deterministic network simulator (after quinn's test `Pair` and smoltcp's fault injector): it
 * drives any number of sans-IO {@link DatagramEndpoint}s on a virtual clock, moving their datagrams
 * over per-direction {@link ImpairedLink}s whose randomness comes from one seed. Minutes of lossy
 * network run in milliseconds, and a run replays exactly from its seed and link settings.
 *
 * Read first: src/rudp/datagram-endpoint.ts (the driver contract), src/sim/impairments.ts (the
 * models), DESIGN.md "The sans-IO protocol core".
 *
 * The loop, per instant: send everything every endpoint has to send; advance the clock to the
 * earliest of (next datagram arrival, next endpoint deadline); hand over the datagrams due then, in
 * the order they were scheduled; then fire the endpoints' timers that are due. Endpoints are
 * visited in the order they were added, so ties break the same way on every run.
 */
import type { Instant } from '../core/time.js';
import { createRng, type Rng } from '../core/rng.js';
import type { DatagramAddress, DatagramEndpoint } from '../rudp/datagram-endpoint.js';
import { InvalidStateError, SockitError, NetCodes } from '../errors.js';
import { EventQueue } from './event-queue.js';
import { ImpairedLink, type DropCause, type LinkImpairments } from './impairments.js';

/** What the simulator reports to an observer (for traces, demos and debugging a failing seed). */
export type SimEvent =
  | { readonly kind: 'sent'; readonly atMs: Instant; readonly from: DatagramAddress; readonly to: DatagramAddress; readonly bytes: Uint8Array }
  | { readonly kind: 'dropped'; readonly atMs: Instant; readonly from: DatagramAddress; readonly to: DatagramAddress; readonly cause: DropCause | 'unroutable'; readonly bytes: Uint8Array }
  | { readonly kind: 'delivered'; readonly atMs: Instant; readonly from: DatagramAddress; readonly to: DatagramAddress; readonly bytes: Uint8Array };

/** Options of a {@link Simulator}. */
export interface SimulatorOptions {
  /** Seeds every link's random generator; the same seed and settings replay the same run. */
  seed: number;
  /** Impairments of links not configured with {@link Simulator.setLink}; default: an ideal link. */
  defaultLink?: LinkImpairments;
  /** Datagrams one endpoint may emit at one instant before the simulator calls it a runaway; default 1,000,000. */
  maxTransmitsPerInstant?: number;
  /** Loop iterations at one instant before the simulator calls it a livelock; default 100,000. */
  maxStepsPerInstant?: number;
}

interface Node {
  readonly address: DatagramAddress;
  readonly endpoint: DatagramEndpoint;
}

interface InFlight {
  readonly link: ImpairedLink;
  readonly from: DatagramAddress;
  readonly to: DatagramAddress;
  readonly bytes: Uint8Array;
}

/** The key of an address in maps (ports never contain '|', hosts never end in one). */
function keyOf(a: DatagramAddress): string {
  return `${a.host}|${a.port}`;
}

/** Formats an address as `host:port` (IPv6 in brackets) for messages. */
export function formatAddress(a: DatagramAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Derives the seed of the `index`-th link from the simulation seed (each link has its own stream). */
export function linkSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

/** A deterministic simulated network of datagram endpoints on a virtual clock. */
export class Simulator {
  readonly seed: number;
  readonly #defaultLink: LinkImpairments;
  readonly #nodes: Node[] = [];
  readonly #byAddress = new Map<string, Node>();
  readonly #links = new Map<string, ImpairedLink>();
  readonly #queue = new EventQueue<InFlight>();
  readonly #observers: Array<(event: SimEvent) => void> = [];
  readonly #maxTransmits: number;
  readonly #maxSteps: number;
  #now: Instant = 0;
  #stepsAtInstant = 0;
  #unroutable = 0;
  #deliveries = 0;
  #linksMade = 0;

  constructor(options: SimulatorOptions) {
    this.seed = checkSeed(options.seed);
    this.#defaultLink = { ...(options.defaultLink ?? {}) };
    this.#maxTransmits = options.maxTransmitsPerInstant ?? 1_000_000;
    this.#maxSteps = options.maxStepsPerInstant ?? 100_000;
  }

  /** The virtual time, in milliseconds since the simulation started. */
  get now(): Instant {
    return this.#now;
  }

  /** Datagrams sent to an address no endpoint owns. */
  get unroutable(): number {
    return this.#unroutable;
  }

  /** Datagrams (copies) handed to endpoints so far. */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** Datagrams on the wire (scheduled to arrive). */
  get inFlight(): number {
    return this.#queue.size;
  }

  /** Places `endpoint` at `address`; datagrams sent to that address reach it. */
  addNode(address: DatagramAddress, endpoint: DatagramEndpoint): void {
    const key = keyOf(address);
    if (this.#byAddress.has(key)) throw new InvalidStateError(`simulator: address ${formatAddress(address)} already has an endpoint`);
    const node = { address: { ...address }, endpoint };
    this.#nodes.push(node);
    this.#byAddress.set(key, node);
  }

  /** Removes the endpoint at `address`; datagrams still on their way to it become unroutable. */
  removeNode(address: DatagramAddress): void {
    const node = this.#byAddress.get(keyOf(address));
    if (!node) return;
    this.#byAddress.delete(keyOf(address));
    this.#nodes.splice(this.#nodes.indexOf(node), 1);
  }

  /** Configures the direction `from` → `to`, replacing any earlier link (and its counters). */
  setLink(from: DatagramAddress, to: DatagramAddress, impairments: LinkImpairments): ImpairedLink {
    const link = new ImpairedLink(impairments, this.#linkRng());
    this.#links.set(`${keyOf(from)}>${keyOf(to)}`, link);
    return link;
  }

  /** Configures both directions between `a` and `b` (`back` for b → a; default the same settings). */
  connect(a: DatagramAddress, b: DatagramAddress, impairments: LinkImpairments, back: LinkImpairments = impairments): [ImpairedLink, ImpairedLink] {
    return [this.setLink(a, b, impairments), this.setLink(b, a, back)];
  }

  /** The link `from` → `to` (created with the default settings on first use). */
  link(from: DatagramAddress, to: DatagramAddress): ImpairedLink {
    const key = `${keyOf(from)}>${keyOf(to)}`;
    let link = this.#links.get(key);
    if (!link) {
      link = new ImpairedLink(this.#defaultLink, this.#linkRng());
      this.#links.set(key, link);
    }
    return link;
  }

  /** Calls `observer` for every datagram sent, dropped and delivered. */
  observe(observer: (event: SimEvent) => void): void {
    this.#observers.push(observer);
  }

  /** True when nothing is on the wire and no endpoint has a timer armed. */
  isIdle(): boolean {
    return this.#queue.size === 0 && this.#nodes.every((n) => n.endpoint.pollTimeout() === undefined);
  }

  /** The endpoints that still have a timer armed, with its deadline. */
  pendingTimers(): Array<{ address: DatagramAddress; atMs: Instant }> {
    const out: Array<{ address: DatagramAddress; atMs: Instant }> = [];
    for (const n of this.#nodes) {
      const t = n.endpoint.pollTimeout();
      if (t !== undefined) out.push({ address: n.address, atMs: t });
    }
    return out;
  }

  /**
   * Runs one instant: the earliest pending arrival or deadline, if it is at or before `limitMs`.
   * Returns false (without advancing the clock) when the network is idle or the next thing is later.
   */
  step(limitMs: Instant = Infinity): boolean {
    this.#flushAll();
    const next = this.#nextTime();
    if (next === undefined || next > limitMs) return false;
    if (next > this.#now) {
      this.#now = next;
      this.#stepsAtInstant = 0;
    } else if (++this.#stepsAtInstant > this.#maxSteps) {
      throw new InvalidStateError(
        `simulator: no progress after ${this.#maxSteps} steps at t=${this.#now} ms (an endpoint keeps asking for a timeout it does not clear); ${this.#describeTimers()}`,
      );
    }
    const now = this.#now;
    while ((this.#queue.peekTime() ?? Infinity) <= now) {
      const { value } = this.#queue.pop()!;
      const node = this.#byAddress.get(keyOf(value.to));
      if (!node) {
        this.#unroutable++;
        this.#emit({ kind: 'dropped', atMs: now, from: value.from, to: value.to, cause: 'unroutable', bytes: value.bytes });
        continue;
      }
      value.link.recordDelivery({ atMs: now, bytes: value.bytes });
      this.#deliveries++;
      this.#emit({ kind: 'delivered', atMs: now, from: value.from, to: value.to, bytes: value.bytes });
      node.endpoint.handleDatagram(now, value.bytes, value.from);
      this.#flush(node);
    }
    for (const node of [...this.#nodes]) {
      const t = node.endpoint.pollTimeout();
      if (t !== undefined && t <= now) {
        node.endpoint.handleTimeout(now);
        this.#flush(node);
      }
    }
    return true;
  }

  /** Runs everything due up to `untilMs`, then sets the clock to `untilMs`. */
  run(untilMs: Instant): void {
    while (this.step(untilMs));
    if (untilMs > this.#now) {
      this.#now = untilMs;
      this.#stepsAtInstant = 0;
    }
  }

  /**
   * Runs until `predicate()` holds (checked before the first and after every step) or nothing more
   * happens at or before `limitMs`. Returns whether the predicate held.
   */
  runUntil(predicate: () => boolean, limitMs: Instant): boolean {
    if (predicate()) return true;
    while (this.step(limitMs)) {
      if (predicate()) return true;
    }
    return predicate();
  }

  /** Runs until the network is idle (no datagram in flight, no timer armed) or `limitMs`. Returns {@link isIdle}. */
  runUntilIdle(limitMs: Instant): boolean {
    while (this.step(limitMs));
    return this.isIdle();
  }

  #nextTime(): Instant | undefined {
    let next = this.#queue.peekTime();
    for (const n of this.#nodes) {
      const t = n.endpoint.pollTimeout();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  #flushAll(): void {
    for (const node of this.#nodes) this.#flush(node);
  }

  #flush(node: Node): void {
    const now = this.#now;
    for (let count = 0; ; count++) {
      if (count >= this.#maxTransmits) {
        throw new InvalidStateError(`simulator: ${formatAddress(node.address)} emitted more than ${this.#maxTransmits} datagrams at t=${now} ms`);
      }
      const t = node.endpoint.pollTransmit(now);
      if (!t) return;
      this.#send(node.address, t.to, t.bytes);
    }
  }

  #send(from: DatagramAddress, to: DatagramAddress, bytes: Uint8Array): void {
    const now = this.#now;
    const link = this.link(from, to);
    this.#emit({ kind: 'sent', atMs: now, from, to, bytes });
    const verdict = link.offer(now, bytes);
    if (verdict.kind === 'dropped') {
      this.#emit({ kind: 'dropped', atMs: now, from, to, cause: verdict.cause, bytes });
      return;
    }
    for (let i = 0; i < verdict.queueDrops; i++) this.#emit({ kind: 'dropped', atMs: now, from, to, cause: 'queue', bytes });
    const dest = { ...to };
    for (const copy of verdict.copies) this.#queue.push(copy.atMs, { link, from, to: dest, bytes: copy.bytes });
  }

  #emit(event: SimEvent): void {
    for (const o of this.#observers) o(event);
  }

  #linkRng(): Rng {
    return createRng(linkSeed(this.seed, this.#linksMade++));
  }

  #describeTimers(): string {
    const timers = this.pendingTimers();
    return timers.length === 0 ? 'no timers armed' : timers.map((t) => `${formatAddress(t.address)} wants t=${t.atMs}`).join(', ');
  }
}

/** Throws unless `seed` is an integer in 0..2^32-1 (seeds are printed and typed back by people). */
function checkSeed(seed: number): number {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffff_ffff)) {
    throw new SockitError(NetCodes.INVALID_ARGUMENT, `simulator: a seed is an integer from 0 to 4294967295, got ${seed}`);
  }
  return seed;
}
