/**
 * Splits the sockit file protocol's byte stream into messages without gathering file data:
 * control frames (type byte + JSON) are assembled whole, but the bytes of a DATA frame are handed
 * on as the slices of the incoming chunks they arrived in, never copied into a frame-sized buffer.
 *
 * Read first: docs/files.md §2 (len32 framing: uint32 big-endian length, then the payload, whose
 * first byte is the message type) and src/framing/length-prefixed.ts (the general decoder this
 * specialises; its errors are reused so both read alike).
 *
 * Why: a 1 GiB upload arrives as ~16,000 socket reads of 64 KiB. Assembling each 1 MiB DATA frame
 * first costs one extra copy of every byte (and a cache-cold buffer to hash and write); the
 * receiver hashes and writes the socket's own chunks instead. Splitting a DATA frame into several
 * slices changes nothing for the receiver, which appends DATA bytes to the file being streamed.
 */
import { FileCodes, LimitExceededError, ProtocolError } from '../../errors.js';
import { frameTooLarge, truncatedFrame } from '../../framing/framing-errors.js';
import { MAX_CONTROL_BYTES, MessageType } from './messages.js';

/** Bytes of the len32 length header. */
export const FRAME_HEADER_BYTES = 4;

/** Where the splitter's output goes. */
export interface FrameSplitterSink {
  /** One whole control frame payload (type byte first); decode it with decodeMessage. */
  control(payload: Buffer): void;
  /** A non-empty slice of the current DATA frame's file bytes (a view of an input chunk, not a copy). */
  data(bytes: Buffer): void;
}

/** Incremental splitter of one connection's inbound bytes (docs/files.md §2). */
export class FrameSplitter {
  readonly #maxFrameBytes: number;
  readonly #head = Buffer.alloc(FRAME_HEADER_BYTES);
  #headFill = 0;
  /** Body bytes of the current frame still to come (0: a header is expected next). */
  #bodyLeft = 0;
  /** True while inside a frame whose type byte has not arrived yet. */
  #needType = false;
  /** True while the current frame is DATA. */
  #inData = false;
  #control: Buffer | undefined;
  #controlFill = 0;
  #frames = 0;

  /** `maxFrameBytes`: largest payload (type byte included) accepted; a larger header throws. */
  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /**
   * Consumes `chunk`, calling `sink` for every control frame completed and every DATA slice.
   * Throws (and must not be fed again) on an empty frame, a frame over the limit or a control
   * message over MAX_CONTROL_BYTES — before its body is buffered.
   */
  push(chunk: Buffer, sink: FrameSplitterSink): void {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (this.#bodyLeft === 0) {
        // A length header, possibly spread over chunks.
        let length: number;
        if (this.#headFill === 0 && n - at >= FRAME_HEADER_BYTES) {
          length = chunk.readUInt32BE(at);
          at += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#headFill, n - at);
          chunk.copy(this.#head, this.#headFill, at, at + take);
          this.#headFill += take;
          at += take;
          if (this.#headFill < FRAME_HEADER_BYTES) return;
          this.#headFill = 0;
          length = this.#head.readUInt32BE(0);
        }
        if (length === 0) throw new ProtocolError(FileCodes.BAD_HEADER, 'malformed file-protocol message: empty frame');
        if (length > this.#maxFrameBytes) throw frameTooLarge('len32', this.#maxFrameBytes, length);
        this.#bodyLeft = length;
        this.#needType = true;
        continue;
      }
      if (this.#needType) {
        this.#needType = false;
        const type = chunk[at]!;
        if (type === MessageType.DATA) {
          this.#inData = true;
          this.#bodyLeft--;
          at++;
          if (this.#bodyLeft === 0) this.#endFrame();
          continue;
        }
        if (this.#bodyLeft - 1 > MAX_CONTROL_BYTES) {
          throw new LimitExceededError(FileCodes.BAD_HEADER, `control message of ${this.#bodyLeft - 1} bytes exceeds the ${MAX_CONTROL_BYTES}-byte limit`, MAX_CONTROL_BYTES, this.#bodyLeft - 1);
        }
        this.#inData = false;
        if (n - at >= this.#bodyLeft) {
          // The whole control frame is in this chunk: a view suffices (decodeMessage copies what it keeps).
          const payload = chunk.subarray(at, at + this.#bodyLeft);
          at += this.#bodyLeft;
          this.#bodyLeft = 0;
          this.#frames++;
          sink.control(payload);
          continue;
        }
        this.#control = Buffer.allocUnsafe(this.#bodyLeft);
        this.#controlFill = 0;
      }
      const take = Math.min(this.#bodyLeft, n - at);
      if (this.#inData) {
        const slice = chunk.subarray(at, at + take);
        at += take;
        this.#bodyLeft -= take;
        sink.data(slice);
        if (this.#bodyLeft === 0) this.#endFrame();
        continue;
      }
      chunk.copy(this.#control!, this.#controlFill, at, at + take);
      this.#controlFill += take;
      at += take;
      this.#bodyLeft -= take;
      if (this.#bodyLeft === 0) {
        const payload = this.#control!;
        this.#control = undefined;
        this.#frames++;
        sink.control(payload);
      }
    }
  }

  /**
   * Bytes of the current DATA frame still to come (0 unless inside a DATA frame's body): a reader
   * may read up to this many straight into place and report them with {@link skipData}.
   */
  get dataLeft(): number {
    return this.#inData && this.#headFill === 0 ? this.#bodyLeft : 0;
  }

  /**
   * Bytes still to come before the next frame's type is known (its length header and type byte),
   * or 0 inside a frame whose type is known: a reader that reads no more than this between frames
   * never reads past a DATA frame's header into its body.
   */
  get headLeft(): number {
    if (this.#bodyLeft === 0) return FRAME_HEADER_BYTES + 1 - this.#headFill;
    return this.#needType ? 1 : 0;
  }

  /** `n` (≤ {@link dataLeft}) bytes of the current DATA frame arrived outside {@link push}. */
  skipData(n: number): void {
    if (n > this.dataLeft) throw new RangeError(`skipData(${n}) with ${this.dataLeft} DATA bytes left`);
    this.#bodyLeft -= n;
    if (this.#bodyLeft === 0) this.#endFrame();
  }

  /** The stream ended: throws ERR_SOCKIT_TRUNCATED_FRAME when it stopped inside a frame. */
  end(): void {
    if (this.#bodyLeft > 0) throw truncatedFrame('len32', this.#frames, `${this.#bodyLeft} body byte(s) missing`);
    if (this.#headFill > 0) throw truncatedFrame('len32', this.#frames, `only ${this.#headFill} byte(s) of its length header arrived`);
  }

  #endFrame(): void {
    this.#inData = false;
    this.#frames++;
  }
}
