/**
 * Time in the pure cores is a plain number of milliseconds on a monotonic clock chosen by the
 * driver (the I/O layer reads the monotonic performance clock; the simulator runs a virtual clock
 * starting at 0).
 * Pure code receives `now` as a parameter and never reads a clock itself.
 */

/** A point on a monotonic clock, in milliseconds (may be fractional). */
export type Instant = number;

/** A span of time in milliseconds. */
export type Millis = number;
