/**
 * Cuts a chat byte stream into lines, tolerating LF, CR LF, and lines longer than the limit.
 *
 * Read first: RFC 2812 §2.3 (lines end in CR LF; servers should accept a bare LF too).
 *
 * Unlike the `lines` framing, an overlong line is not a reason to drop the connection: a person
 * pasting a long paragraph gets an error for that line and keeps chatting. The splitter discards
 * the rest of the line up to its LF and reports how long it was. Memory is bounded by the limit:
 * a partial line is held in one buffer of `maxLineBytes + 1` bytes, released when it completes.
 */

/** What the splitter found. `bytes` of a line may share memory with the pushed chunk. */
export type SplitEvent =
  | { readonly kind: 'line'; readonly bytes: Uint8Array }
  | { readonly kind: 'too-long'; readonly lineBytes: number };

const LF = 0x0a;
const CR = 0x0d;

/** A streaming LF splitter with a maximum line length. */
export class LineSplitter {
  readonly maxLineBytes: number;
  #partial: Uint8Array | undefined;
  #partialBytes = 0;
  #discarding = false;
  #discardedBytes = 0;
  /** The last byte discarded was a CR: it ends the line (CR LF), so it is not counted as text. */
  #discardedCr = false;

  /** `maxLineBytes` counts the text only (a trailing CR is not counted). */
  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes held for an unfinished line (at most `maxLineBytes + 1`). */
  get bufferedBytes(): number {
    return this.#partialBytes;
  }

  /** Feeds one chunk as the socket delivered it; calls `emit` for every complete line, in order. */
  push(chunk: Uint8Array, emit: (event: SplitEvent) => void): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      if (this.#discarding) {
        if (end > start) {
          this.#discardedBytes += end - start;
          this.#discardedCr = chunk[end - 1] === CR;
        }
        if (lf !== -1) this.#endDiscard(emit);
      } else if (lf !== -1 && this.#partialBytes === 0) {
        // The whole line lies in this chunk: hand out a slice, no copy.
        this.#emitLine(chunk.subarray(start, end), emit);
      } else {
        this.#append(chunk.subarray(start, end));
        if (lf !== -1 && this.#discarding) this.#endDiscard(emit);
        else if (lf !== -1) {
          this.#emitLine(this.#partial!.subarray(0, this.#partialBytes), emit);
          this.#release();
        }
      }
      start = end + 1;
    }
  }

  /** Signals end of input: an unterminated final line is delivered (as `nc` users expect). */
  end(emit: (event: SplitEvent) => void): void {
    if (this.#discarding) this.#endDiscard(emit);
    else if (this.#partialBytes > 0) this.#emitLine(this.#partial!.subarray(0, this.#partialBytes), emit);
    this.#release();
  }

  /** The overlong line being discarded ended: report its length, start afresh. */
  #endDiscard(emit: (event: SplitEvent) => void): void {
    // Counted like a line that fitted: its text only, a CR before the LF (or the end) left out.
    const lineBytes = this.#discardedBytes - (this.#discardedCr ? 1 : 0);
    this.#discarding = false;
    this.#discardedBytes = 0;
    this.#discardedCr = false;
    emit({ kind: 'too-long', lineBytes });
  }

  #emitLine(bytes: Uint8Array, emit: (event: SplitEvent) => void): void {
    const text = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
    if (text.length > this.maxLineBytes) emit({ kind: 'too-long', lineBytes: text.length });
    else emit({ kind: 'line', bytes: text });
  }

  #append(piece: Uint8Array): void {
    // +1 leaves room for the CR of a line of exactly maxLineBytes.
    const capacity = this.maxLineBytes + 1;
    if (this.#partialBytes + piece.length > capacity) {
      this.#discarding = true;
      this.#discardedBytes = this.#partialBytes + piece.length;
      this.#discardedCr = piece[piece.length - 1] === CR;
      this.#release();
      return;
    }
    this.#partial ??= new Uint8Array(capacity);
    this.#partial.set(piece, this.#partialBytes);
    this.#partialBytes += piece.length;
  }

  #release(): void {
    this.#partial = undefined;
    this.#partialBytes = 0;
  }
}
