/**
 * NewReno congestion control: slow start and congestion avoidance with appropriate byte counting,
 * multiplicative decrease on loss, a loss window of one segment after an RTO.
 *
 * Read first: RFC 5681 §3.1 (slow start, congestion avoidance, eq. 4 for ssthresh) and §3.2 (fast
 * retransmit/recovery), RFC 6582 §3 (NewReno: one reduction per window, recovery ends when the
 * recovery point is acknowledged), RFC 3465 §2 (appropriate byte counting, limit L: see
 * DEFAULT_ABC_LIMIT_SEGMENTS for why sockit does not cap it by default), RFC 6675 §5
 * (SACK loss recovery driven by `pipe`), RFC 6928 §2 and RFC 5681 §3.1 (initial window),
 * RFC 7661 §4.3 (only a validated, i.e. at least half-used, window may grow).
 *
 * Fast recovery here is the RFC 6675 pipe-based variant, not RFC 5681's window inflation: the
 * engine tracks `bytesInFlight` (pipe) exactly from SACK and cumulative ACK information, so on
 * entering recovery cwnd simply becomes ssthresh and the engine sends while pipe < cwnd. Inflating
 * cwnd by one SMSS per duplicate ACK is a proxy for "a segment left the network" that a sender
 * without a pipe estimate needs; with pipe it only adds a burst at recovery exit (the deflation
 * step of RFC 6582 §3.2 step 3 exists to undo it).
 */
import type { Instant, Millis } from '../../core/time.js';
import type { CongestionController, CongestionControllerConfig } from './congestion-controller.js';

/** RFC 3465 §2.2: during slow start cwnd grows by at most L·SMSS per ACK; L = 2 is the limit it recommends. */
export const RFC3465_ABC_LIMIT_SEGMENTS = 2;
/**
 * sockit's default L: no limit, every newly acknowledged byte counts in slow start, as in Linux
 * (tcp_slow_start counts every packet an ACK covers, stretch ACKs included) and quinn. sockit's
 * receivers acknowledge once per event-loop batch (up to ~32 segments, as GRO does in kernels); with
 * L = 2 such a stretch ACK would add 2 segments for 32 acknowledged and slow start would crawl
 * (measured: cwnd 12 KB → 670 KB in 0.8 s on loopback instead of doubling per RTT).
 */
export const DEFAULT_ABC_LIMIT_SEGMENTS = Infinity;
/** RFC 5681 §3.1 eq. 4: ssthresh is never set below two segments. */
export const MIN_SSTHRESH_SEGMENTS = 2;
/** RFC 5681 §3.1: the loss window after a retransmission timeout is one segment. */
export const LOSS_WINDOW_SEGMENTS = 1;
/** Cap on cwnd so arithmetic stays exact; the peer's receive window limits the sender long before. */
export const DEFAULT_MAX_WINDOW_BYTES = 1 << 30;

/** Which rule picks the initial window. */
export type InitialWindowRule = 'rfc6928' | 'rfc5681';

/**
 * The initial window in bytes for a sender MSS of `mss`.
 * - `rfc6928` (RFC 6928 §2): min(10·MSS, max(2·MSS, 14600)) — ten 1460-byte segments; today's default
 *   in every major TCP stack, and it saves RTTs on the short transfers sockit's services do.
 * - `rfc5681` (RFC 5681 §3.1): 4, 3 or 2 segments for MSS ≤ 1095, ≤ 2190, above.
 */
export function initialWindowBytes(mss: number, rule: InitialWindowRule = 'rfc6928'): number {
  if (rule === 'rfc6928') return Math.min(10 * mss, Math.max(2 * mss, 14600));
  if (mss > 2190) return 2 * mss;
  if (mss > 1095) return 3 * mss;
  return 4 * mss;
}

/** Tunables of {@link NewReno}. */
export interface NewRenoOptions {
  /** Initial window rule (default `rfc6928`) or an explicit number of segments. */
  initialWindow?: InitialWindowRule | number;
  /** RFC 3465 L: most segments one ACK may add to cwnd in slow start (default: no limit, see {@link DEFAULT_ABC_LIMIT_SEGMENTS}). */
  abcLimitSegments?: number;
  /** Upper bound on cwnd in bytes (default 1 GiB). */
  maxWindowBytes?: number;
}

/** The window settings every controller derives from its options: initial cwnd, ABC limit, cap. */
export function windowLimits(mss: number, options: NewRenoOptions): { cwndBytes: number; abcLimitBytes: number; maxWindowBytes: number } {
  const iw = options.initialWindow ?? 'rfc6928';
  return {
    cwndBytes: typeof iw === 'number' ? iw * mss : initialWindowBytes(mss, iw),
    abcLimitBytes: (options.abcLimitSegments ?? DEFAULT_ABC_LIMIT_SEGMENTS) * mss,
    maxWindowBytes: options.maxWindowBytes ?? DEFAULT_MAX_WINDOW_BYTES,
  };
}

/** NewReno (RFC 5681 + RFC 6582 with RFC 6675 pipe-based recovery). Build it through {@link newRenoConfig}. */
export class NewReno implements CongestionController {
  readonly name = 'newreno';
  readonly #mss: number;
  readonly #abcLimitBytes: number;
  readonly #maxWindowBytes: number;
  #cwndBytes: number;
  #ssthreshBytes = Infinity;
  // RFC 3465 §2.1: bytes acknowledged since cwnd last grew by one SMSS in congestion avoidance.
  #bytesAckedInAvoidance = 0;
  // RFC 5681 §3.1: a timeout of a segment already retransmitted by timeout keeps ssthresh; we know
  // of no ACK in between two onRto calls, so the second is such a repeat.
  #rtoWithoutAck = false;

  constructor(mss: number, options: NewRenoOptions = {}) {
    this.#mss = mss;
    ({ cwndBytes: this.#cwndBytes, abcLimitBytes: this.#abcLimitBytes, maxWindowBytes: this.#maxWindowBytes } = windowLimits(mss, options));
  }

  window(): number {
    return this.#cwndBytes;
  }

  ssthresh(): number {
    return this.#ssthreshBytes;
  }

  onSent(_now: Instant, _bytes: number, _bytesInFlight: number): void {
    // NewReno's state changes only on ACKs and loss signals.
  }

  onAck(_now: Instant, bytes: number, bytesInFlight: number, _rttMs: Millis | undefined, inRecovery: boolean): void {
    this.#rtoWithoutAck = false;
    // RFC 6675 §5: during recovery cwnd stays at ssthresh; pipe does the clocking.
    if (inRecovery || bytes <= 0) return;
    if (!isWindowValidated(this.#cwndBytes, bytes + bytesInFlight)) return;
    if (this.#cwndBytes < this.#ssthreshBytes) {
      // RFC 3465 §2.2: slow start adds min(bytes acked, L·SMSS) per ACK, doubling cwnd per RTT.
      // Slow start stops at ssthresh (RFC 5681 §3.1); congestion avoidance takes over from there.
      this.#cwndBytes = Math.min(this.#cwndBytes + Math.min(bytes, this.#abcLimitBytes), this.#ssthreshBytes);
    } else {
      // RFC 3465 §2.1 / RFC 5681 eq. 3: one SMSS per cwnd's worth of acknowledged bytes.
      this.#bytesAckedInAvoidance += bytes;
      if (this.#bytesAckedInAvoidance >= this.#cwndBytes) {
        this.#bytesAckedInAvoidance -= this.#cwndBytes;
        this.#cwndBytes += this.#mss;
      }
    }
    if (this.#cwndBytes > this.#maxWindowBytes) this.#cwndBytes = this.#maxWindowBytes;
  }

  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    // RFC 5681 eq. 4 with RFC 6675 §5 step 4.2: cwnd = ssthresh, no inflation.
    this.#ssthreshBytes = Math.max(bytesInFlight / 2, MIN_SSTHRESH_SEGMENTS * this.#mss);
    this.#cwndBytes = this.#ssthreshBytes;
    this.#bytesAckedInAvoidance = 0;
  }

  onRto(_now: Instant, bytesInFlight: number): void {
    if (!this.#rtoWithoutAck) this.#ssthreshBytes = Math.max(bytesInFlight / 2, MIN_SSTHRESH_SEGMENTS * this.#mss);
    this.#rtoWithoutAck = true;
    this.#cwndBytes = LOSS_WINDOW_SEGMENTS * this.#mss;
    this.#bytesAckedInAvoidance = 0;
  }

  onRecoveryEnd(_now: Instant): void {
    // RFC 6582 §3.2 step 3 deflates an inflated window to ssthresh; ours never left ssthresh except
    // through later growth, so only make sure it is not above it.
    this.#cwndBytes = Math.min(this.#cwndBytes, Math.max(this.#ssthreshBytes, MIN_SSTHRESH_SEGMENTS * this.#mss));
  }
}

/**
 * RFC 7661 §4.3: a window is validated (may grow) when at least half of it was in use. Here "in use"
 * is the flight before this ACK removed `bytes`. Without this an application-limited sender (chat,
 * request/reply) would grow cwnd without bound and later burst it into the network.
 */
export function isWindowValidated(cwndBytes: number, flightBeforeAckBytes: number): boolean {
  return 2 * flightBeforeAckBytes >= cwndBytes;
}

/** Builds a NewReno config with the given tunables. */
export function newRenoConfig(options: NewRenoOptions = {}): CongestionControllerConfig {
  return { name: 'newreno', build: (mss: number) => new NewReno(mss, options) };
}

/** NewReno with the defaults: IW per RFC 6928, byte counting without a per-ACK limit. */
export const newReno: CongestionControllerConfig = newRenoConfig();
