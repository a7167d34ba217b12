/**
 * Per-client flood control: a token bucket (the shaper of RFC 2697 §2, one rate, one burst).
 *
 * Read first: RFC 2697 §2 (token bucket metering), RFC 2813 §5.8 (IRC servers' flood control:
 * let a burst through, then hold a client to a steady rate).
 *
 * Pure: the caller passes `now` (milliseconds on a monotonic clock).
 */
import type { Instant } from '../../core/time.js';

/** A token bucket of `burst` tokens refilled at `ratePerS` tokens per second. Rate 0 = unlimited. */
export class TokenBucket {
  readonly ratePerS: number;
  readonly burst: number;
  #tokens: number;
  #updatedAt: Instant;

  constructor(ratePerS: number, burst: number, now: Instant) {
    this.ratePerS = ratePerS;
    this.burst = Math.max(1, burst);
    this.#tokens = this.burst;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one; false means "over the rate: refuse this line". */
  take(now: Instant): boolean {
    if (this.ratePerS <= 0) return true;
    if (now > this.#updatedAt) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updatedAt) * this.ratePerS) / 1000);
      this.#updatedAt = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
