/**
 * CUBIC congestion control: after a loss the window follows a cubic function of the time since the
 * reduction, plateauing around the window where the loss happened (W_max), with a Reno-friendly
 * floor so it is never slower than Reno would be.
 *
 * Read first: RFC 9438 §4.1 (definitions), §4.2 (W_cubic and K, eq. 1–2), §4.3 (Reno-friendly
 * region, W_est, alpha_cubic, eq. 4), §4.4–4.5 (concave and convex regions: target = W_cubic(t+RTT)
 * clamped to [cwnd, 1.5·cwnd]), §4.6 (multiplicative decrease, beta_cubic = 0.7), §4.7 (fast
 * convergence), §4.8 (timeout), §4.10 (slow start as RFC 5681 / RFC 3465). Also RFC 6675 §5 (recovery
 * is clocked by `pipe`, so cwnd stays at ssthresh during it) and RFC 7661 §4.3 (only a validated
 * window grows).
 *
 * The RFC states W_cubic, W_max and W_est in segments and t and K in seconds; this file keeps those
 * units inside the formula and converts at the edges (cwnd is bytes in the controller interface).
 */
import type { Instant, Millis } from '../../core/time.js';
import type { CongestionController, CongestionControllerConfig } from './congestion-controller.js';
import {
  LOSS_WINDOW_SEGMENTS,
  MIN_SSTHRESH_SEGMENTS,
  isWindowValidated,
  windowLimits,
  type InitialWindowRule,
} from './new-reno.js';

/** RFC 9438 §4.6: multiplicative decrease factor. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §5: the constant C of W_cubic, in segments per second³. */
export const CUBIC_C = 0.4;

/** Tunables of {@link Cubic}. */
export interface CubicOptions {
  /** beta_cubic (RFC 9438 §4.6), default 0.7. */
  beta?: number;
  /** C (RFC 9438 §4.2), default 0.4. */
  c?: number;
  /** Fast convergence (RFC 9438 §4.7), default on. */
  fastConvergence?: boolean;
  /** Initial window rule (default `rfc6928`) or an explicit number of segments. */
  initialWindow?: InitialWindowRule | number;
  /** RFC 3465 L for slow start (default: no limit, as NewReno). */
  abcLimitSegments?: number;
  /** Upper bound on cwnd in bytes (default 1 GiB). */
  maxWindowBytes?: number;
}

/**
 * W_cubic(t) = C·(t − K)³ + W_max (RFC 9438 §4.2 eq. 1), t and K in seconds, windows in segments.
 */
export function cubicWindowSegments(tSeconds: number, kSeconds: number, wMaxSegments: number, c: number = CUBIC_C): number {
  const d = tSeconds - kSeconds;
  return c * d * d * d + wMaxSegments;
}

/**
 * K = ∛((W_max − cwnd_epoch) / C) (RFC 9438 §4.2 eq. 2): the time the cubic takes to climb back to
 * W_max from the window at the start of the epoch. Zero when the epoch starts at or above W_max.
 */
export function cubicK(wMaxSegments: number, cwndEpochSegments: number, c: number = CUBIC_C): number {
  return wMaxSegments > cwndEpochSegments ? Math.cbrt((wMaxSegments - cwndEpochSegments) / c) : 0;
}

/** CUBIC (RFC 9438). Build it through {@link cubicConfig}. */
export class Cubic implements CongestionController {
  readonly name = 'cubic';
  readonly #mss: number;
  readonly #beta: number;
  readonly #c: number;
  readonly #fastConvergence: boolean;
  readonly #abcLimitBytes: number;
  readonly #maxWindowBytes: number;
  #cwndBytes: number;
  #ssthreshBytes = Infinity;
  /** W_max in segments: the window just before the last reduction (§4.1). */
  #wMaxSegments = 0;
  /** cwnd_prior in segments: the window when ssthresh was last set (§4.3). */
  #cwndPriorSegments = 0;
  /** Start of the current congestion-avoidance epoch, or undefined until its first ACK (§4.2). */
  #epochStart: Instant | undefined;
  #kSeconds = 0;
  /** W_est in segments: the Reno-friendly estimate (§4.3). */
  #wEstSegments = 0;
  /** Smoothed RTT in ms (RFC 6298 §2 gains) for W_cubic(t + RTT). */
  #srttMs: number | undefined;
  // §4.8: the first congestion-avoidance epoch after an RTO uses K = 0 and W_max = cwnd_epoch.
  #afterRto = false;
  // RFC 5681 §3.1: repeated timeouts of the same data keep ssthresh (see NewReno).
  #rtoWithoutAck = false;

  constructor(mss: number, options: CubicOptions = {}) {
    this.#mss = mss;
    this.#beta = options.beta ?? CUBIC_BETA;
    this.#c = options.c ?? CUBIC_C;
    this.#fastConvergence = options.fastConvergence ?? true;
    ({ cwndBytes: this.#cwndBytes, abcLimitBytes: this.#abcLimitBytes, maxWindowBytes: this.#maxWindowBytes } = windowLimits(mss, options));
  }

  window(): number {
    return this.#cwndBytes;
  }

  ssthresh(): number {
    return this.#ssthreshBytes;
  }

  /** W_max in segments (for traces and tests). */
  get wMaxSegments(): number {
    return this.#wMaxSegments;
  }

  /** K in seconds of the current epoch (for traces and tests). */
  get kSeconds(): number {
    return this.#kSeconds;
  }

  onSent(_now: Instant, _bytes: number, _bytesInFlight: number): void {
    // CUBIC's state changes only on ACKs and loss signals.
  }

  onAck(now: Instant, bytes: number, bytesInFlight: number, rttMs: Millis | undefined, inRecovery: boolean): void {
    this.#rtoWithoutAck = false;
    if (rttMs !== undefined) this.#srttMs = this.#srttMs === undefined ? rttMs : this.#srttMs + (rttMs - this.#srttMs) / 8;
    if (inRecovery || bytes <= 0) return;
    if (!isWindowValidated(this.#cwndBytes, bytes + bytesInFlight)) {
      // An application-limited stretch must not count as time spent growing (the epoch restarts).
      this.#epochStart = undefined;
      return;
    }
    if (this.#cwndBytes < this.#ssthreshBytes) {
      // §4.10: slow start as in RFC 5681, with RFC 3465 byte counting.
      this.#cwndBytes = Math.min(this.#cwndBytes + Math.min(bytes, this.#abcLimitBytes), this.#ssthreshBytes);
      return;
    }
    this.#avoidCongestion(now, bytes);
    if (this.#cwndBytes > this.#maxWindowBytes) this.#cwndBytes = this.#maxWindowBytes;
  }

  #avoidCongestion(now: Instant, bytes: number): void {
    const mss = this.#mss;
    const cwndSegments = this.#cwndBytes / mss;
    if (this.#epochStart === undefined) this.#startEpoch(now, cwndSegments);
    const epochStart = this.#epochStart ?? now;
    const tSeconds = (now - epochStart) / 1000;
    const rttSeconds = (this.#srttMs ?? 0) / 1000;
    const ackedSegments = bytes / mss;

    // §4.3 eq. 4: the Reno-friendly estimate; alpha becomes 1 once W_est reaches cwnd_prior.
    const alpha = this.#wEstSegments >= this.#cwndPriorSegments ? 1 : (3 * (1 - this.#beta)) / (1 + this.#beta);
    this.#wEstSegments += (alpha * ackedSegments) / cwndSegments;

    const wCubicNow = cubicWindowSegments(tSeconds, this.#kSeconds, this.#wMaxSegments, this.#c);
    if (wCubicNow < this.#wEstSegments) {
      // §4.3: Reno-friendly region — cwnd = W_est.
      this.#cwndBytes = Math.max(this.#cwndBytes, this.#wEstSegments * mss);
      return;
    }
    // §4.4–4.5: aim for W_cubic one RTT ahead, at least cwnd and at most 1.5·cwnd, and close
    // (target − cwnd)/cwnd of the gap per acknowledged segment.
    let target = cubicWindowSegments(tSeconds + rttSeconds, this.#kSeconds, this.#wMaxSegments, this.#c);
    if (target < cwndSegments) target = cwndSegments;
    else if (target > 1.5 * cwndSegments) target = 1.5 * cwndSegments;
    this.#cwndBytes += ((target - cwndSegments) / cwndSegments) * ackedSegments * mss;
  }

  #startEpoch(now: Instant, cwndSegments: number): void {
    this.#epochStart = now;
    if (this.#afterRto || this.#wMaxSegments === 0) {
      // §4.8 (and the first epoch ever, which has no W_max): K = 0, W_max = cwnd_epoch.
      this.#wMaxSegments = cwndSegments;
      this.#kSeconds = 0;
      this.#afterRto = false;
    } else {
      this.#kSeconds = cubicK(this.#wMaxSegments, cwndSegments, this.#c);
    }
    // §4.3: W_est starts at cwnd_epoch.
    this.#wEstSegments = cwndSegments;
    if (this.#cwndPriorSegments === 0) this.#cwndPriorSegments = cwndSegments;
  }

  #reduce(bytesInFlight: number): void {
    const cwndSegments = this.#cwndBytes / this.#mss;
    // §4.7 fast convergence: a flow whose W_max is shrinking releases bandwidth sooner.
    this.#wMaxSegments =
      this.#fastConvergence && cwndSegments < this.#wMaxSegments ? (cwndSegments * (1 + this.#beta)) / 2 : cwndSegments;
    this.#cwndPriorSegments = cwndSegments;
    // §4.6: ssthresh = flight_size·beta_cubic (the RFC allows cwnd or flight size; flight size does
    // not reward an application-limited sender), never below two segments (RFC 5681 eq. 4).
    this.#ssthreshBytes = Math.max(Math.min(bytesInFlight, this.#cwndBytes) * this.#beta, MIN_SSTHRESH_SEGMENTS * this.#mss);
    this.#epochStart = undefined;
  }

  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    this.#reduce(bytesInFlight);
    // §4.6: cwnd = max(ssthresh, 2); RFC 6675 §5 keeps it there for the whole recovery.
    this.#cwndBytes = this.#ssthreshBytes;
  }

  onRto(_now: Instant, bytesInFlight: number): void {
    // §4.8: reduce cwnd as Reno does (one segment), set ssthresh with beta_cubic.
    if (!this.#rtoWithoutAck) this.#reduce(bytesInFlight);
    this.#rtoWithoutAck = true;
    this.#afterRto = true;
    this.#epochStart = undefined;
    this.#cwndBytes = LOSS_WINDOW_SEGMENTS * this.#mss;
  }

  onRecoveryEnd(_now: Instant): void {
    // The epoch already restarted at the reduction; the first ACK in congestion avoidance opens it.
    this.#cwndBytes = Math.min(this.#cwndBytes, Math.max(this.#ssthreshBytes, MIN_SSTHRESH_SEGMENTS * this.#mss));
  }
}

/** Builds a CUBIC config with the given tunables. */
export function cubicConfig(options: CubicOptions = {}): CongestionControllerConfig {
  return { name: 'cubic', build: (mss: number) => new Cubic(mss, options) };
}

/** CUBIC with RFC 9438's constants (beta 0.7, C 0.4, fast convergence) and IW per RFC 6928. */
export const cubic: CongestionControllerConfig = cubicConfig();
