/**
 * The machinery shared by every length-prefixed framing (len32, len32le, len16, varint): a streaming
 * decoder and an encoder, parameterised by a {@link LengthPrefix} that reads and writes the header.
 *
 * Read first: the seeds' "protocol 1" (a 4-byte `struct.pack('i', n)` header, then the message) and
 * Node's net docs on 'data' chunks (at most 64 KiB, glued or split anywhere).
 *
 * Decoding is amortised O(n) and copies as little as it can:
 * - a frame lying wholly inside one chunk is returned as a zero-copy `subarray` of that chunk;
 * - a frame spanning chunks is assembled into one exactly-sized buffer, allocated as soon as its
 *   header is complete (after the length was checked against `maxFrameBytes`), so each body byte is
 *   copied once;
 * - a header split across chunks is gathered in a buffer of at most `maxHeaderBytes` bytes.
 */
import type { DecoderOptions, FrameDecoder, Framing, FramingName } from './types.js';
import { frameTooLarge, payloadTooLargeToEncode, truncatedFrame } from './framing-errors.js';
import { asBuffer, checkMaxFrameBytes } from './decoder-input.js';
import { InvalidStateError } from '../errors.js';

/** How one framing writes and reads its length header. */
export interface LengthPrefix {
  /** The framing this header belongs to (used in error messages). */
  readonly name: FramingName;
  /** The longest header, in bytes. */
  readonly maxHeaderBytes: number;
  /** The largest payload length the header can express. */
  readonly maxLength: number;
  /**
   * Size of the complete header starting at `bytes[pos]`, looking no further than `end`;
   * 0 while it is incomplete. Throws ProtocolError when the bytes seen cannot start a valid header.
   */
  headerBytes(bytes: Uint8Array, pos: number, end: number): number;
  /** The length declared by the complete header at `bytes[pos]`. Throws ProtocolError if invalid. */
  readLength(bytes: Uint8Array, pos: number): number;
  /** Size of the header for a payload of `length` bytes (`length <= maxLength`). */
  encodedHeaderBytes(length: number): number;
  /** Writes the header for `length` at `target[offset]`; returns the header size. */
  writeHeader(target: Uint8Array, offset: number, length: number): number;
}

/** A streaming decoder for one length-prefixed stream. See the module comment for the copy rules. */
export class LengthPrefixedDecoder implements FrameDecoder {
  readonly #prefix: LengthPrefix;
  readonly #maxFrameBytes: number;
  /** Header bytes gathered while a header is split across chunks. */
  readonly #head: Uint8Array;
  #headFill = 0;
  /** The exactly-sized body being assembled across chunks, once its header is known. */
  #body: Buffer | undefined;
  #bodyFill = 0;
  /** Size of the header of the frame in `#body` (counted in `bufferedBytes`). */
  #bodyHeaderBytes = 0;
  #framesDecoded = 0;
  #failed = false;

  constructor(prefix: LengthPrefix, options: DecoderOptions) {
    this.#prefix = prefix;
    this.#maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
    this.#head = new Uint8Array(prefix.maxHeaderBytes);
  }

  get bufferedBytes(): number {
    return this.#body === undefined ? this.#headFill : this.#bodyHeaderBytes + this.#bodyFill;
  }

  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): void {
    if (this.#failed) throw new InvalidStateError(`${this.#prefix.name} decoder already failed; close the connection it served`);
    const buf = asBuffer(chunk);
    const end = buf.length;
    let pos = 0;
    try {
      if (this.#body !== undefined) {
        pos = this.#continueBody(buf, onFrame);
        if (this.#body !== undefined) return;
      } else if (this.#headFill > 0) {
        pos = this.#continueHeader(buf, onFrame);
        if (this.#headFill > 0 || this.#body !== undefined) return;
      }
      // The fast path: whole headers and frames inside this chunk, cut out without copying.
      const prefix = this.#prefix;
      const max = this.#maxFrameBytes;
      while (pos < end) {
        const headerBytes = prefix.headerBytes(buf, pos, end);
        if (headerBytes === 0) {
          buf.copy(this.#head, 0, pos, end);
          this.#headFill = end - pos;
          return;
        }
        const length = prefix.readLength(buf, pos);
        if (length > max) throw frameTooLarge(prefix.name, max, length);
        const start = pos + headerBytes;
        pos = start + length;
        if (pos > end) {
          this.#startBody(buf, start, end, length, headerBytes);
          return;
        }
        this.#framesDecoded++;
        onFrame(buf.subarray(start, pos));
      }
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  end(_onFrame: (frame: Buffer) => void): void {
    if (this.#failed) return;
    const name = this.#prefix.name;
    if (this.#body !== undefined) {
      const missing = this.#body.length - this.#bodyFill;
      this.#failed = true;
      throw truncatedFrame(name, this.#framesDecoded, `${this.#bodyFill} of ${this.#body.length} body bytes arrived, ${missing} missing`);
    }
    if (this.#headFill > 0) {
      this.#failed = true;
      throw truncatedFrame(name, this.#framesDecoded, `only ${this.#headFill} byte(s) of its length header arrived`);
    }
  }

  /** Completes a header split across chunks; returns the position in `buf` after what it used. */
  #continueHeader(buf: Buffer, onFrame: (frame: Buffer) => void): number {
    const prefix = this.#prefix;
    const head = this.#head;
    let pos = 0;
    let headerBytes = 0;
    // Headers are a few bytes: copy one at a time until the header is complete.
    while (headerBytes === 0) {
      if (pos === buf.length) return pos;
      head[this.#headFill++] = buf[pos++]!;
      headerBytes = prefix.headerBytes(head, 0, this.#headFill);
    }
    const length = prefix.readLength(head, 0);
    if (length > this.#maxFrameBytes) throw frameTooLarge(prefix.name, this.#maxFrameBytes, length);
    this.#headFill = 0;
    if (buf.length - pos >= length) {
      this.#framesDecoded++;
      onFrame(buf.subarray(pos, pos + length));
      return pos + length;
    }
    this.#startBody(buf, pos, buf.length, length, headerBytes);
    return buf.length;
  }

  #startBody(buf: Buffer, start: number, end: number, length: number, headerBytes: number): void {
    const body = Buffer.allocUnsafe(length);
    buf.copy(body, 0, start, end);
    this.#body = body;
    this.#bodyFill = end - start;
    this.#bodyHeaderBytes = headerBytes;
    this.#headFill = 0;
  }

  /** Feeds a body being assembled; returns the position in `buf` after what it used. */
  #continueBody(buf: Buffer, onFrame: (frame: Buffer) => void): number {
    const body = this.#body!;
    const wanted = body.length - this.#bodyFill;
    if (buf.length < wanted) {
      buf.copy(body, this.#bodyFill);
      this.#bodyFill += buf.length;
      return buf.length;
    }
    buf.copy(body, this.#bodyFill, 0, wanted);
    this.#body = undefined;
    this.#bodyFill = 0;
    this.#bodyHeaderBytes = 0;
    this.#framesDecoded++;
    onFrame(body);
    return wanted;
  }
}

/** Builds the {@link Framing} (encoder plus decoder factory) for a length prefix. */
export function lengthPrefixedFraming(prefix: LengthPrefix): Framing {
  const checkEncodable = (payloadBytes: number): void => {
    if (payloadBytes > prefix.maxLength) throw payloadTooLargeToEncode(prefix.name, prefix.maxLength, payloadBytes);
  };
  return {
    name: prefix.name,
    encode(payload: Uint8Array): Uint8Array[] {
      checkEncodable(payload.length);
      const header = new Uint8Array(prefix.encodedHeaderBytes(payload.length));
      prefix.writeHeader(header, 0, payload.length);
      return [header, payload];
    },
    encodeInto(target: Uint8Array, offset: number, payload: Uint8Array): number {
      checkEncodable(payload.length);
      const headerBytes = prefix.writeHeader(target, offset, payload.length);
      target.set(payload, offset + headerBytes);
      return headerBytes + payload.length;
    },
    encodedLength(payloadBytes: number): number {
      checkEncodable(payloadBytes);
      return prefix.encodedHeaderBytes(payloadBytes) + payloadBytes;
    },
    createDecoder(options: DecoderOptions): FrameDecoder {
      return new LengthPrefixedDecoder(prefix, options);
    },
  };
}
