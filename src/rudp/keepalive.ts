/**
 * Keepalive (optional): after an idle period with nothing outstanding, probe the peer with a
 * segment below its window, which any live TCP answers with an ACK; give up after enough silence.
 *
 * Read first: RFC 1122 §4.2.3.6 (TCP keep-alives: off by default, idle interval, probe format),
 * RFC 9293 §3.8.4.
 */
import type { Instant } from '../core/time.js';
import type { KeepaliveOptions } from './config.js';

/** The keepalive timer of one connection. */
export class Keepalive {
  readonly #options: KeepaliveOptions | undefined;
  /** When we last heard from the peer. */
  lastHeardAt: Instant;
  #lastProbeAt: Instant = 0;
  #probesSent = 0;
  /** A probe should go out at the next transmit opportunity. */
  probePending = false;

  constructor(options: KeepaliveOptions | undefined, now: Instant) {
    this.#options = options;
    this.lastHeardAt = now;
  }

  /** A segment arrived from the peer. */
  heard(now: Instant): void {
    this.lastHeardAt = now;
    this.#probesSent = 0;
  }

  /** When the next probe is due, if keepalive is on and the connection `idle` (open, nothing outstanding). */
  dueAt(idle: boolean): Instant | undefined {
    const o = this.#options;
    if (o === undefined || !idle) return undefined;
    return this.#probesSent === 0 ? this.lastHeardAt + o.idleMs : this.#lastProbeAt + o.intervalMs;
  }

  /** The timer fired: queue a probe and return true, or return false when every probe went unanswered. */
  fire(now: Instant): boolean {
    const o = this.#options;
    if (o === undefined || this.#probesSent >= o.probes) return false;
    this.#probesSent++;
    this.#lastProbeAt = now;
    this.probePending = true;
    return true;
  }

  /** Probes sent without an answer. */
  get probesSent(): number {
    return this.#probesSent;
  }
}
