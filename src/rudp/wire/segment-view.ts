/**
 * The byte-level view of a RUDP segment (the first of smoltcp's two wire levels): field accessors
 * over a length-checked byte array, no allocation, no interpretation.
 *
 * Read first: RFC 9293 §3.1 (header format).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-------------------------------+-------------------------------+
 * |          Source Port          |       Destination Port        |
 * +-------------------------------+-------------------------------+
 * |                        Sequence Number                        |
 * +---------------------------------------------------------------+
 * |                    Acknowledgment Number                      |
 * +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * +-------+-------+-+-+-+-+-+-+-+-+-------------------------------+
 * |           Checksum            |         Urgent Pointer        |
 * +-------------------------------+-------------------------------+
 * |                    Options (0–40 bytes)                       |
 * +---------------------------------------------------------------+
 * |                             Data                              |
 * +---------------------------------------------------------------+
 * ```
 */
import { ProtocolError, RudpCodes } from '../../errors.js';

/** RFC 9293 §3.1: the fixed header is 20 bytes (data offset 5). */
export const HEADER_BYTES = 20;
/** RFC 9293 §3.1: data offset is 4 bits of 32-bit words, so the header is at most 60 bytes. */
export const MAX_HEADER_BYTES = 60;
/** Byte offset of the checksum field. */
export const CHECKSUM_OFFSET = 16;

/**
 * Checks that `bytes` holds a whole header whose data offset is sane and returns the header length
 * in bytes (the check of {@link SegmentView.check}, without wrapping: the decoder's hot path).
 * Throws ProtocolError (ERR_SOCKIT_RUDP_BAD_SEGMENT) otherwise.
 */
export function checkedHeaderBytes(bytes: Uint8Array): number {
  if (bytes.length < HEADER_BYTES) {
    throw new ProtocolError(RudpCodes.BAD_SEGMENT, `RUDP segment of ${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  }
  const headerBytes = (bytes[12]! >> 4) * 4;
  if (headerBytes < HEADER_BYTES || headerBytes > bytes.length) {
    throw new ProtocolError(RudpCodes.BAD_SEGMENT, `RUDP segment data offset ${headerBytes} bytes is outside 20..${Math.min(bytes.length, MAX_HEADER_BYTES)}`);
  }
  return headerBytes;
}

/** A length-checked view over the bytes of one segment. */
export class SegmentView {
  /** The segment's bytes (header, options, payload). */
  readonly bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /**
   * Checks that `bytes` holds a whole header whose data offset is sane, and wraps it.
   * Throws ProtocolError (ERR_SOCKIT_RUDP_BAD_SEGMENT) otherwise.
   */
  static check(bytes: Uint8Array): SegmentView {
    checkedHeaderBytes(bytes);
    return new SegmentView(bytes);
  }

  #u16(at: number): number {
    return (this.bytes[at]! << 8) | this.bytes[at + 1]!;
  }

  #u32(at: number): number {
    return ((this.bytes[at]! << 24) | (this.bytes[at + 1]! << 16) | (this.bytes[at + 2]! << 8) | this.bytes[at + 3]!) >>> 0;
  }

  get srcPort(): number {
    return this.#u16(0);
  }

  get dstPort(): number {
    return this.#u16(2);
  }

  get seq(): number {
    return this.#u32(4);
  }

  get ack(): number {
    return this.#u32(8);
  }

  /** Header length in bytes (data offset × 4). */
  get headerBytes(): number {
    return (this.bytes[12]! >> 4) * 4;
  }

  /** The eight flag bits (CWR … FIN). */
  get flags(): number {
    return this.bytes[13]!;
  }

  get window(): number {
    return this.#u16(14);
  }

  get checksum(): number {
    return this.#u16(CHECKSUM_OFFSET);
  }

  get urgentPointer(): number {
    return this.#u16(18);
  }

  /** The raw options bytes (may include padding). */
  get options(): Uint8Array {
    return this.bytes.subarray(HEADER_BYTES, this.headerBytes);
  }

  /** The payload, as a view (no copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerBytes);
  }
}
