/**
 * The congestion-control interface (after quinn's `Controller`): one file per algorithm behind it,
 * each with a config object that builds it. All sizes are bytes, all times milliseconds.
 *
 * Read first: RFC 5681 (slow start, congestion avoidance, fast retransmit/recovery),
 * RFC 6582 (NewReno), RFC 9438 (CUBIC), RFC 6298 §5 (what an RTO does to the window).
 */
import type { Instant, Millis } from '../../core/time.js';

/** A congestion controller for one connection. */
export interface CongestionController {
  /** Name for traces and benchmarks (`newreno`, `cubic`). */
  readonly name: string;
  /** Bytes the sender may have in flight now. */
  window(): number;
  /** Slow-start threshold in bytes (Infinity until the first congestion event). */
  ssthresh(): number;
  /** `bytes` of new data were sent at `now`; `bytesInFlight` is the total after sending. */
  onSent(now: Instant, bytes: number, bytesInFlight: number): void;
  /**
   * `bytes` were newly acknowledged (cumulatively or by SACK) at `now`. `rttMs` is the latest RTT
   * sample if this ACK gave one. `inRecovery` is true while a loss-recovery episode is in progress.
   */
  onAck(now: Instant, bytes: number, bytesInFlight: number, rttMs: Millis | undefined, inRecovery: boolean): void;
  /** A loss was detected by duplicate ACKs or SACK (entering fast recovery) at `now`. */
  onCongestionEvent(now: Instant, bytesInFlight: number): void;
  /** The retransmission timer expired (RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize/2, 2·SMSS), cwnd = 1 SMSS). */
  onRto(now: Instant, bytesInFlight: number): void;
  /** Fast recovery ended (the recovery point was acknowledged). */
  onRecoveryEnd(now: Instant): void;
}

/** Builds a controller for a connection whose sender MSS is `mss`. */
export interface CongestionControllerConfig {
  readonly name: string;
  build(mss: number): CongestionController;
}
