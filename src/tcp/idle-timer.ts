/**
 * An idle timeout that costs nothing per byte: activity only records a timestamp; the single timer
 * re-arms itself for the remaining time when it fires early. (Resetting a Node timer on every
 * chunk or message would dominate a fast connection's cost.) The clock is the monotonic one: a
 * wall-clock step must neither fire the timeout early nor postpone it by the size of the step.
 */
import { performance } from 'node:perf_hooks';

/** Calls `onIdle` once no {@link IdleTimer.touch} happened for `timeoutMs`. */
export class IdleTimer {
  readonly #timeoutMs: number;
  readonly #onIdle: () => void;
  #lastActivityMs: number;
  #timer: NodeJS.Timeout | undefined;

  /** Starts the timer now. */
  constructor(timeoutMs: number, onIdle: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
    this.#lastActivityMs = performance.now();
    this.#arm(timeoutMs);
  }

  /** Records activity: the idle period starts again. */
  touch(): void {
    this.#lastActivityMs = performance.now();
  }

  /** Cancels the timer for good. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(this.#fire, delayMs);
    // The socket keeps the process alive while it is open; the timer alone must not.
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const idleMs = performance.now() - this.#lastActivityMs;
    if (idleMs >= this.#timeoutMs) this.#onIdle();
    else this.#arm(this.#timeoutMs - idleMs);
  };
}
