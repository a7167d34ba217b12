/**
 * The sender's record of segments in flight: which were SACKed, which are deemed lost, which were
 * retransmitted, and from those `pipe`, the bytes in the network.
 *
 * Read first: RFC 6675 §2–4 (scoreboard, IsLost, pipe, NextSeg), RFC 2018 §5 (sender behaviour),
 * RFC 6582 §3.2 (partial ACKs), RFC 6298 §5 (RTO: everything outstanding is presumed lost).
 *
 * One record per transmitted segment, covering [start, end) in unwrapped sequence offsets (a FIN
 * counts as the last byte of its record). Retransmissions reuse the record's boundaries, so SACK
 * blocks, which describe whole received segments, always cover whole records.
 */
import type { Instant } from '../core/time.js';
import type { ByteRange } from './reassembly.js';

/** RFC 6675 §2 / RFC 5681 §3.2: DupThresh = 3. */
export const DUP_THRESH = 3;

/** One transmitted segment. */
export interface SentRecord {
  start: number;
  end: number;
  /** The record ends with our FIN. */
  fin: boolean;
  /** When it was last (re)transmitted. */
  sentAt: Instant;
  sacked: boolean;
  lost: boolean;
  /** Retransmitted since it was last marked lost (its retransmission is in flight). */
  retransmitted: boolean;
  /** Ever sent more than once (Karn's rule). */
  everRetransmitted: boolean;
}

/** What a cumulative ACK did to the scoreboard. */
export interface AckResult {
  /** Bytes newly acknowledged that had not been SACKed before. */
  newlyAckedBytes: number;
  /** Whether any acknowledged record had been retransmitted (Karn). */
  retransmittedAcked: boolean;
  /** When the lowest acknowledged record was last (re)transmitted (undefined if none). */
  firstSentAt: Instant | undefined;
}

/** The scoreboard of one connection. */
export class Scoreboard {
  #records: SentRecord[] = [];
  #head = 0;
  #sackedBytes = 0;
  #lostBytes = 0;
  #retransBytes = 0;
  // Every unSACKed record ending at or below this offset is already marked lost.
  #lostFloor = 0;
  // No record below this index is lost and not yet retransmitted (makes nextLost O(1) amortised).
  #rtxHint = 0;

  /** Records in flight. */
  get count(): number {
    return this.#records.length - this.#head;
  }

  get sackedBytes(): number {
    return this.#sackedBytes;
  }

  get lostBytes(): number {
    return this.#lostBytes;
  }

  /** RFC 6675 §4 pipe for the outstanding span [una, nxt): not SACKed, not lost, plus retransmissions in flight. */
  pipe(outstandingBytes: number): number {
    return Math.max(0, outstandingBytes - this.#sackedBytes - this.#lostBytes + this.#retransBytes);
  }

  /** The lowest record in flight. */
  head(): SentRecord | undefined {
    return this.#records[this.#head];
  }

  /** The highest record in flight. */
  tail(): SentRecord | undefined {
    return this.#head < this.#records.length ? this.#records[this.#records.length - 1] : undefined;
  }

  /** A new segment [start, end) left at `now`. */
  onSend(start: number, end: number, fin: boolean, now: Instant): void {
    this.#records.push({ start, end, fin, sentAt: now, sacked: false, lost: false, retransmitted: false, everRetransmitted: false });
  }

  #contribute(r: SentRecord, sign: number): void {
    const len = r.end - r.start;
    if (r.sacked) this.#sackedBytes += sign * len;
    if (r.lost) this.#lostBytes += sign * len;
    if (r.lost && r.retransmitted) this.#retransBytes += sign * len;
  }

  /** The cumulative ACK moved SND.UNA to `una`: drop (or trim) the records below it. */
  ackTo(una: number): AckResult {
    let newlyAckedBytes = 0;
    let retransmittedAcked = false;
    let firstSentAt: Instant | undefined;
    while (this.#head < this.#records.length) {
      const r = this.#records[this.#head]!;
      if (r.start >= una) break;
      this.#contribute(r, -1);
      retransmittedAcked ||= r.everRetransmitted;
      firstSentAt ??= r.sentAt;
      if (r.end <= una) {
        if (!r.sacked) newlyAckedBytes += r.end - r.start;
        this.#head++;
      } else {
        // Partially acknowledged (the peer trimmed it to its window): keep the rest.
        if (!r.sacked) newlyAckedBytes += una - r.start;
        r.start = una;
        this.#contribute(r, +1);
        break;
      }
    }
    if (this.#head === this.#records.length) {
      this.#records = [];
      this.#head = 0;
      this.#rtxHint = 0;
    } else if (this.#head > 256 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#rtxHint = Math.max(0, this.#rtxHint - this.#head);
      this.#head = 0;
    }
    return { newlyAckedBytes, retransmittedAcked, firstSentAt };
  }

  /** Marks records covered by SACK `blocks` (unwrapped offsets); returns the bytes newly SACKed. */
  applySack(blocks: ByteRange[]): number {
    let newly = 0;
    for (const b of blocks) {
      // Binary search for the first record ending after b.start.
      let lo = this.#head;
      let hi = this.#records.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.#records[mid]!.end <= b.start) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < this.#records.length; i++) {
        const r = this.#records[i]!;
        if (r.start >= b.end) break;
        if (r.sacked || r.start < b.start || r.end > b.end) continue;
        this.#contribute(r, -1);
        r.sacked = true;
        r.lost = false;
        r.retransmitted = false;
        this.#contribute(r, +1);
        newly += r.end - r.start;
      }
    }
    return newly;
  }

  /**
   * RFC 6675 §4 IsLost: an unSACKed record is lost when at least DupThresh SACKed records, or more
   * than (DupThresh − 1)·SMSS SACKed bytes, lie above it. Marks them; returns bytes newly marked.
   */
  markLosses(smss: number): number {
    if (this.#sackedBytes === 0) return 0;
    let sackedCount = 0;
    let sackedAbove = 0;
    let newly = 0;
    let i = this.#records.length - 1;
    for (; i >= this.#head; i--) {
      const r = this.#records[i]!;
      if (r.end <= this.#lostFloor) break;
      if (r.sacked) {
        sackedCount++;
        sackedAbove += r.end - r.start;
      } else if (sackedCount >= DUP_THRESH || sackedAbove > (DUP_THRESH - 1) * smss) {
        // IsLost is monotonic downwards: this record and every unSACKed one below are lost.
        const top = r.end;
        for (let j = i; j >= this.#head; j--) {
          const q = this.#records[j]!;
          if (q.end <= this.#lostFloor) break;
          if (!q.sacked && !q.lost) {
            q.lost = true;
            q.retransmitted = false;
            this.#contribute(q, +1);
            newly += q.end - q.start;
            this.#rtxHint = 0;
          }
        }
        this.#lostFloor = top;
        break;
      }
    }
    return newly;
  }

  /** Marks the lowest record lost (fast retransmit, RFC 5681 §3.2; NewReno partial ACK, RFC 6582 §3.2). */
  markHeadLost(): void {
    const r = this.#records[this.#head];
    if (r === undefined || r.sacked || (r.lost && !r.retransmitted)) return;
    this.#contribute(r, -1);
    r.lost = true;
    r.retransmitted = false;
    this.#contribute(r, +1);
    this.#rtxHint = 0;
  }

  /** RFC 6298 §5.4–5.6 / RFC 6675 §5.1: after a timeout every unSACKed record is presumed lost. */
  markAllLost(): void {
    for (let i = this.#head; i < this.#records.length; i++) {
      const r = this.#records[i]!;
      if (r.sacked) continue;
      this.#contribute(r, -1);
      r.lost = true;
      r.retransmitted = false;
      this.#contribute(r, +1);
    }
    this.#rtxHint = 0;
    const last = this.tail();
    this.#lostFloor = last === undefined ? this.#lostFloor : last.end;
  }

  /** Forgets every SACK mark (the receiver reneged: RFC 2018 §8). */
  clearSacks(): void {
    for (let i = this.#head; i < this.#records.length; i++) {
      const r = this.#records[i]!;
      if (!r.sacked) continue;
      this.#contribute(r, -1);
      r.sacked = false;
      r.lost = true;
      r.retransmitted = false;
      this.#contribute(r, +1);
    }
    this.#rtxHint = 0;
  }

  /** RFC 6675 §4 NextSeg rule 1: the lowest lost record not yet retransmitted. */
  nextLost(): SentRecord | undefined {
    if (this.#lostBytes === this.#retransBytes) return undefined;
    for (let i = Math.max(this.#head, this.#rtxHint); i < this.#records.length; i++) {
      const r = this.#records[i]!;
      if (r.lost && !r.retransmitted) {
        this.#rtxHint = i;
        return r;
      }
    }
    return undefined;
  }

  /** `r` (from {@link nextLost}) was retransmitted at `now`. */
  onRetransmit(r: SentRecord, now: Instant): void {
    this.#contribute(r, -1);
    r.retransmitted = true;
    r.everRetransmitted = true;
    r.sentAt = now;
    this.#contribute(r, +1);
  }

  /** True when some record above `offset` was SACKed (RFC 6675 NextSeg rule 3 needs it). */
  hasSackedAbove(offset: number): boolean {
    for (let i = this.#records.length - 1; i >= this.#head; i--) {
      const r = this.#records[i]!;
      if (r.end <= offset) return false;
      if (r.sacked) return true;
    }
    return false;
  }
}
