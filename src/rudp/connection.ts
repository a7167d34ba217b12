/**
 * One RUDP connection: the RFC 9293 state machine as a sans-IO value (quinn-proto / smoltcp style).
 *
 * Read first: RFC 9293 §3.3.2 (states), §3.10 (event processing), RFC 6298 (RTO), RFC 5681 and
 * RFC 6582 (fast retransmit / recovery), RFC 6675 and RFC 2018 (SACK), RFC 7323 (window scale,
 * timestamps, PAWS), RFC 5961 (challenge ACKs), RFC 1122 §4.2.3.4 and RFC 9293 §3.8.6.2 (Nagle, SWS
 * avoidance), RFC 9293 §3.8.6.1 (persist timer), RFC 1122 §4.2.3.6 (keepalive).
 *
 * Every sequence position is kept as an unwrapped offset from its ISN (ours for sending, the peer's
 * for receiving): offset 0 is the SYN, data starts at 1, the FIN follows the last data byte. Only the
 * wire conversion (wire/seq.ts) deals with 32-bit wraparound.
 */
import type { Instant } from '../core/time.js';
import { InvalidStateError, type SockitError } from '../errors.js';
import { connectTimeoutError, keepaliveTimeoutError, refusedError, resetError, tooManyRetransmissionsError, userTimeoutError } from './connection-errors.js';
import type { ResolvedRudpConfig } from './config.js';
import { DEFAULT_PEER_MSS } from './config.js';
import type { DatagramAddress } from './datagram-endpoint.js';
import type { ConnectionEvent, ConnectionInit } from './connection-event.js';
import { Keepalive } from './keepalive.js';
import { Receiver, windowScaleFor } from './receiver.js';
import type { SentRecord } from './scoreboard.js';
import { Sender } from './sender.js';
import { ConnectionTracer } from './connection-trace.js';
import { RudpState, type ConnectionCounters, type DropReason, type RudpStateName } from './trace.js';
import { Flags, type Segment, type SegmentOptions } from './wire/segment.js';
import { fromWire, seqGe, toWire } from './wire/seq.js';

export { RudpState, type RudpStateName, type ConnectionCounters } from './trace.js';
export { windowScaleFor } from './receiver.js';
export type { ConnectionEvent, ConnectionInit } from './connection-event.js';

/** RFC 2018 §3: 3 SACK blocks fit in the 40 option bytes beside timestamps, 4 without. */
const MAX_SACK_BLOCKS_WITH_TS = 3;
const MAX_SACK_BLOCKS_NO_TS = 4;

// CLOSING is among them: the peer's FIN can arrive while ours still waits behind unsent data.
const SENDING_STATES: ReadonlySet<RudpStateName> = new Set([RudpState.ESTABLISHED, RudpState.CLOSE_WAIT, RudpState.FIN_WAIT_1, RudpState.CLOSING, RudpState.LAST_ACK]);
const RECEIVING_STATES: ReadonlySet<RudpStateName> = new Set([RudpState.SYN_RECEIVED, RudpState.ESTABLISHED, RudpState.FIN_WAIT_1, RudpState.FIN_WAIT_2]);

/**
 * One connection. It performs no I/O, reads no clock and draws no randomness: the endpoint feeds it
 * segments and timeouts and collects what it wants to send.
 *
 * - getters: `state`, `remote`, counters (`bytesSent`, `srttMs`, `cwndBytes`, …);
 * - inputs: `handleSegment(now, seg)`, `handleTimeout(now)`;
 * - commands: `write`, `read`, `shutdown`, `close`, `abort`, `setNoDelay`;
 * - outputs: `pollTransmit(now)`, `pollTimeout()`, `pollEvent()`.
 *
 * The send half lives in sender.ts, the receive half in receiver.ts; this class runs the states.
 */
export class RudpConnection {
  /** Unique within the endpoint. */
  readonly id: number;
  /** The peer's UDP address. */
  readonly remote: DatagramAddress;
  /** Our port field in the TCP header. */
  readonly localPort: number;
  /** The peer's port field in the TCP header. */
  readonly remotePort: number;
  /** True for connections created by a listener. */
  readonly passive: boolean;

  readonly #cfg: ResolvedRudpConfig;
  readonly #trace: ConnectionTracer;
  readonly #onEvent: ((c: RudpConnection) => void) | undefined;
  readonly #iss: number;
  readonly #tsOffset: number;
  readonly #tx: Sender;
  readonly #rx: Receiver;
  #state: RudpStateName;
  #events: ConnectionEvent[] = [];
  #everEstablished = false;
  #closedEmitted = false;
  #noDelay: boolean;
  #rstPending: Segment | undefined;
  #synPending = false;
  #synSends = 0;
  #synSentAt: Instant | undefined;
  #wsEnabled = false;
  #tsRecent = 0;
  #readableSignaled = false;
  #appClosed = false;
  #timeWaitAt: Instant | undefined;
  #finWait2At: Instant | undefined;
  #connectDeadline: Instant | undefined;
  readonly #keepalive: Keepalive;
  #segmentsSent = 0;
  #segmentsReceived = 0;
  #segmentsDropped = 0;
  #badChecksums = 0;

  constructor(init: ConnectionInit) {
    this.id = init.id;
    this.remote = init.remote;
    this.localPort = init.localPort;
    this.remotePort = init.remotePort;
    this.passive = init.open === 'passive';
    const cfg = init.config;
    this.#cfg = cfg;
    this.#trace = new ConnectionTracer(cfg.trace, init.id, init.remote);
    this.#onEvent = init.onEvent;
    this.#iss = init.iss >>> 0;
    this.#tsOffset = init.tsOffset >>> 0;
    this.#noDelay = cfg.noDelay;
    this.#tx = new Sender(Math.min(cfg.mss, DEFAULT_PEER_MSS), cfg.initialRtoMs, cfg.minRtoMs, cfg.maxRtoMs);
    this.#rx = new Receiver(cfg.receiveBufferBytes);
    this.#keepalive = new Keepalive(cfg.keepalive, init.now);
    this.#state = init.open === 'active' ? RudpState.CLOSED : RudpState.LISTEN;
    this.#connectDeadline = init.now + cfg.connectTimeoutMs;
    if (init.open === 'active') {
      // RFC 9293 §3.10.1 OPEN (active): send SYN, enter SYN_SENT.
      this.#rx.rcvScale = cfg.windowScaling ? windowScaleFor(cfg.receiveBufferBytes) : 0;
      this.#synPending = true;
      this.#setState(init.now, RudpState.SYN_SENT);
    }
  }

  // ---- getters ----

  /** The RFC 9293 state. */
  get state(): RudpStateName { return this.#state; }
  /** True once the connection reached CLOSED (the endpoint forgets it). */
  get isClosed(): boolean { return this.#state === RudpState.CLOSED; }
  /** True while events wait for `pollEvent()`. */
  get hasPendingEvents(): boolean { return this.#events.length > 0; }
  /** True once the handshake completed (even if the connection closed since). */
  get wasEstablished(): boolean { return this.#everEstablished; }
  /** Payload bytes sent for the first time. */
  get bytesSent(): number { return this.#tx.bytesSent; }
  /** Payload bytes received in order. */
  get bytesReceived(): number { return this.#rx.bytesReceived; }
  /** Segments sent again (timeout, fast retransmit, SACK recovery, SYN/FIN). */
  get retransmissions(): number { return this.#tx.retransmissions; }
  /** Unacceptable segments dropped (out of window, bad ACK, PAWS). */
  get segmentsDropped(): number { return this.#segmentsDropped; }
  /** Smoothed RTT (RFC 6298), undefined before the first sample. */
  get srttMs(): number | undefined { return this.#tx.rtt.srttMs; }
  /** The current retransmission timeout, including backoff. */
  get rtoMs(): number { return this.#tx.rtt.rtoMs; }
  /** The congestion window (0 before the handshake fixed the MSS). */
  get cwndBytes(): number { return this.#tx.cc?.window() ?? 0; }
  /** The slow-start threshold (Infinity until the first loss). */
  get ssthreshBytes(): number { return this.#tx.cc?.ssthresh() ?? Infinity; }
  /** The send MSS agreed in the handshake (RFC 9293 §3.7.1). */
  get mss(): number { return this.#tx.mss; }
  /** The peer's receive window as last advertised (scaled). */
  get peerWindowBytes(): number { return this.#tx.wnd; }
  /** True when SACK (RFC 2018) was negotiated. */
  get sackEnabled(): boolean { return this.#tx.sackEnabled; }
  /** True when timestamps (RFC 7323) were negotiated. */
  get timestampsEnabled(): boolean { return this.#tx.timestampsEnabled; }
  /** True while a fast-recovery episode is in progress. */
  get inRecovery(): boolean { return this.#tx.inRecovery; }

  /** A snapshot of every counter. */
  get counters(): ConnectionCounters {
    return {
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      segmentsSent: this.#segmentsSent,
      segmentsReceived: this.#segmentsReceived,
      retransmissions: this.retransmissions,
      segmentsDropped: this.#segmentsDropped,
      badChecksums: this.#badChecksums,
      srttMs: this.srttMs,
      rttvarMs: this.#tx.rtt.rttvarMs,
      rtoMs: this.rtoMs,
      cwndBytes: this.cwndBytes,
      ssthreshBytes: this.ssthreshBytes,
    };
  }

  /** Bytes `read()` can return now. */
  get readableBytes(): number { return this.#rx.queue.length; }

  /** Free space in the send buffer: how much `write()` would accept now. */
  get writableBytes(): number {
    if (!this.#mayWrite()) return 0;
    return Math.max(0, this.#cfg.sendBufferBytes - this.#tx.queue.length);
  }

  /** Bytes written but not yet acknowledged by the peer. */
  get bufferedBytes(): number { return this.#tx.queue.length; }

  // ---- commands ----

  /**
   * Queues `bytes` for sending and returns how many were accepted (the send buffer is bounded: a
   * short count is backpressure; wait for `writable`). Throws InvalidStateError after shutdown/close.
   */
  write(bytes: Uint8Array): number {
    if (!this.#mayWrite()) {
      throw new InvalidStateError(`cannot write to a RUDP connection in ${this.#state}${this.#tx.finQueued ? ' after shutdown' : ''}`);
    }
    const n = Math.min(bytes.length, this.#cfg.sendBufferBytes - this.#tx.queue.length);
    if (n > 0) this.#tx.queue.push(n === bytes.length ? bytes : bytes.subarray(0, n));
    if (n < bytes.length) this.#tx.wantWritable = true;
    return n;
  }

  /** Takes up to `max` bytes of in-order data (a view, perhaps fewer than buffered: call again), or undefined when none. */
  read(max = Number.POSITIVE_INFINITY): Uint8Array | undefined {
    const out = this.#rx.queue.take(max);
    if (this.#rx.queue.length === 0) this.#readableSignaled = false;
    // RFC 9293 §3.8.6.2.2: tell the peer when the window opened enough to matter.
    if (out !== undefined && RECEIVING_STATES.has(this.#state)) this.#rx.noteRead(this.#tx.mss);
    return out;
  }

  /** Half-close (RFC 9293 §3.10.4 CLOSE while still receiving): send FIN after queued data. */
  shutdown(): void {
    if (this.#tx.finQueued) return;
    switch (this.#state) {
      case RudpState.LISTEN:
        this.#finish(undefined, false);
        return;
      case RudpState.SYN_SENT:
      case RudpState.SYN_RECEIVED:
        // RFC 9293 §3.10.4: queue the FIN until the connection is established.
        this.#tx.finQueued = true;
        return;
      case RudpState.ESTABLISHED:
        this.#tx.finQueued = true;
        this.#setState(undefined, RudpState.FIN_WAIT_1);
        return;
      case RudpState.CLOSE_WAIT:
        this.#tx.finQueued = true;
        this.#setState(undefined, RudpState.LAST_ACK);
        return;
      default:
        return;
    }
  }

  /**
   * Full close: like `shutdown()`, and the application reads no more. Unread or later-arriving data
   * resets the connection (RFC 9293 §3.10.4, RFC 2525 §2.17). A connection still in SYN_SENT is
   * simply deleted (RFC 9293 §3.10.4).
   */
  close(): void {
    if (this.#state === RudpState.CLOSED) return;
    if (this.#state === RudpState.LISTEN || this.#state === RudpState.SYN_SENT) {
      this.#finish(undefined, false);
      return;
    }
    this.#appClosed = true;
    if (this.#rx.queue.length > 0) {
      this.abort();
      return;
    }
    this.shutdown();
    if (this.#state === RudpState.FIN_WAIT_2) this.#finWait2At = this.#keepalive.lastHeardAt + this.#cfg.finWait2TimeoutMs;
  }

  /** Abort (RFC 9293 §3.10.5): send RST where the state calls for it, drop every buffer, CLOSED at once. */
  abort(): void {
    const s = this.#state;
    if (s === RudpState.CLOSED) return;
    const sendRst = s === RudpState.SYN_RECEIVED || s === RudpState.ESTABLISHED || s === RudpState.FIN_WAIT_1 || s === RudpState.FIN_WAIT_2 || s === RudpState.CLOSE_WAIT;
    this.#finish(undefined, sendRst);
  }

  /** Turns Nagle's algorithm off (true) or on (false). */
  setNoDelay(on: boolean): void {
    this.#noDelay = on;
  }

  // ---- outputs ----

  /** The next application event, or undefined. */
  pollEvent(): ConnectionEvent | undefined {
    return this.#events.shift();
  }

  /** The earliest instant a timer of this connection is due, or undefined when none is armed. */
  pollTimeout(): Instant | undefined {
    if (this.#state === RudpState.CLOSED) return undefined;
    if (this.#state === RudpState.TIME_WAIT) return this.#timeWaitAt;
    let t: Instant | undefined;
    const consider = (x: Instant | undefined): void => {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    };
    consider(this.#tx.rtoAt);
    consider(this.#tx.persistAt);
    consider(this.#rx.delayedAckAt);
    consider(this.#finWait2At);
    if (this.#state === RudpState.SYN_SENT || this.#state === RudpState.SYN_RECEIVED) consider(this.#connectDeadline);
    consider(this.#tx.userTimeoutAt(this.#cfg.userTimeoutMs));
    consider(this.#keepaliveAt());
    return t;
  }

  /** The next segment to send at `now`, or undefined. */
  pollTransmit(now: Instant): Segment | undefined {
    this.#trace.flush(now, this.#counters);
    if (this.#rstPending !== undefined) {
      const rst = this.#rstPending;
      this.#rstPending = undefined;
      this.#segmentsSent++;
      this.#trace.segment(now, 'sent', rst, false, this.#state, this.#counters);
      return rst;
    }
    const s = this.#state;
    if (s === RudpState.CLOSED || s === RudpState.LISTEN) return undefined;
    if (this.#synPending) return this.#sendSyn(now);
    if (s === RudpState.SYN_SENT) return undefined;
    if (s !== RudpState.SYN_RECEIVED && s !== RudpState.TIME_WAIT) {
      const sending = SENDING_STATES.has(s);
      const record = this.#tx.next(now, sending, this.#noDelay);
      if (record !== undefined) return this.#buildData(now, record, this.#tx.lastWasRetransmission);
      if (sending) this.#tx.armPersistIfStalled(now, this.#cfg.minRtoMs);
      if (this.#tx.probePending || this.#keepalive.probePending) {
        // RFC 9293 §3.8.6.1 / RFC 1122 §4.2.3.6: a segment below the window elicits an ACK that
        // carries the peer's current window (zero-window probe) or proves it alive (keepalive).
        this.#tx.probePending = false;
        this.#keepalive.probePending = false;
        return this.#build(now, this.#tx.una - 1, Flags.ACK, EMPTY, false);
      }
    }
    if (this.#rx.ackPending) return this.#build(now, this.#tx.nxt, Flags.ACK, EMPTY, false);
    return undefined;
  }

  // ---- inputs ----

  /** A datagram for this connection failed its checksum (counted and traced only). */
  noteBadChecksum(now: Instant): void {
    this.#badChecksums++;
    this.#trace.drop(now, 'bad-checksum');
  }

  /** Runs the timers due at `now`; a spurious call is a no-op. */
  handleTimeout(now: Instant): void {
    const s = this.#state;
    if (s === RudpState.CLOSED) return;
    if (this.#timeWaitAt !== undefined && now >= this.#timeWaitAt) {
      this.#trace.timer(now, 'time-wait');
      this.#finish(undefined, false, now);
      return;
    }
    if (s === RudpState.TIME_WAIT) return;
    if (this.#finWait2At !== undefined && now >= this.#finWait2At) {
      this.#trace.timer(now, 'fin-wait-2');
      this.#finish(undefined, false, now);
      return;
    }
    if ((s === RudpState.SYN_SENT || s === RudpState.SYN_RECEIVED) && this.#connectDeadline !== undefined && now >= this.#connectDeadline) {
      this.#finish(connectTimeoutError(this.remote, this.#cfg.connectTimeoutMs), false, now);
      return;
    }
    const userAt = this.#tx.userTimeoutAt(this.#cfg.userTimeoutMs);
    if (userAt !== undefined && now >= userAt) {
      this.#trace.timer(now, 'user-timeout');
      this.#finish(userTimeoutError(this.remote, this.#cfg.userTimeoutMs ?? 0), true, now);
      return;
    }
    if (this.#tx.rtoAt !== undefined && now >= this.#tx.rtoAt) this.#onRto(now);
    if (this.#state === RudpState.CLOSED) return;
    if (this.#tx.persistAt !== undefined && now >= this.#tx.persistAt) {
      this.#trace.timer(now, 'persist');
      this.#tx.onPersistTimeout();
    }
    if (this.#rx.delayedAckAt !== undefined && now >= this.#rx.delayedAckAt) {
      this.#rx.delayedAckAt = undefined;
      this.#rx.ackPending = true;
    }
    const keepAt = this.#keepaliveAt();
    if (keepAt !== undefined && now >= keepAt) {
      this.#trace.timer(now, 'keepalive');
      if (!this.#keepalive.fire(now)) this.#finish(keepaliveTimeoutError(this.remote, this.#keepalive.probesSent), true, now);
    }
  }

  /** A segment for this connection arrived at `now` (already checksum-verified and decoded). */
  handleSegment(now: Instant, seg: Segment): void {
    if (this.#state === RudpState.CLOSED) return;
    this.#segmentsReceived++;
    this.#keepalive.heard(now);
    this.#trace.hold();
    let drop: DropReason | undefined;
    if (this.#state === RudpState.LISTEN) drop = this.#onListen(now, seg);
    else if (this.#state === RudpState.SYN_SENT) drop = this.#onSynSent(now, seg);
    else drop = this.#onSynchronized(now, seg);
    this.#trace.segment(now, 'received', seg, false, this.#state, this.#counters);
    if (drop !== undefined) {
      this.#segmentsDropped++;
      this.#trace.drop(now, drop, seg);
    }
  }

  // ---- segment arrival, by state (RFC 9293 §3.10.7) ----

  #onListen(now: Instant, seg: Segment): DropReason | undefined {
    // RFC 9293 §3.10.7.2.
    if ((seg.flags & Flags.RST) !== 0) return 'rst-ignored';
    if ((seg.flags & Flags.ACK) !== 0) {
      this.#rstPending = this.#resetFor(seg);
      this.#finish(undefined, false, now);
      return 'no-connection';
    }
    if ((seg.flags & Flags.SYN) === 0) return 'no-connection';
    this.#rx.start(seg.seq);
    this.#negotiate(seg);
    this.#tx.wnd = seg.window;
    this.#tx.maxWnd = seg.window;
    this.#synPending = true;
    this.#setState(now, RudpState.SYN_RECEIVED);
    return undefined;
  }

  #onSynSent(now: Instant, seg: Segment): DropReason | undefined {
    // RFC 9293 §3.10.7.3.
    const hasAck = (seg.flags & Flags.ACK) !== 0;
    const isRst = (seg.flags & Flags.RST) !== 0;
    const tx = this.#tx;
    let ackOff = 0;
    if (hasAck) {
      ackOff = fromWire(this.#iss, seg.ack, tx.nxt);
      if (ackOff <= 0 || ackOff > tx.nxt) {
        if (!isRst) this.#rstPending = this.#resetFor(seg);
        return 'unacceptable-ack';
      }
    }
    if (isRst) {
      if (!hasAck) return 'rst-ignored';
      this.#finish(refusedError(this.remote), false, now);
      return undefined;
    }
    if ((seg.flags & Flags.SYN) === 0) return 'no-connection';
    this.#rx.start(seg.seq);
    this.#negotiate(seg);
    this.#rx.advRightEdge = this.#rx.rcvNxt + this.#rx.synWindow();
    tx.wnd = seg.window;
    tx.maxWnd = seg.window;
    tx.wl1 = 0;
    tx.rtoAt = undefined;
    if (hasAck) {
      tx.una = ackOff;
      tx.wl2 = ackOff;
      this.#rttFromSyn(now, seg);
      this.#rx.ackPending = true;
      this.#establish(now);
    } else {
      // RFC 9293 §3.5 simultaneous open: answer with SYN+ACK (same ISS), enter SYN_RECEIVED.
      this.#synPending = true;
      this.#synSends = 0;
      this.#setState(now, RudpState.SYN_RECEIVED);
    }
    return undefined;
  }

  #onSynchronized(now: Instant, seg: Segment): DropReason | undefined {
    const flags = seg.flags;
    const isRst = (flags & Flags.RST) !== 0;
    const isSyn = (flags & Flags.SYN) !== 0;
    const isFin = (flags & Flags.FIN) !== 0;
    const rx = this.#rx;
    const tx = this.#tx;
    const segSeq = fromWire(rx.irs, seg.seq, rx.rcvNxt);
    if (this.#state === RudpState.SYN_RECEIVED && isSyn && (flags & Flags.ACK) === 0 && segSeq === 0) {
      // The peer retransmitted its SYN: our SYN+ACK was lost. Send it again.
      this.#synPending = true;
      return undefined;
    }
    const ts = seg.options.timestamps;
    // RFC 7323 §5.3 R1 (PAWS): a segment whose TSval is older than TS.Recent is an old duplicate.
    if (tx.timestampsEnabled && ts !== undefined && !isRst && !seqGe(ts.value, this.#tsRecent)) {
      rx.ackPending = true;
      return 'paws';
    }
    const dataStart = segSeq + (isSyn ? 1 : 0);
    const segLen = seg.payload.length + (isSyn ? 1 : 0) + (isFin ? 1 : 0);
    // First check: sequence number.
    if (!rx.isAcceptable(segSeq, segLen)) {
      if (!isRst) {
        rx.ackPending = true;
        // RFC 9293 §3.10.7.4: in TIME_WAIT a retransmitted FIN is re-acknowledged and restarts 2·MSL.
        if (this.#state === RudpState.TIME_WAIT && isFin) this.#timeWaitAt = now + 2 * this.#cfg.mslMs;
      }
      return 'out-of-window';
    }
    // Second check: RST (RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK).
    if (isRst) {
      if (segSeq === rx.rcvNxt) return this.#onReset(now);
      rx.ackPending = true;
      return 'rst-ignored';
    }
    // Fourth check: SYN in a synchronized state (RFC 5961 §4.2): challenge ACK.
    if (isSyn) {
      rx.ackPending = true;
      return 'out-of-window';
    }
    // Fifth check: ACK.
    if ((flags & Flags.ACK) === 0) return 'unacceptable-ack';
    // RFC 7323 §4.3: remember TSval of a segment at the left edge for echoing.
    if (tx.timestampsEnabled && ts !== undefined && segSeq <= rx.lastAckSent) this.#tsRecent = ts.value;
    const ackOff = fromWire(this.#iss, seg.ack, tx.una);
    if (this.#state === RudpState.SYN_RECEIVED) {
      if (ackOff <= tx.una || ackOff > tx.nxt) {
        this.#rstPending = this.#resetFor(seg);
        return 'unacceptable-ack';
      }
      tx.una = ackOff;
      tx.wnd = seg.window * (1 << tx.scale);
      tx.maxWnd = Math.max(tx.maxWnd, tx.wnd);
      tx.wl1 = segSeq;
      tx.wl2 = ackOff;
      this.#rttFromSyn(now, seg);
      tx.rtoAt = undefined;
      tx.consecutiveRtos = 0;
      tx.rtt.resetBackoff();
      this.#establish(now);
    }
    // RFC 5961 §5.2: an ACK beyond what we sent, or too far behind, gets a challenge ACK.
    if (ackOff > tx.nxt || ackOff < tx.una - Math.max(tx.maxWnd, 1)) {
      rx.ackPending = true;
      return 'unacceptable-ack';
    }
    this.#processAck(now, seg, segSeq, ackOff);
    if (!RECEIVING_STATES.has(this.#state)) return undefined;
    // Seventh check: segment text, trimmed to [RCV.NXT, right edge).
    const dataEnd = dataStart + seg.payload.length;
    const from = Math.max(dataStart, rx.rcvNxt);
    const to = Math.min(dataEnd, Math.max(rx.advRightEdge, rx.rcvNxt));
    if (from < to) {
      if (this.#appClosed) {
        // RFC 2525 §2.17 / RFC 9293 §3.10.4: nobody will read this; reset.
        this.#finish(undefined, true, now);
        return 'closed';
      }
      const data = from === dataStart && to === dataEnd ? seg.payload : seg.payload.subarray(from - dataStart, to - dataStart);
      const r = rx.accept(now, from, data, tx.mss, this.#cfg.delayedAckMs);
      if (r.dropped) this.#segmentsDropped++;
      if (r.readable && !this.#readableSignaled) {
        this.#readableSignaled = true;
        this.#push({ type: 'readable' });
      }
    } else if (seg.payload.length > 0) {
      rx.ackPending = true;
    }
    // Eighth check: FIN, taken only when all of the segment's data fitted.
    if (isFin && to >= dataEnd && rx.peerFinOffset === undefined) rx.peerFinOffset = dataEnd;
    if (rx.takeFin()) this.#onPeerFin(now);
    return undefined;
  }

  /** RFC 9293 §3.10.7.4 second check: a RST exactly at RCV.NXT. */
  #onReset(now: Instant): DropReason | undefined {
    const s = this.#state;
    // RFC 1337: ignore RST in TIME_WAIT (no "assassination").
    if (s === RudpState.TIME_WAIT) return 'rst-ignored';
    // CLOSING and LAST_ACK: our side was done anyway. A simultaneous open was refused; a passive
    // handshake or a synchronized connection was reset.
    const quiet = s === RudpState.CLOSING || s === RudpState.LAST_ACK;
    const synRcvd = s === RudpState.SYN_RECEIVED;
    this.#finish(quiet ? undefined : synRcvd && !this.passive ? refusedError(this.remote) : resetError(this.remote, synRcvd), false, now);
    return undefined;
  }

  /** RFC 9293 §3.10.7.4 fifth check for an acceptable ACK: window, SACK, new data, duplicates, loss. */
  #processAck(now: Instant, seg: Segment, segSeq: number, ackOff: number): void {
    const tx = this.#tx;
    const windowChanged = tx.updateWindow(segSeq, ackOff, seg.window);
    const newlySacked = tx.sackEnabled && seg.options.sack !== undefined ? tx.applySack(this.#iss, seg.options.sack) : 0;
    if (ackOff > tx.una) {
      tx.onNewAck(now, ackOff, newlySacked, this.#tsRtt(now, seg));
      if (tx.wantWritable && this.writableBytes >= this.#cfg.sendBufferBytes / 2) {
        tx.wantWritable = false;
        this.#push({ type: 'writable' });
      }
      this.#onOurFinAcked(now);
    } else if (ackOff === tx.una) {
      // RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data, SYN or FIN, and
      // leaves the window unchanged while data is outstanding.
      if (tx.nxt > tx.una && seg.payload.length === 0 && (seg.flags & (Flags.SYN | Flags.FIN)) === 0 && !windowChanged) tx.onDuplicateAck();
      if (newlySacked > 0) tx.cc?.onAck(now, newlySacked, tx.pipe(), undefined, tx.inRecovery);
    }
    tx.detectLoss(now, newlySacked);
  }

  #onOurFinAcked(now: Instant): void {
    const fin = this.#tx.finOffset;
    if (fin === undefined || this.#tx.una <= fin) return;
    const s = this.#state;
    if (s === RudpState.CLOSING) this.#setState(now, RudpState.TIME_WAIT);
    else if (s === RudpState.LAST_ACK) this.#finish(undefined, false, now);
    else if (s === RudpState.FIN_WAIT_1) {
      this.#setState(now, RudpState.FIN_WAIT_2);
      if (this.#appClosed) this.#finWait2At = now + this.#cfg.finWait2TimeoutMs;
    }
  }

  /** The peer's FIN was consumed in sequence: the state moves on (RFC 9293 §3.10.7.4 eighth check). */
  #onPeerFin(now: Instant): void {
    this.#push({ type: 'peer-closed' });
    const s = this.#state;
    if (s === RudpState.SYN_RECEIVED || s === RudpState.ESTABLISHED) {
      this.#setState(now, RudpState.CLOSE_WAIT);
      if (this.#tx.finQueued) this.#setState(now, RudpState.LAST_ACK);
    } else if (s === RudpState.FIN_WAIT_1) {
      // Simultaneous close (RFC 9293 §3.6) when our FIN is not yet acknowledged.
      const fin = this.#tx.finOffset;
      this.#setState(now, fin !== undefined && this.#tx.una > fin ? RudpState.TIME_WAIT : RudpState.CLOSING);
    } else if (s === RudpState.FIN_WAIT_2) {
      this.#finWait2At = undefined;
      this.#setState(now, RudpState.TIME_WAIT);
    }
  }

  // ---- sending ----

  #buildData(now: Instant, rec: SentRecord, retransmission: boolean): Segment {
    const payload = this.#tx.payloadOf(rec);
    const flags = Flags.ACK | (rec.fin ? Flags.FIN : 0) | (payload.length > 0 ? Flags.PSH : 0);
    return this.#build(now, rec.start, flags, payload, retransmission);
  }

  #sendSyn(now: Instant): Segment {
    const tx = this.#tx;
    this.#synPending = false;
    const retransmission = this.#synSends > 0;
    this.#synSends++;
    if (retransmission) tx.retransmissions++;
    this.#synSentAt = now;
    tx.nxt = Math.max(tx.nxt, 1);
    if (tx.rtoAt === undefined) tx.rtoAt = now + tx.rtt.rtoMs;
    const flags = this.#state === RudpState.SYN_SENT ? Flags.SYN : Flags.SYN | Flags.ACK;
    return this.#build(now, 0, flags, EMPTY, retransmission);
  }

  /** Builds a segment from the current state: ACK field, window, options; pays the ACK debt. */
  #build(now: Instant, seqOff: number, flags: number, payload: Uint8Array, retransmission: boolean): Segment {
    const rx = this.#rx;
    const tsOn = this.#tx.timestampsEnabled;
    const hasAck = (flags & Flags.ACK) !== 0;
    const options: SegmentOptions = {};
    let window: number;
    if ((flags & Flags.SYN) !== 0) {
      // RFC 7323 §2.2: the window of a SYN is never scaled. A SYN offers what we support; a
      // SYN+ACK only what the peer offered (RFC 7323 §2.2, §3.2; RFC 2018 §2).
      window = rx.synWindow();
      options.mss = this.#cfg.mss;
      const active = this.#state === RudpState.SYN_SENT;
      if (active ? this.#cfg.windowScaling : this.#wsEnabled) options.windowScale = rx.rcvScale;
      if (active ? this.#cfg.sack : this.#tx.sackEnabled) options.sackPermitted = true;
      if (active ? this.#cfg.timestamps : tsOn) options.timestamps = { value: this.#tsNow(now), echo: active ? 0 : this.#tsRecent };
      if (hasAck) rx.advRightEdge = Math.max(rx.advRightEdge, rx.rcvNxt + window);
    } else {
      window = rx.windowField(this.#tx.mss);
      if (tsOn) options.timestamps = { value: this.#tsNow(now), echo: this.#tsRecent };
      if (this.#tx.sackEnabled && hasAck && rx.hasHoles) options.sack = rx.sackBlocks(tsOn ? MAX_SACK_BLOCKS_WITH_TS : MAX_SACK_BLOCKS_NO_TS);
    }
    if (hasAck) rx.noteAckSent();
    const seg: Segment = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: toWire(this.#iss, seqOff),
      ack: hasAck ? toWire(rx.irs, rx.rcvNxt) : 0,
      flags,
      window,
      urgentPointer: 0,
      options,
      payload,
    };
    this.#segmentsSent++;
    this.#trace.segment(now, 'sent', seg, retransmission, this.#state, this.#counters);
    return seg;
  }

  #resetFor(seg: Segment): Segment {
    // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> for a segment with ACK.
    return { srcPort: this.localPort, dstPort: this.remotePort, seq: seg.ack, ack: 0, flags: Flags.RST, window: 0, urgentPointer: 0, options: {}, payload: EMPTY };
  }

  // ---- timers ----

  #onRto(now: Instant): void {
    const tx = this.#tx;
    tx.rtoAt = undefined;
    tx.consecutiveRtos++;
    if (this.#state === RudpState.SYN_SENT || this.#state === RudpState.SYN_RECEIVED) {
      // RFC 6298 §5.5 and RFC 9293 §3.8.1: resend SYN / SYN+ACK with a doubled RTO.
      tx.rtt.backOff();
      this.#trace.timer(now, 'rto', tx.rtt.rtoMs);
      this.#synPending = true;
      tx.rtoAt = now + tx.rtt.rtoMs;
      return;
    }
    if (tx.nxt <= tx.una) return;
    if (tx.consecutiveRtos > this.#cfg.maxRetransmissions) {
      this.#finish(tooManyRetransmissionsError(this.remote, this.#cfg.maxRetransmissions), true, now);
      return;
    }
    tx.onRto(now);
    this.#trace.timer(now, 'rto', tx.rtt.rtoMs);
  }

  #keepaliveAt(): Instant | undefined {
    const open = this.#state === RudpState.ESTABLISHED || this.#state === RudpState.CLOSE_WAIT;
    return this.#keepalive.dueAt(open && this.#tx.nxt <= this.#tx.una);
  }

  // ---- helpers ----

  #mayWrite(): boolean {
    const s = this.#state;
    if (this.#tx.finQueued || this.#appClosed) return false;
    return s === RudpState.SYN_SENT || s === RudpState.SYN_RECEIVED || s === RudpState.ESTABLISHED || s === RudpState.CLOSE_WAIT;
  }

  #tsNow(now: Instant): number {
    return (Math.floor(now) + this.#tsOffset) >>> 0;
  }

  /** RFC 7323 §4.1: RTT = now − TSecr, valid for retransmissions too. */
  #tsRtt(now: Instant, seg: Segment): number | undefined {
    const ts = seg.options.timestamps;
    if (!this.#tx.timestampsEnabled || ts === undefined || ts.echo === 0) return undefined;
    const r = (this.#tsNow(now) - ts.echo) >>> 0;
    return r < 0x8000_0000 ? r : undefined;
  }

  #negotiate(seg: Segment): void {
    const o = seg.options;
    const tx = this.#tx;
    // RFC 9293 §3.7.1: without an MSS option the peer takes 536 bytes.
    tx.mss = Math.max(1, Math.min(this.#cfg.mss, o.mss ?? DEFAULT_PEER_MSS));
    // RFC 7323 §2.2: scaling is on only when both SYNs carry the option.
    this.#wsEnabled = this.#cfg.windowScaling && o.windowScale !== undefined;
    tx.scale = this.#wsEnabled ? o.windowScale! : 0;
    this.#rx.rcvScale = this.#wsEnabled ? windowScaleFor(this.#cfg.receiveBufferBytes) : 0;
    tx.sackEnabled = this.#cfg.sack && o.sackPermitted === true;
    tx.timestampsEnabled = this.#cfg.timestamps && o.timestamps !== undefined;
    if (tx.timestampsEnabled) this.#tsRecent = o.timestamps!.value;
    tx.cc = this.#cfg.congestion.build(tx.mss);
  }

  #rttFromSyn(now: Instant, seg: Segment): void {
    const r = this.#tsRtt(now, seg);
    if (r !== undefined) this.#tx.rtt.sample(r);
    // Karn: without timestamps only a SYN sent once gives a sample.
    else if (!this.#tx.timestampsEnabled && this.#synSends === 1 && this.#synSentAt !== undefined) this.#tx.rtt.sample(now - this.#synSentAt);
  }

  #establish(now: Instant): void {
    this.#everEstablished = true;
    this.#connectDeadline = undefined;
    this.#setState(now, RudpState.ESTABLISHED);
    this.#push({ type: 'connected' });
    if (this.#tx.finQueued) this.#setState(now, RudpState.FIN_WAIT_1);
  }

  #push(event: ConnectionEvent): void {
    this.#events.push(event);
    this.#onEvent?.(this);
  }

  #setState(now: Instant | undefined, to: RudpStateName): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#trace.state(now, from, to);
    if (to === RudpState.TIME_WAIT) {
      // RFC 9293 §3.10.7.4: TIME_WAIT lasts 2·MSL; nothing else runs meanwhile.
      this.#timeWaitAt = (now ?? this.#keepalive.lastHeardAt) + 2 * this.#cfg.mslMs;
      this.#tx.clear();
      this.#finWait2At = undefined;
      this.#emitClosed(undefined);
    }
  }

  #emitClosed(error: SockitError | undefined): void {
    if (this.#closedEmitted) return;
    this.#closedEmitted = true;
    this.#push(error === undefined ? { type: 'closed' } : { type: 'closed', error });
  }

  /** Enters CLOSED: optionally queues a RST (<SEQ=SND.NXT><CTL=RST>), drops buffers and timers, reports `closed`. */
  #finish(error: SockitError | undefined, sendRst: boolean, now?: Instant): void {
    if (sendRst && this.#state !== RudpState.SYN_SENT && this.#state !== RudpState.LISTEN) {
      const seq = toWire(this.#iss, this.#tx.nxt);
      this.#rstPending = { srcPort: this.localPort, dstPort: this.remotePort, seq, ack: 0, flags: Flags.RST, window: 0, urgentPointer: 0, options: {}, payload: EMPTY };
    }
    this.#setState(now, RudpState.CLOSED);
    this.#tx.clear();
    this.#rx.clear();
    this.#timeWaitAt = undefined;
    this.#finWait2At = undefined;
    this.#connectDeadline = undefined;
    this.#synPending = false;
    this.#keepalive.probePending = false;
    this.#emitClosed(error);
    this.#trace.closed(now, this.#counters);
  }

  readonly #counters = (): ConnectionCounters => this.counters;
}

const EMPTY = new Uint8Array(0);
