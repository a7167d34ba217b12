/**
 * The retransmission timeout of RFC 6298: smoothed RTT, RTT variance, RTO with bounds and backoff.
 *
 * Read first: RFC 6298 §2 (the computation), §5 (backoff), RFC 7323 §4 (samples from timestamps,
 * valid even for retransmitted segments), Karn and Partridge 1987 (no samples from retransmissions
 * without timestamps: the caller enforces that).
 */
import type { Millis } from '../core/time.js';

/** RFC 6298 §2.3: alpha = 1/8. */
export const RTT_ALPHA = 1 / 8;
/** RFC 6298 §2.3: beta = 1/4. */
export const RTT_BETA = 1 / 4;
/** RFC 6298 §2.2: K = 4. */
export const RTT_K = 4;
/** RFC 6298 §2.2: G, the clock granularity; sockit's clocks tick in milliseconds. */
export const CLOCK_GRANULARITY_MS = 1;

/** RTT estimator and RTO for one connection. */
export class RttEstimator {
  #srttMs: Millis | undefined;
  #rttvarMs: Millis | undefined;
  #baseRtoMs: Millis;
  #backoff = 0;
  readonly #minRtoMs: Millis;
  readonly #maxRtoMs: Millis;

  constructor(initialRtoMs: Millis, minRtoMs: Millis, maxRtoMs: Millis) {
    this.#baseRtoMs = initialRtoMs;
    this.#minRtoMs = minRtoMs;
    this.#maxRtoMs = maxRtoMs;
  }

  /** Smoothed RTT, undefined before the first sample. */
  get srttMs(): Millis | undefined {
    return this.#srttMs;
  }

  get rttvarMs(): Millis | undefined {
    return this.#rttvarMs;
  }

  /** The current RTO including backoff (RFC 6298 §5.5), bounded by the maximum. */
  get rtoMs(): Millis {
    // Read per ACK; without backoff skip the pow() call.
    return Math.min(this.#backoff === 0 ? this.#baseRtoMs : this.#baseRtoMs * 2 ** this.#backoff, this.#maxRtoMs);
  }

  /** How many times the RTO was doubled since the last reset. */
  get backoffCount(): number {
    return this.#backoff;
  }

  /** Feeds one RTT measurement (RFC 6298 §2.2–2.3). */
  sample(rttMs: Millis): void {
    const r = Math.max(rttMs, 0);
    if (this.#srttMs === undefined || this.#rttvarMs === undefined) {
      this.#srttMs = r;
      this.#rttvarMs = r / 2;
    } else {
      this.#rttvarMs = (1 - RTT_BETA) * this.#rttvarMs + RTT_BETA * Math.abs(this.#srttMs - r);
      this.#srttMs = (1 - RTT_ALPHA) * this.#srttMs + RTT_ALPHA * r;
    }
    // RFC 6298 §2.4: RTO = SRTT + max(G, K·RTTVAR), then rounded up to the minimum (§2.4) and capped (§2.5).
    const rto = this.#srttMs + Math.max(CLOCK_GRANULARITY_MS, RTT_K * this.#rttvarMs);
    this.#baseRtoMs = Math.min(Math.max(rto, this.#minRtoMs), this.#maxRtoMs);
  }

  /** RFC 6298 §5.5: the timer expired, double the RTO. */
  backOff(): void {
    if (this.#baseRtoMs * 2 ** this.#backoff < this.#maxRtoMs) this.#backoff++;
  }

  /** New data was acknowledged: the backoff ends (RFC 6298 §5.7 with the next sample). */
  resetBackoff(): void {
    this.#backoff = 0;
  }
}
