/**
 * `len32le`: each message is an int32 little-endian length, then that many bytes — what Python's
 * `struct.pack('i', n)` writes on x86 and ARM (native order, signed), the seeds' "protocol 1".
 *
 * Read first: Python's `struct` docs (format `i`: native byte order, standard size 4, signed) and
 * the seeds' protocol 1 (`conn.send(struct.pack('i', len(msg)) + msg)`). A negative length cannot
 * be a size, so it is a ProtocolError, never a huge unsigned number.
 */
import { lengthPrefixedFraming, type LengthPrefix } from './length-prefixed.js';
import { negativeLength } from './framing-errors.js';
import type { Framing } from './types.js';

/** Header size of len32le, in bytes. */
export const LEN32LE_HEADER_BYTES = 4;

const LEN32LE_PREFIX: LengthPrefix = {
  name: 'len32le',
  maxHeaderBytes: LEN32LE_HEADER_BYTES,
  // Signed int32: the largest length Python's pack('i', n) can write.
  maxLength: 0x7fff_ffff,
  headerBytes: (_bytes, pos, end) => (end - pos >= LEN32LE_HEADER_BYTES ? LEN32LE_HEADER_BYTES : 0),
  readLength(b, p) {
    const length = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    if (length < 0) throw negativeLength('len32le', length);
    return length;
  },
  encodedHeaderBytes: () => LEN32LE_HEADER_BYTES,
  writeHeader(target, offset, length) {
    target[offset] = length;
    target[offset + 1] = length >>> 8;
    target[offset + 2] = length >>> 16;
    target[offset + 3] = length >>> 24;
    return LEN32LE_HEADER_BYTES;
  },
};

/** int32 little-endian length prefix, as `struct.pack('i', n)`: `02 01 00 00` announces 258 bytes. */
export const len32le: Framing = lengthPrefixedFraming(LEN32LE_PREFIX);
