/**
 * A byte buffer that grows by doubling up to a fixed cap, for data whose size is not known in
 * advance (a line arriving in pieces). Appending is amortised O(1) per byte; {@link take} hands the
 * bytes over without copying and starts afresh, so a returned buffer is never overwritten.
 */

import { InvalidStateError } from '../errors.js';

/** Smallest storage allocated, so a few short appends do not reallocate each time. */
const MIN_CAPACITY_BYTES = 256;

/** A doubling byte buffer capped at `maxBytes`. Pure: no I/O, usable in any layer. */
export class GrowableBuffer {
  readonly #maxBytes: number;
  #bytes: Buffer | undefined;
  #length = 0;

  /** `maxBytes` bounds the storage: appending past it is the caller's bug and throws InvalidStateError. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** The last byte held, or -1 when empty. */
  lastByte(): number {
    return this.#length === 0 ? -1 : this.#bytes![this.#length - 1]!;
  }

  /** Appends `source[start..end)`. */
  append(source: Uint8Array, start: number, end: number): void {
    const needed = this.#length + (end - start);
    if (needed > this.#maxBytes) throw new InvalidStateError(`GrowableBuffer: ${needed} bytes exceed its cap of ${this.#maxBytes}`);
    let bytes = this.#bytes;
    if (bytes === undefined || bytes.length < needed) {
      const capacity = Math.min(this.#maxBytes, Math.max(needed, MIN_CAPACITY_BYTES, bytes === undefined ? 0 : bytes.length * 2));
      const grown = Buffer.allocUnsafe(capacity);
      if (bytes !== undefined) bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = bytes = grown;
    }
    bytes.set(source.subarray(start, end), this.#length);
    this.#length = needed;
  }

  /** Returns the bytes held (a view of the storage, not a copy) and empties the buffer for reuse. */
  take(): Buffer {
    const out = this.#bytes === undefined ? Buffer.alloc(0) : this.#bytes.subarray(0, this.#length);
    this.#bytes = undefined;
    this.#length = 0;
    return out;
  }
}
