/**
 * The send half of a connection: the send buffer, SND.UNA/SND.NXT/SND.WND, the scoreboard of
 * segments in flight, the congestion controller, loss recovery, the retransmission timer and the
 * persist timer — everything that decides what to (re)send and when.
 *
 * Read first: RFC 9293 §3.8.6 (send window, persist timer, sender SWS avoidance), RFC 1122 §4.2.3.4
 * (Nagle), RFC 6298 §5 (the retransmission timer), RFC 5681 §3.2 and RFC 6582 §3.2 (fast retransmit,
 * NewReno partial ACKs), RFC 6675 §5 (SACK-based recovery: pipe, NextSeg), RFC 2018 §8 (reneging).
 *
 * Positions are unwrapped offsets from our ISN: 0 is our SYN, data starts at 1, our FIN follows the
 * last data byte.
 */
import type { Instant, Millis } from '../core/time.js';
import { ByteQueue } from './byte-queue.js';
import { MAX_PERSIST_MS } from './config.js';
import type { CongestionController } from './congestion/congestion-controller.js';
import type { ByteRange } from './reassembly.js';
import { RttEstimator } from './rtt-estimator.js';
import { DUP_THRESH, Scoreboard, type SentRecord } from './scoreboard.js';
import type { SackBlock } from './wire/segment.js';
import { fromWire } from './wire/seq.js';

/** Send-side state of one connection. Owned and driven by RudpConnection. */
export class Sender {
  /** SND.UNA, SND.NXT (offsets), SND.WND (bytes, scaled), SND.WL1/WL2 (RFC 9293 §3.3.1). */
  una = 0;
  nxt = 0;
  wnd = 0;
  wl1 = 0;
  wl2 = 0;
  /** The largest window the peer ever offered (RFC 9293 §3.8.6.2.1 sender SWS, RFC 5961 §5.2). */
  maxWnd = 0;
  /** The peer's window shift (RFC 7323). */
  scale = 0;
  /** Written, unacknowledged bytes; the head is at offset `queueBase`. */
  readonly queue = new ByteQueue();
  queueBase = 1;
  finQueued = false;
  /** Offset of our FIN once sent. */
  finOffset: number | undefined;
  /** The send MSS (RFC 9293 §3.7.1). */
  mss: number;
  cc: CongestionController | undefined;
  sackEnabled = false;
  timestampsEnabled = false;
  readonly scoreboard = new Scoreboard();
  readonly rtt: RttEstimator;
  /** When the retransmission timer fires (RFC 6298 §5). */
  rtoAt: Instant | undefined;
  /** Timeouts since the last ACK of new data (RFC 1122 §4.2.3.5 R2). */
  consecutiveRtos = 0;
  inRecovery = false;
  /** RFC 6582 `recover` / RFC 6675 RecoveryPoint, as an exclusive end offset. */
  recoveryPoint = 0;
  dupAcks = 0;
  /** Without SACK, each duplicate ACK stands for one segment that left the network (pipe estimate). */
  renoDupBytes = 0;
  /** Send the first lost segment regardless of cwnd (fast retransmit, first segment after RTO). */
  retransmitNow = false;
  /** Without timestamps: the one segment being timed (Karn's rule). */
  rttTiming: { end: number; sentAt: Instant } | undefined;
  persistAt: Instant | undefined;
  persistBackoff = 0;
  /** A zero-window probe is due. */
  probePending = false;
  /** The persist timer fired with a small open window: send what fits (SWS override). */
  sendOverride = false;
  /** Since when the oldest outstanding data waits for its ACK (RFC 5482 user timeout). */
  unackedSince: Instant | undefined;
  /** `write()` accepted less than offered: report `writable` when room returns. */
  wantWritable = false;
  bytesSent = 0;
  retransmissions = 0;
  /** Whether the record the last `next()` returned was a retransmission. */
  lastWasRetransmission = false;

  constructor(mss: number, initialRtoMs: Millis, minRtoMs: Millis, maxRtoMs: Millis) {
    this.mss = mss;
    this.rtt = new RttEstimator(initialRtoMs, minRtoMs, maxRtoMs);
  }

  /** Offset just past the last byte written. */
  get queueEnd(): number {
    return this.queueBase + this.queue.length;
  }

  /** RFC 6675 §4 pipe, less the duplicate-ACK estimate without SACK. */
  pipe(): number {
    return Math.max(0, this.scoreboard.pipe(this.nxt - this.una) - this.renoDupBytes);
  }

  /** RFC 9293 §3.10.7.4: take the window from the newest segment (SND.WL1/SND.WL2). Returns true if it changed. */
  updateWindow(segSeq: number, ackOff: number, windowField: number): boolean {
    // The shift is at most 14 (RFC 7323 §2.3): an integer shift, not a pow() call per ACK.
    const newWnd = windowField * (1 << this.scale);
    const changed = newWnd !== this.wnd;
    if (ackOff >= this.una && (this.wl1 < segSeq || (this.wl1 === segSeq && this.wl2 <= ackOff))) {
      this.wnd = newWnd;
      this.wl1 = segSeq;
      this.wl2 = ackOff;
      this.maxWnd = Math.max(this.maxWnd, newWnd);
      if (this.una + newWnd > this.nxt) {
        this.persistAt = undefined;
        this.persistBackoff = 0;
      }
    }
    return changed;
  }

  /** Marks SACKed records; returns the bytes newly SACKed. */
  applySack(iss: number, blocks: SackBlock[]): number {
    const ranges: ByteRange[] = [];
    for (const b of blocks) {
      const start = fromWire(iss, b.left, this.una);
      const end = fromWire(iss, b.right, this.una);
      // RFC 2018 §4 and RFC 2883: ignore blocks below SND.UNA (D-SACK) or beyond SND.NXT.
      if (start >= this.una && end > start && end <= this.nxt) ranges.push({ start, end });
    }
    return ranges.length === 0 ? 0 : this.scoreboard.applySack(ranges);
  }

  /**
   * The cumulative ACK moved to `ackOff` > SND.UNA: free the buffer, take an RTT sample (`tsRttMs`
   * from timestamps, else the timed segment unless retransmitted), leave or continue recovery, feed
   * the congestion controller and restart or stop the retransmission timer.
   */
  onNewAck(now: Instant, ackOff: number, newlySacked: number, tsRttMs: Millis | undefined): void {
    const res = this.scoreboard.ackTo(ackOff);
    const advanced = ackOff - this.una;
    this.una = ackOff;
    const consumed = Math.min(ackOff, this.queueEnd) - this.queueBase;
    if (consumed > 0) {
      this.queue.consume(consumed);
      this.queueBase += consumed;
    }
    let rttMs = tsRttMs;
    // RFC 7323 §4.3 makes a receiver echo TS.Recent, which a duplicate does not refresh: when our
    // ACKs' predecessors were lost, TSecr can name a transmission older than the latest one of the
    // data now acknowledged, and `now − TSecr` then measures the outage, not the path. Such samples
    // inflate SRTT and, through the RTO, prolong the next outage; take none (Linux's retrans_stamp
    // check serves the same end).
    if (rttMs !== undefined && res.firstSentAt !== undefined && Math.floor(now) - rttMs < Math.floor(res.firstSentAt)) rttMs = undefined;
    if (!this.timestampsEnabled) {
      const timing = this.rttTiming;
      if (timing !== undefined && ackOff >= timing.end) {
        this.rttTiming = undefined;
        // Karn's rule (RFC 6298 §3): no sample from a retransmitted segment.
        if (!res.retransmittedAcked) rttMs = now - timing.sentAt;
      }
    }
    if (rttMs !== undefined) this.rtt.sample(rttMs);
    this.rtt.resetBackoff();
    this.consecutiveRtos = 0;
    this.dupAcks = 0;
    if (this.inRecovery) {
      if (ackOff >= this.recoveryPoint) {
        this.inRecovery = false;
        this.renoDupBytes = 0;
        this.cc?.onRecoveryEnd(now);
      } else if (!this.sackEnabled) {
        // RFC 6582 §3.2 step 5: a partial ACK means the next hole was lost too; resend it now.
        this.renoDupBytes = Math.max(0, this.renoDupBytes - advanced);
        this.scoreboard.markHeadLost();
        this.retransmitNow = true;
      }
    } else {
      this.renoDupBytes = 0;
    }
    this.cc?.onAck(now, res.newlyAckedBytes + newlySacked, this.pipe(), rttMs, this.inRecovery);
    // RFC 6298 §5.2–5.3: stop the timer when all is acknowledged, else restart it.
    if (this.una >= this.nxt) {
      this.rtoAt = undefined;
      this.unackedSince = undefined;
    } else {
      this.rtoAt = now + this.rtt.rtoMs;
      this.unackedSince = now;
    }
  }

  /** RFC 5681 §2: a duplicate ACK arrived. */
  onDuplicateAck(): void {
    this.dupAcks++;
    if (!this.sackEnabled) this.renoDupBytes = Math.min(this.renoDupBytes + this.mss, this.nxt - this.una);
  }

  /** After SACK news: RFC 6675 §4 IsLost marking, then perhaps enter recovery. */
  detectLoss(now: Instant, newlySacked: number): void {
    if (newlySacked > 0) this.scoreboard.markLosses(this.mss);
    // RFC 6582 §3.2 step 2: no new recovery until the ACK passed the previous recovery point.
    if (this.inRecovery || this.una < this.recoveryPoint || this.nxt <= this.una) return;
    const headLost = this.sackEnabled && this.scoreboard.head()?.lost === true;
    if (this.dupAcks < DUP_THRESH && !headLost) return;
    // RFC 5681 §3.2 steps 2–4 / RFC 6675 §5 step 4: fast retransmit and enter recovery.
    this.inRecovery = true;
    this.recoveryPoint = this.nxt;
    this.scoreboard.markHeadLost();
    this.cc?.onCongestionEvent(now, this.nxt - this.una);
    this.retransmitNow = true;
  }

  /**
   * RFC 6675 §4 NextSeg: the next segment to put on the wire at `now` — a lost one first (only it,
   * while it waits for cwnd), else new data or the FIN when `mayNew`, subject to the peer's window,
   * cwnd, Nagle and sender SWS avoidance (RFC 9293 §3.8.6.2.1, RFC 1122 §4.2.3.4). Returns the
   * scoreboard record to (re)send; `lastWasRetransmission` tells which (no object per segment).
   */
  next(now: Instant, mayNew: boolean, noDelay: boolean): SentRecord | undefined {
    const cwnd = this.cc?.window() ?? this.mss;
    const lost = this.scoreboard.nextLost();
    if (lost !== undefined) {
      // RFC 6675 §5 step 4.3 / RFC 5681 §3.2 step 3: the fast retransmission goes regardless of cwnd.
      if (!this.retransmitNow && this.pipe() + (lost.end - lost.start) > cwnd) return undefined;
      this.retransmitNow = false;
      this.scoreboard.onRetransmit(lost, now);
      this.retransmissions++;
      this.rttTiming = undefined;
      if (this.rtoAt === undefined) this.rtoAt = now + this.rtt.rtoMs;
      this.lastWasRetransmission = true;
      return lost;
    }
    if (!mayNew) return undefined;
    const avail = this.queueEnd - this.nxt;
    const finToSend = this.finQueued && this.finOffset === undefined;
    if (avail <= 0 && !finToSend) return undefined;
    let len = 0;
    if (avail > 0) {
      const pipe = this.pipe();
      const room = this.una + this.wnd - this.nxt;
      len = Math.min(this.mss, avail, Math.max(room, 0));
      if (len <= 0) return undefined;
      if (pipe > 0 && pipe + len > cwnd) return undefined;
      // Send a full segment; or everything queued when nothing is unacknowledged (or Nagle is off,
      // or the FIN follows); or at least half the largest window offered; or on the persist override.
      const ok =
        len === this.mss ||
        (len === avail && (noDelay || this.nxt === this.una || finToSend)) ||
        (this.maxWnd > 0 && len >= this.maxWnd / 2) ||
        this.sendOverride;
      if (!ok) return undefined;
    }
    this.sendOverride = false;
    // The FIN goes even into a zero window and past cwnd: it carries no data.
    const fin = finToSend && len === avail;
    const start = this.nxt;
    const end = start + len + (fin ? 1 : 0);
    if (end === start) return undefined;
    if (fin) this.finOffset = start + len;
    this.scoreboard.onSend(start, end, fin, now);
    if (this.una === this.nxt) this.unackedSince = now;
    this.nxt = end;
    this.bytesSent += len;
    if (!this.timestampsEnabled && this.rttTiming === undefined) this.rttTiming = { end, sentAt: now };
    if (this.rtoAt === undefined) this.rtoAt = now + this.rtt.rtoMs;
    this.persistAt = undefined;
    this.cc?.onSent(now, end - start, this.pipe());
    this.lastWasRetransmission = false;
    return this.scoreboard.tail()!;
  }

  /** The data bytes of `record` (without its FIN). */
  payloadOf(record: SentRecord): Uint8Array {
    const dataLen = record.end - record.start - (record.fin ? 1 : 0);
    return dataLen > 0 ? this.queue.slice(record.start - this.queueBase, dataLen) : EMPTY;
  }

  /** RFC 9293 §3.8.6.1: data waits, nothing is in flight, and the window (or SWS) forbids sending: arm the persist timer. */
  armPersistIfStalled(now: Instant, minRtoMs: Millis): void {
    if (this.persistAt !== undefined || this.nxt !== this.una || this.queueEnd <= this.nxt) return;
    const base = Math.max(this.rtt.rtoMs, minRtoMs);
    this.persistAt = now + Math.min(base * 2 ** this.persistBackoff, MAX_PERSIST_MS);
  }

  /** The persist timer fired: probe a zero window, or override SWS for a small open one. */
  onPersistTimeout(): void {
    this.persistAt = undefined;
    if (this.una + this.wnd > this.nxt) this.sendOverride = true;
    else this.probePending = true;
    this.persistBackoff++;
  }

  /**
   * The retransmission timer fired with data outstanding (RFC 6298 §5.4–5.6, RFC 5681 §3.1):
   * shrink the window, double the RTO, presume everything in flight lost and resend from SND.UNA.
   */
  onRto(now: Instant): void {
    // RFC 2018 §8: the head was SACKed yet not cumulatively acknowledged: the receiver reneged.
    if (this.scoreboard.head()?.sacked === true) this.scoreboard.clearSacks();
    this.cc?.onRto(now, this.nxt - this.una);
    this.rtt.backOff();
    this.scoreboard.markAllLost();
    // RFC 6582 §3.2 step 4 / RFC 6675 §5.1: no fast recovery for data sent before the timeout.
    this.inRecovery = false;
    this.recoveryPoint = this.nxt;
    this.dupAcks = 0;
    this.renoDupBytes = 0;
    this.rttTiming = undefined;
    this.retransmitNow = true;
    this.rtoAt = now + this.rtt.rtoMs;
  }

  /** RFC 5482: when unacknowledged data exceeds the user timeout `timeoutMs` (undefined: off or nothing outstanding). */
  userTimeoutAt(timeoutMs: Millis | undefined): Instant | undefined {
    if (timeoutMs === undefined || this.unackedSince === undefined || this.nxt <= this.una) return undefined;
    return this.unackedSince + timeoutMs;
  }

  /** Drops the buffer and every timer (the connection died). */
  clear(): void {
    this.queue.consume(this.queue.length);
    this.rtoAt = undefined;
    this.persistAt = undefined;
    this.unackedSince = undefined;
    this.probePending = false;
  }
}

const EMPTY = new Uint8Array(0);
