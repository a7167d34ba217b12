/**
 * Wrap-aware sequence-number arithmetic: the only place 32-bit sequence numbers are compared.
 *
 * Read first: RFC 9293 §3.4 (sequence numbers live in a 2^32 space and are compared modulo 2^32),
 * RFC 1982 (serial number arithmetic).
 *
 * The engine keeps every position as an unwrapped offset from its initial sequence number (a plain
 * non-negative integer, exact up to 2^53), so its arithmetic never wraps; these helpers convert
 * between the 32-bit wire value and that offset, with the reference that makes the conversion exact
 * as long as the two differ by less than 2^31 (RFC 9293 §3.4: windows are far smaller).
 */

/** 2^32: the size of the sequence space (RFC 9293 §3.4). */
export const SEQ_SPACE = 0x1_0000_0000;

/** `a - b` as a signed 32-bit difference: positive when `a` is after `b` (modulo 2^32). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a < b` in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** `a <= b` in sequence space. */
export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

/** `a > b` in sequence space. */
export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** `a >= b` in sequence space. */
export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}

/** `seq + n` wrapped into the 32-bit space. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}

/** The 32-bit wire value of the unwrapped `offset` from initial sequence number `isn`. */
export function toWire(isn: number, offset: number): number {
  return (isn + (offset % SEQ_SPACE)) >>> 0;
}

/**
 * The unwrapped offset (from `isn`) of the 32-bit `wire` value, taking the one nearest to
 * `referenceOffset` (any offset known to be close, such as SND.UNA or RCV.NXT). May be negative
 * when `wire` lies before `isn`.
 */
export function fromWire(isn: number, wire: number, referenceOffset: number): number {
  return referenceOffset + seqDiff(wire, toWire(isn, referenceOffset));
}
