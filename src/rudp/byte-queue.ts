/**
 * A FIFO of bytes for the send buffer and the in-order receive buffer: append copies in, random
 * access by offset from the head, consume from the head. Amortised O(bytes): small appends share a
 * chunk, reads inside one chunk are views (no copy), and sequential lookups resume from a cursor.
 */

/** Smallest chunk the queue allocates for appends (small writes are packed into it). */
export const MIN_CHUNK_BYTES = 16 * 1024;

/** A queue of bytes. Offsets are relative to the current head. */
export class ByteQueue {
  // Chunks from #head on hold the queue; #fill[i] bytes of chunk i are used (the tail may have room)
  // and the first #headSkip bytes of the head chunk were already consumed.
  #chunks: Uint8Array[] = [];
  #fill: number[] = [];
  #head = 0;
  #headSkip = 0;
  #length = 0;
  #cursorIndex = 0;
  #cursorOffset = 0;

  /** Bytes in the queue. */
  get length(): number {
    return this.#length;
  }

  /** Appends a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    let from = 0;
    const n = bytes.length;
    if (n === 0) return;
    const last = this.#chunks.length - 1;
    if (last >= this.#head) {
      const chunk = this.#chunks[last]!;
      const room = chunk.length - this.#fill[last]!;
      if (room > 0) {
        const take = Math.min(room, n);
        chunk.set(take === n ? bytes : bytes.subarray(0, take), this.#fill[last]!);
        this.#fill[last]! += take;
        from = take;
      }
    }
    if (from < n) {
      const rest = n - from;
      const chunk = new Uint8Array(Math.max(rest, MIN_CHUNK_BYTES));
      chunk.set(from === 0 ? bytes : bytes.subarray(from), 0);
      this.#chunks.push(chunk);
      this.#fill.push(rest);
    }
    this.#length += n;
  }

  /** `length` bytes starting `offset` bytes after the head: a view when they lie in one chunk, else a copy. */
  slice(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.#length) {
      throw new RangeError(`slice ${offset}+${length} outside a queue of ${this.#length} bytes`);
    }
    if (length === 0) return new Uint8Array(0);
    // Find the chunk holding `offset` (the cursor makes sequential access O(1)).
    let index = this.#head;
    let chunkOffset = 0;
    if (this.#cursorIndex >= this.#head && this.#cursorOffset <= offset) {
      index = this.#cursorIndex;
      chunkOffset = this.#cursorOffset;
    }
    for (;;) {
      const size = this.#chunkSize(index);
      if (offset < chunkOffset + size) break;
      chunkOffset += size;
      index++;
    }
    this.#cursorIndex = index;
    this.#cursorOffset = chunkOffset;
    const skip = index === this.#head ? this.#headSkip : 0;
    const inChunk = offset - chunkOffset;
    const size = this.#chunkSize(index);
    if (inChunk + length <= size) return this.#chunks[index]!.subarray(skip + inChunk, skip + inChunk + length);
    const out = new Uint8Array(length);
    let written = 0;
    let at = inChunk;
    while (written < length) {
      const s = index === this.#head ? this.#headSkip : 0;
      const avail = this.#chunkSize(index) - at;
      const take = Math.min(avail, length - written);
      out.set(this.#chunks[index]!.subarray(s + at, s + at + take), written);
      written += take;
      index++;
      at = 0;
    }
    return out;
  }

  /** Drops `n` bytes from the head. */
  consume(n: number): void {
    if (n > this.#length) throw new RangeError(`consume ${n} from a queue of ${this.#length} bytes`);
    this.#length -= n;
    this.#cursorIndex = this.#head;
    this.#cursorOffset = 0;
    while (n > 0) {
      const size = this.#chunkSize(this.#head);
      if (n < size) {
        this.#headSkip += n;
        n = 0;
      } else {
        n -= size;
        this.#chunks[this.#head] = EMPTY;
        this.#head++;
        this.#headSkip = 0;
      }
    }
    if (this.#length === 0) {
      this.#chunks = [];
      this.#fill = [];
      this.#head = 0;
      this.#headSkip = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#fill = this.#fill.slice(this.#head);
      this.#head = 0;
    }
    this.#cursorIndex = this.#head;
    this.#cursorOffset = 0;
  }

  /**
   * Takes up to `max` bytes from the head, or undefined when empty. It never copies: it returns at
   * most what the head chunk holds (a view), so a caller that wants everything calls again.
   */
  take(max: number): Uint8Array | undefined {
    if (this.#length === 0 || max <= 0) return undefined;
    const n = Math.min(max, this.#chunkSize(this.#head));
    const out = this.slice(0, n);
    this.consume(n);
    return out;
  }

  #chunkSize(index: number): number {
    return this.#fill[index]! - (index === this.#head ? this.#headSkip : 0);
  }
}

const EMPTY = new Uint8Array(0);
