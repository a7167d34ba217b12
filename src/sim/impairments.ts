/**
 * The impairment models of one direction of a link, shared by the simulator (virtual clock) and by
 * `sockit impair` (real UDP, real timers): given a datagram offered at `now`, decide whether it is
 * dropped (and why) or when, and in how many copies and which bytes, it arrives.
 *
 * Read first: the netem manual (tc-netem(8): delay, jitter, loss, duplicate, reorder, corrupt, rate,
 * limit), Gilbert (1960) and Elliott (1963) for the two-state burst-loss channel as netem's
 * `loss gemodel p r 1-h 1-k` parameterises it, and RFC 7567 §2 on drop-tail queues.
 *
 * Order of the stages for one offered datagram (each draws from the link's own Rng in a fixed order,
 * so a seed replays exactly):
 *   1. scripted drop (`dropNth`)  2. MTU  3. burst loss (Gilbert-Elliott)  4. random loss
 *   5. duplication: one or two copies; each copy then goes through
 *   6. the bandwidth queue (drop-tail when its backlog would exceed `queueBytes`)
 *   7. corruption (one random bit flipped)  8. propagation delay ± jitter  9. reordering hold.
 */
import type { Instant, Millis } from '../core/time.js';
import type { Rng } from '../core/rng.js';
import { SockitError, NetCodes } from '../errors.js';

/** The two-state Gilbert-Elliott burst-loss channel (netem `loss gemodel`). */
export interface GilbertElliott {
  /** Probability per datagram of moving from the good state to the bad state (netem p). */
  pGoodToBad: number;
  /** Probability per datagram of moving from the bad state back to the good state (netem r). */
  pBadToGood: number;
  /** Loss probability in the good state (netem 1-k); default 0. */
  lossInGood?: number;
  /** Loss probability in the bad state (netem 1-h); default 1. */
  lossInBad?: number;
}

/** What one direction of a link does to datagrams. Every field is optional; absent means "ideal". */
export interface LinkImpairments {
  /** One-way propagation delay. */
  delayMs?: Millis;
  /** Each datagram's delay is drawn uniformly from delayMs ± jitterMs (never below 0); may reorder. */
  jitterMs?: Millis;
  /** Probability (0..1) that a datagram is lost, independently of the others. */
  loss?: number;
  /** Bursty loss on top of `loss`. */
  burst?: GilbertElliott;
  /** Probability (0..1) that a datagram arrives twice. */
  duplicate?: number;
  /** Probability (0..1) that a datagram is held back by `reorderHoldMs` so later ones overtake it. */
  reorder?: number;
  /** How long a reordered datagram is held back; default 10 ms. */
  reorderHoldMs?: Millis;
  /** Probability (0..1) that one random bit of a datagram is flipped. */
  corrupt?: number;
  /** Link bandwidth in bits per second (payload bytes only, no IP/UDP overhead); absent: unlimited. */
  rateBitsPerSec?: number;
  /** Capacity of the drop-tail queue in front of the bandwidth limit; default 256 KiB. */
  queueBytes?: number;
  /** Largest datagram the link carries; larger ones are dropped (as IP would without fragmentation). */
  mtuBytes?: number;
  /** 1-based indices of datagrams offered to this link that are dropped, whatever else happens. */
  dropNth?: readonly number[];
}

/** Why a datagram was dropped. */
export type DropCause = 'scripted' | 'mtu' | 'burst' | 'loss' | 'queue';

/** The causes in the order the stages apply them. */
export const DROP_CAUSES: readonly DropCause[] = ['scripted', 'mtu', 'burst', 'loss', 'queue'];

/** Counters of one direction of a link. */
export interface LinkCounters {
  /** Datagrams offered to the link. */
  sent: number;
  /** Bytes offered to the link. */
  bytesSent: number;
  /** Copies handed to the receiver (recorded by the driver when they arrive). */
  delivered: number;
  /** Bytes handed to the receiver. */
  bytesDelivered: number;
  /** Datagrams (or copies, for `queue`) dropped, by cause. */
  dropped: Record<DropCause, number>;
  /** Extra copies made by duplication. */
  duplicated: number;
  /** Copies with a flipped bit. */
  corrupted: number;
  /** Copies held back for reordering. */
  reordered: number;
}

/** One copy of a datagram that will arrive. */
export interface Delivery {
  /** When it arrives. */
  atMs: Instant;
  /** The bytes that arrive (a private copy; possibly corrupted). */
  bytes: Uint8Array;
}

/** The outcome of offering one datagram to a link. */
export type Verdict =
  | { readonly kind: 'dropped'; readonly cause: DropCause }
  | { readonly kind: 'deliver'; readonly copies: readonly Delivery[]; readonly queueDrops: number };

/** Default capacity of the bandwidth queue (bytes). */
export const DEFAULT_QUEUE_BYTES = 256 * 1024;
/** Default hold of a reordered datagram (milliseconds). */
export const DEFAULT_REORDER_HOLD_MS = 10;

/** Throws an INVALID_ARGUMENT error when a field of `config` is out of range. */
export function validateImpairments(config: LinkImpairments): void {
  const prob = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(v >= 0 && v <= 1)) bad(`${name} must be a probability between 0 and 1, got ${v}`);
  };
  const nonNeg = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) bad(`${name} must be a finite number ≥ 0, got ${v}`);
  };
  prob('loss', config.loss);
  prob('duplicate', config.duplicate);
  prob('reorder', config.reorder);
  prob('corrupt', config.corrupt);
  nonNeg('delayMs', config.delayMs);
  nonNeg('jitterMs', config.jitterMs);
  nonNeg('reorderHoldMs', config.reorderHoldMs);
  nonNeg('queueBytes', config.queueBytes);
  if (config.rateBitsPerSec !== undefined && !(config.rateBitsPerSec > 0 && Number.isFinite(config.rateBitsPerSec))) {
    bad(`rateBitsPerSec must be a positive number, got ${config.rateBitsPerSec}`);
  }
  if (config.mtuBytes !== undefined && !(Number.isInteger(config.mtuBytes) && config.mtuBytes > 0)) {
    bad(`mtuBytes must be a positive integer, got ${config.mtuBytes}`);
  }
  if (config.burst) {
    prob('burst.pGoodToBad', config.burst.pGoodToBad);
    prob('burst.pBadToGood', config.burst.pBadToGood);
    prob('burst.lossInGood', config.burst.lossInGood);
    prob('burst.lossInBad', config.burst.lossInBad);
  }
  for (const n of config.dropNth ?? []) {
    if (!(Number.isInteger(n) && n >= 1)) bad(`dropNth entries are 1-based datagram indices, got ${n}`);
  }
}

function bad(message: string): never {
  throw new SockitError(NetCodes.INVALID_ARGUMENT, `link impairment: ${message}`);
}

/** Fresh zeroed counters. */
export function emptyCounters(): LinkCounters {
  return {
    sent: 0,
    bytesSent: 0,
    delivered: 0,
    bytesDelivered: 0,
    dropped: { scripted: 0, mtu: 0, burst: 0, loss: 0, queue: 0 },
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
  };
}

/**
 * One direction of a link with its impairments and their state (burst-loss state, queue backlog).
 * Pure: time comes in as `now`, randomness from the Rng given at construction.
 */
export class ImpairedLink {
  readonly config: Readonly<LinkImpairments>;
  readonly counters: LinkCounters = emptyCounters();
  readonly #rng: Rng;
  readonly #dropNth: ReadonlySet<number>;
  #inBadState = false;
  // The instant the bandwidth limiter finishes sending everything queued so far: the queue's
  // backlog at `now` is the work left, (busyUntil - now) · rate, exact for a FIFO work-conserving link.
  #busyUntilMs: Instant = 0;

  constructor(config: LinkImpairments, rng: Rng) {
    validateImpairments(config);
    this.config = { ...config };
    this.#rng = rng;
    this.#dropNth = new Set(config.dropNth ?? []);
  }

  /** True while the Gilbert-Elliott channel is in its bad (bursty) state. */
  get inBadState(): boolean {
    return this.#inBadState;
  }

  /** Bytes waiting in the bandwidth queue at `now`. */
  queuedBytes(now: Instant): number {
    const rate = this.config.rateBitsPerSec;
    if (rate === undefined) return 0;
    return Math.max(0, ((this.#busyUntilMs - now) * rate) / 8000);
  }

  /** Offers a datagram sent at `now`; returns what happens to it. `bytes` is not kept or modified. */
  offer(now: Instant, bytes: Uint8Array): Verdict {
    const c = this.counters;
    const cfg = this.config;
    c.sent++;
    c.bytesSent += bytes.length;
    if (this.#dropNth.has(c.sent)) return this.#drop('scripted');
    if (cfg.mtuBytes !== undefined && bytes.length > cfg.mtuBytes) return this.#drop('mtu');
    if (cfg.burst && this.#burstLoses(cfg.burst)) return this.#drop('burst');
    if (this.#rng.chance(cfg.loss ?? 0)) return this.#drop('loss');
    const count = this.#rng.chance(cfg.duplicate ?? 0) ? 2 : 1;
    if (count === 2) c.duplicated++;
    const copies: Delivery[] = [];
    let queueDrops = 0;
    for (let i = 0; i < count; i++) {
      const departMs = this.#enqueue(now, bytes.length);
      if (departMs === undefined) {
        queueDrops++;
        c.dropped.queue++;
        continue;
      }
      const copy = bytes.slice();
      if (this.#rng.chance(cfg.corrupt ?? 0) && copy.length > 0) {
        const bit = this.#rng.int(0, copy.length * 8 - 1);
        copy[bit >> 3]! ^= 1 << (bit & 7);
        c.corrupted++;
      }
      const delay = cfg.delayMs ?? 0;
      const jitter = cfg.jitterMs ?? 0;
      let atMs = departMs + (jitter > 0 ? Math.max(0, delay - jitter + this.#rng.next() * 2 * jitter) : delay);
      if (this.#rng.chance(cfg.reorder ?? 0)) {
        atMs += cfg.reorderHoldMs ?? DEFAULT_REORDER_HOLD_MS;
        c.reordered++;
      }
      copies.push({ atMs, bytes: copy });
    }
    if (copies.length === 0) return { kind: 'dropped', cause: 'queue' };
    return { kind: 'deliver', copies, queueDrops };
  }

  /** The driver handed `delivery` to the receiver: counts it. */
  recordDelivery(delivery: Delivery): void {
    this.counters.delivered++;
    this.counters.bytesDelivered += delivery.bytes.length;
  }

  #drop(cause: DropCause): Verdict {
    this.counters.dropped[cause]++;
    return { kind: 'dropped', cause };
  }

  #burstLoses(ge: GilbertElliott): boolean {
    // The state moves first, then the datagram sees the loss probability of the state it is in.
    if (this.#inBadState) {
      if (this.#rng.chance(ge.pBadToGood)) this.#inBadState = false;
    } else if (this.#rng.chance(ge.pGoodToBad)) {
      this.#inBadState = true;
    }
    const p = this.#inBadState ? (ge.lossInBad ?? 1) : (ge.lossInGood ?? 0);
    return this.#rng.chance(p);
  }

  // Returns the instant the datagram has left the bandwidth limiter, or undefined when the
  // drop-tail queue is full.
  #enqueue(now: Instant, sizeBytes: number): Instant | undefined {
    const rate = this.config.rateBitsPerSec;
    if (rate === undefined) return now;
    const capacity = this.config.queueBytes ?? DEFAULT_QUEUE_BYTES;
    // The datagram being serialised counts as queued (as in a qdisc); an idle link always
    // accepts one datagram, even one larger than the queue.
    const backlog = this.queuedBytes(now);
    if (backlog > 0 && backlog + sizeBytes > capacity) return undefined;
    const start = Math.max(now, this.#busyUntilMs);
    this.#busyUntilMs = start + (sizeBytes * 8000) / rate;
    return this.#busyUntilMs;
  }
}

/** One line summarising `c`: `sent 120, delivered 114, dropped 6 (loss 6), duplicated 0, corrupted 0, reordered 0`. */
export function formatLinkCounters(c: LinkCounters): string {
  const causes = DROP_CAUSES.filter((cause) => c.dropped[cause] > 0).map((cause) => `${cause} ${c.dropped[cause]}`);
  const dropped = DROP_CAUSES.reduce((sum, cause) => sum + c.dropped[cause], 0);
  return (
    `sent ${c.sent}, delivered ${c.delivered}, dropped ${dropped}${causes.length ? ` (${causes.join(', ')})` : ''}, ` +
    `duplicated ${c.duplicated}, corrupted ${c.corrupted}, reordered ${c.reordered}`
  );
}
