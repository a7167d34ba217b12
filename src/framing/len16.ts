/**
 * `len16`: each message is a uint16 big-endian length, then that many bytes (at most 65535).
 *
 * Read first: RFC 1035 §4.2.2 (DNS over TCP uses exactly this two-byte length prefix); Python's
 * `struct.pack('!H', n)` writes it.
 */
import { lengthPrefixedFraming, type LengthPrefix } from './length-prefixed.js';
import type { Framing } from './types.js';

/** Header size of len16, in bytes. */
export const LEN16_HEADER_BYTES = 2;

/** The largest message len16 can carry (RFC 1035 §4.2.2: a two-octet length field). */
export const LEN16_MAX_LENGTH = 0xffff;

const LEN16_PREFIX: LengthPrefix = {
  name: 'len16',
  maxHeaderBytes: LEN16_HEADER_BYTES,
  maxLength: LEN16_MAX_LENGTH,
  headerBytes: (_bytes, pos, end) => (end - pos >= LEN16_HEADER_BYTES ? LEN16_HEADER_BYTES : 0),
  readLength: (b, p) => (b[p]! << 8) | b[p + 1]!,
  encodedHeaderBytes: () => LEN16_HEADER_BYTES,
  writeHeader(target, offset, length) {
    target[offset] = length >>> 8;
    target[offset + 1] = length;
    return LEN16_HEADER_BYTES;
  },
};

/** uint16 big-endian length prefix: `01 02` announces 258 bytes; encoding more than 65535 throws. */
export const len16: Framing = lengthPrefixedFraming(LEN16_PREFIX);
