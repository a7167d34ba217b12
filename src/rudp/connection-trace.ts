/**
 * The trace plumbing of one connection: it turns what the state machine does into TraceEvents for
 * the configured sink. It holds back the state changes made by commands (`shutdown`, `close`,
 * `abort` get no `now`) until the next instant the connection sees, and those made while a segment
 * is handled until that segment's line is out, so the lines read in cause-and-effect order.
 *
 * Read first: trace.ts (the events and their readable lines).
 */
import type { Instant } from '../core/time.js';
import type { DatagramAddress } from './datagram-endpoint.js';
import type { ConnectionCounters, DropReason, RudpStateName, TimerTraceEvent, TraceSink } from './trace.js';
import type { Segment } from './wire/segment.js';

/** Emits the trace events of one connection. Every method is a no-op without a sink. */
export class ConnectionTracer {
  readonly #sink: TraceSink | undefined;
  readonly #id: number;
  readonly #remote: DatagramAddress;
  #pendingStates: Array<{ from: RudpStateName; to: RudpStateName }> = [];
  #countersPending = false;
  #holding = false;

  constructor(sink: TraceSink | undefined, connectionId: number, remote: DatagramAddress) {
    this.#sink = sink;
    this.#id = connectionId;
    this.#remote = remote;
  }

  /** From now until the received segment's line: hold state changes and the counters line back. */
  hold(): void {
    this.#holding = this.#sink !== undefined;
  }

  /** A state change; without `now` (or while holding) it is reported at the next `flush`. */
  state(now: Instant | undefined, from: RudpStateName, to: RudpStateName): void {
    if (this.#sink === undefined) return;
    if (now === undefined || this.#holding) this.#pendingStates.push({ from, to });
    else this.#sink({ type: 'state', at: now, connectionId: this.#id, from, to });
  }

  /** A segment sent or received; `state` is the state after it. */
  segment(now: Instant, direction: 'sent' | 'received', segment: Segment, retransmission: boolean, state: RudpStateName, counters: () => ConnectionCounters): void {
    if (this.#sink === undefined) return;
    const held = this.#holding && direction === 'received';
    if (!held) this.flush(now, counters);
    this.#sink({ type: 'segment', at: now, connectionId: this.#id, direction, remote: this.#remote, segment, retransmission, state });
    if (held) {
      this.#holding = false;
      this.flush(now, counters);
    }
  }

  /** A timer fired. */
  timer(now: Instant, timer: TimerTraceEvent['timer'], rtoMs?: number): void {
    if (this.#sink === undefined) return;
    this.#sink(rtoMs === undefined ? { type: 'timer', at: now, connectionId: this.#id, timer } : { type: 'timer', at: now, connectionId: this.#id, timer, rtoMs });
  }

  /** A segment (or a datagram, without `segment`) was dropped. */
  drop(now: Instant, reason: DropReason, segment?: Segment): void {
    if (this.#sink === undefined) return;
    this.#sink(segment === undefined ? { type: 'drop', at: now, connectionId: this.#id, reason, remote: this.#remote } : { type: 'drop', at: now, connectionId: this.#id, reason, remote: this.#remote, segment });
  }

  /** The connection reached CLOSED: its counters line follows (now, or at the next `flush`). */
  closed(now: Instant | undefined, counters: () => ConnectionCounters): void {
    if (this.#sink === undefined) return;
    this.#countersPending = true;
    if (now !== undefined && !this.#holding) this.flush(now, counters);
  }

  /** Reports what was held back, at `now`. */
  flush(now: Instant, counters: () => ConnectionCounters): void {
    const sink = this.#sink;
    if (sink === undefined || this.#holding) return;
    if (this.#pendingStates.length > 0) {
      for (const p of this.#pendingStates) sink({ type: 'state', at: now, connectionId: this.#id, from: p.from, to: p.to });
      this.#pendingStates = [];
    }
    if (this.#countersPending) {
      this.#countersPending = false;
      sink({ type: 'counters', at: now, connectionId: this.#id, counters: counters() });
    }
  }
}
