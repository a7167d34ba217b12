/**
 * Out-of-order reassembly on the receive side, and the SACK blocks that describe it.
 *
 * Read first: RFC 9293 §3.10.7.4 ("segment text": data beyond RCV.NXT may be kept for later),
 * RFC 2018 §4 (which blocks a SACK option reports, most recent first).
 *
 * Positions are unwrapped offsets from the peer's ISN. Pieces never overlap: a segment that repeats
 * bytes already held adds only the new ones (duplicate removal).
 */

/** A held range [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

interface Piece {
  start: number;
  data: Uint8Array;
  /** Arrival counter of the latest segment that touched this piece (RFC 2018 §4 ordering). */
  touched: number;
}

/** Out-of-order data held beyond RCV.NXT. */
export class Reassembler {
  #pieces: Piece[] = [];
  #bytes = 0;
  #arrivals = 0;
  readonly #maxPieces: number;

  /** At most `maxPieces` separate pieces are held (a peer sending 1-byte scraps cannot exhaust memory). */
  constructor(maxPieces: number) {
    this.#maxPieces = maxPieces;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get isEmpty(): boolean {
    return this.#pieces.length === 0;
  }

  /** The end of the highest held byte, or undefined when empty. */
  get highestEnd(): number | undefined {
    const last = this.#pieces[this.#pieces.length - 1];
    return last === undefined ? undefined : last.start + last.data.length;
  }

  /**
   * Holds `data` at `start` (copying it), keeping what is already held where they overlap.
   * Returns false when the piece limit dropped it.
   */
  insert(start: number, data: Uint8Array): boolean {
    const end = start + data.length;
    if (data.length === 0) return true;
    const touched = ++this.#arrivals;
    const added: Piece[] = [];
    let cursor = start;
    let i = 0;
    while (i < this.#pieces.length && this.#pieces[i]!.start + this.#pieces[i]!.data.length <= start) i++;
    const firstOverlap = i;
    for (; i < this.#pieces.length && cursor < end; i++) {
      const p = this.#pieces[i]!;
      const pEnd = p.start + p.data.length;
      if (p.start >= end) break;
      if (p.start > cursor) added.push({ start: cursor, data: data.slice(cursor - start, p.start - start), touched });
      p.touched = touched;
      cursor = Math.max(cursor, pEnd);
    }
    if (cursor < end) added.push({ start: cursor, data: data.slice(cursor - start), touched });
    if (added.length === 0) return true;
    if (this.#pieces.length + added.length > this.#maxPieces) return false;
    // Each new piece fills a gap, so it goes right before the first piece that starts after it.
    let at = firstOverlap;
    for (const q of added) {
      while (at < this.#pieces.length && this.#pieces[at]!.start < q.start) at++;
      this.#pieces.splice(at, 0, q);
      at++;
    }
    for (const q of added) this.#bytes += q.data.length;
    return true;
  }

  /** Removes and returns, in order, the held bytes that continue `rcvNxt` (bytes below it are dropped). */
  takeContiguous(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let next = rcvNxt;
    while (this.#pieces.length > 0) {
      const p = this.#pieces[0]!;
      const pEnd = p.start + p.data.length;
      if (p.start > next) break;
      this.#pieces.shift();
      this.#bytes -= p.data.length;
      if (pEnd > next) {
        out.push(p.data.subarray(next - p.start));
        next = pEnd;
      }
    }
    return out;
  }

  /**
   * Up to `max` SACK blocks (RFC 2018 §4): contiguous held ranges, the one holding the most
   * recently received segment first, then the others by recency.
   */
  sackBlocks(max: number): ByteRange[] {
    const ranges: Array<ByteRange & { touched: number }> = [];
    for (const p of this.#pieces) {
      const last = ranges[ranges.length - 1];
      const end = p.start + p.data.length;
      if (last !== undefined && last.end === p.start) {
        last.end = end;
        last.touched = Math.max(last.touched, p.touched);
      } else {
        ranges.push({ start: p.start, end, touched: p.touched });
      }
    }
    ranges.sort((x, y) => y.touched - x.touched);
    return ranges.slice(0, max).map(({ start, end }) => ({ start, end }));
  }

  /** Drops everything held. */
  clear(): void {
    this.#pieces = [];
    this.#bytes = 0;
  }
}
