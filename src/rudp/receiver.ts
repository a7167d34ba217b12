/**
 * The receive half of a connection: RCV.NXT, the advertised window, the in-order buffer the
 * application reads, out-of-order reassembly, the ACK debt (delayed ACKs) and the peer's FIN.
 *
 * Read first: RFC 9293 §3.10.7.4 (segment acceptability, the seventh and eighth checks),
 * §3.8.6.2.2 (receiver silly-window avoidance), RFC 5681 §4.2 (when to ACK), RFC 1122 §4.2.3.2
 * (delayed ACKs), RFC 2018 §4 (SACK blocks), RFC 7323 §2 (window scale).
 *
 * Positions are unwrapped offsets from the peer's ISN (IRS): 0 is its SYN, data starts at 1.
 */
import type { Instant } from '../core/time.js';
import { ByteQueue } from './byte-queue.js';
import { Reassembler } from './reassembly.js';
import { MAX_WINDOW_SCALE } from './wire/segment-codec.js';
import type { SackBlock } from './wire/segment.js';
import { toWire } from './wire/seq.js';

/** RFC 7323 §2.2: the window field is 16 bits. */
export const MAX_WINDOW_FIELD = 0xffff;
/** Out-of-order pieces held at most (bounds memory against a peer sending 1-byte scraps). */
export const MAX_OOO_PIECES = 4096;

/** The RFC 7323 §2.3 shift that makes `bufferBytes` fit the 16-bit window field. */
export function windowScaleFor(bufferBytes: number): number {
  let shift = 0;
  while (shift < MAX_WINDOW_SCALE && bufferBytes >> shift > MAX_WINDOW_FIELD) shift++;
  return shift;
}

/** What {@link Receiver.accept} did with a segment's data. */
export interface AcceptResult {
  /** New bytes became readable. */
  readonly readable: boolean;
  /** Out-of-order data could not be held (reassembly full). */
  readonly dropped: boolean;
}
// Shared results: accept() runs once per data segment and allocates nothing.
const DELIVERED: AcceptResult = Object.freeze({ readable: true, dropped: false });
const HELD: AcceptResult = Object.freeze({ readable: false, dropped: false });
const DROPPED: AcceptResult = Object.freeze({ readable: false, dropped: true });

/** Receive-side state of one connection. Owned and driven by RudpConnection. */
export class Receiver {
  /** The peer's initial sequence number (wire value). */
  irs = 0;
  /** RCV.NXT as an offset from IRS. */
  rcvNxt = 0;
  /** Our window shift (RFC 7323), applied to the windows we send. */
  rcvScale = 0;
  /** The right edge we advertised (never moved left: RFC 9293 §3.8.6.2.2). */
  advRightEdge = 0;
  /** RCV.NXT as of the last ACK we sent (RFC 7323 §4.3 Last.ACK.sent). */
  lastAckSent = 0;
  /** Offset of the peer's FIN once seen (possibly ahead of RCV.NXT). */
  peerFinOffset: number | undefined;
  finReceived = false;
  /** An ACK must go out at the next transmit opportunity. */
  ackPending = false;
  /** When the delayed ACK is due (RFC 1122 §4.2.3.2). */
  delayedAckAt: Instant | undefined;
  bytesReceived = 0;
  readonly queue = new ByteQueue();
  readonly #reasm = new Reassembler(MAX_OOO_PIECES);
  readonly #bufferBytes: number;
  #unackedBytes = 0;

  constructor(bufferBytes: number) {
    this.#bufferBytes = bufferBytes;
  }

  /** The peer's SYN arrived with sequence number `irs`. */
  start(irs: number): void {
    this.irs = irs;
    this.rcvNxt = 1;
  }

  /** True while out-of-order data is held. */
  get hasHoles(): boolean {
    return !this.#reasm.isEmpty;
  }

  /** The window we advertised and still hold open. */
  get window(): number {
    return Math.max(0, this.advRightEdge - this.rcvNxt);
  }

  /**
   * RFC 9293 §3.10.7.4 first check, with Linux's inclusive right edge: does a segment of `segLen`
   * (data + SYN + FIN) at `segSeq` touch the window? With a zero window only RCV.NXT is acceptable
   * (its ACK and RST are processed; its data is trimmed away).
   */
  isAcceptable(segSeq: number, segLen: number): boolean {
    const wnd = this.window;
    if (segLen === 0) return segSeq >= this.rcvNxt && segSeq <= this.rcvNxt + wnd;
    if (wnd === 0) return segSeq === this.rcvNxt;
    return segSeq + segLen > this.rcvNxt && segSeq <= this.rcvNxt + wnd;
  }

  /**
   * Takes `data` (already trimmed to the window) at offset `start`. In-order data goes to the
   * application buffer with any held data it now joins; out-of-order data is held. Sets the ACK
   * debt per RFC 5681 §4.2. Returns true when new bytes became readable.
   */
  accept(now: Instant, start: number, data: Uint8Array, mss: number, delayedAckMs: number): AcceptResult {
    if (start !== this.rcvNxt) {
      // RFC 5681 §4.2 / RFC 2018 §4: an out-of-order segment is acknowledged at once, with SACK.
      const kept = this.#reasm.insert(start, data);
      this.ackPending = true;
      return kept ? HELD : DROPPED;
    }
    this.#deliver(data);
    let filledGap = false;
    if (!this.#reasm.isEmpty) {
      const filled = this.#reasm.takeContiguous(this.rcvNxt);
      for (const piece of filled) this.#deliver(piece);
      filledGap = filled.length > 0;
    }
    // RFC 5681 §4.2: ACK at once when a segment fills (part of) a gap or holes remain, else at
    // least every second full-sized segment, else within the delayed-ACK time. The flag is only
    // a debt: the ACK is built when the driver next drains pollTransmit, after the whole batch of
    // datagrams that arrived together (see docs/rudp.md, "ACK coalescing").
    this.#unackedBytes += data.length;
    if (filledGap || !this.#reasm.isEmpty || this.#unackedBytes >= 2 * mss || delayedAckMs <= 0) {
      this.ackPending = true;
    } else if (this.delayedAckAt === undefined) {
      this.delayedAckAt = now + delayedAckMs;
    }
    return DELIVERED;
  }

  #deliver(data: Uint8Array): void {
    this.queue.push(data);
    this.rcvNxt += data.length;
    this.bytesReceived += data.length;
  }

  /** If the peer's FIN is next in sequence, consumes it (RCV.NXT + 1, ACK now) and returns true. */
  takeFin(): boolean {
    if (this.finReceived || this.peerFinOffset === undefined || this.rcvNxt !== this.peerFinOffset) return false;
    this.finReceived = true;
    this.rcvNxt += 1;
    this.ackPending = true;
    this.delayedAckAt = undefined;
    return true;
  }

  /** The window of our SYN or SYN+ACK: never scaled (RFC 7323 §2.2). */
  synWindow(): number {
    return Math.min(this.#bufferBytes, MAX_WINDOW_FIELD);
  }

  /**
   * The window field of an ACK. RFC 9293 §3.8.6.2.2 receiver SWS avoidance: the right edge moves
   * only by min(buffer/2, MSS) or more; it never moves left.
   */
  windowField(mss: number): number {
    const free = Math.max(0, this.#bufferBytes - this.queue.length);
    const candidate = this.rcvNxt + free;
    const threshold = Math.min(this.#bufferBytes / 2, mss);
    if (candidate - this.advRightEdge >= threshold || this.advRightEdge < this.rcvNxt) this.advRightEdge = Math.max(candidate, this.rcvNxt);
    // The shift is at most 14 (RFC 7323 §2.3): an integer shift, not a pow() call per segment.
    return Math.min(Math.floor(this.window / (1 << this.rcvScale)), MAX_WINDOW_FIELD);
  }

  /** An ACK went out (piggybacked or pure): the ACK debt is paid. */
  noteAckSent(): void {
    this.ackPending = false;
    this.delayedAckAt = undefined;
    this.#unackedBytes = 0;
    this.lastAckSent = this.rcvNxt;
  }

  /** After the application read: owe a window update when the window opened enough to matter. */
  noteRead(mss: number): void {
    const current = this.window;
    const possible = this.#bufferBytes - this.queue.length;
    const threshold = Math.min(this.#bufferBytes / 2, mss);
    if (possible - current >= threshold && (current < mss || possible >= 2 * current)) this.ackPending = true;
  }

  /** Up to `max` SACK blocks as wire sequence numbers (RFC 2018 §4). */
  sackBlocks(max: number): SackBlock[] {
    return this.#reasm.sackBlocks(max).map((r) => ({ left: toWire(this.irs, r.start), right: toWire(this.irs, r.end) }));
  }

  /** Drops everything buffered (the connection died). */
  clear(): void {
    this.#reasm.clear();
    this.ackPending = false;
    this.delayedAckAt = undefined;
  }
}
