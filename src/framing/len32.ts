/**
 * `len32`: each message is a uint32 big-endian (network order) length, then that many bytes.
 *
 * Read first: RFC 1700 / RFC 791 §3.1 "network byte order" (most significant byte first); Python's
 * `struct.pack('!I', n)` writes this header.
 */
import { lengthPrefixedFraming, type LengthPrefix } from './length-prefixed.js';
import type { Framing } from './types.js';

/** Header size of len32, in bytes. */
export const LEN32_HEADER_BYTES = 4;

const LEN32_PREFIX: LengthPrefix = {
  name: 'len32',
  maxHeaderBytes: LEN32_HEADER_BYTES,
  maxLength: 0xffff_ffff,
  headerBytes: (_bytes, pos, end) => (end - pos >= LEN32_HEADER_BYTES ? LEN32_HEADER_BYTES : 0),
  readLength: (b, p) => b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!),
  encodedHeaderBytes: () => LEN32_HEADER_BYTES,
  writeHeader(target, offset, length) {
    target[offset] = length >>> 24;
    target[offset + 1] = length >>> 16;
    target[offset + 2] = length >>> 8;
    target[offset + 3] = length;
    return LEN32_HEADER_BYTES;
  },
};

/** uint32 big-endian length prefix (network order): `00 00 01 02` announces 258 bytes. */
export const len32: Framing = lengthPrefixedFraming(LEN32_PREFIX);
