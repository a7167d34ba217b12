/**
 * `varint`: each message is an unsigned LEB128 length (protobuf's base-128 varint), then that many
 * bytes — the framing of protobuf's `writeDelimitedTo` / `parseDelimitedFrom`.
 *
 * Read first: the protobuf encoding guide, "Base 128 Varints" (7 bits per byte, least significant
 * group first, high bit set on every byte but the last); DWARF 5 §7.6 (ULEB128).
 *
 * Lengths are limited to 32 bits, so a header is at most 5 bytes: a 5th byte with its continuation
 * bit set, or with value bits above bit 31, is ProtocolError ERR_SOCKIT_BAD_VARINT. Non-minimal
 * encodings (`80 00` for 0, padding bytes of value 0x80) are ACCEPTED, as protobuf's own parsers
 * accept them; the encoder always writes the minimal form.
 */
import { lengthPrefixedFraming, type LengthPrefix } from './length-prefixed.js';
import { badVarint } from './framing-errors.js';
import type { Framing } from './types.js';

/** The longest varint length header: 5 groups of 7 bits cover 32 bits. */
export const VARINT_MAX_HEADER_BYTES = 5;

/** Bits of a varint byte that carry value (protobuf encoding guide, "Base 128 Varints"). */
const VALUE_MASK = 0x7f;
/** The continuation ("more bytes follow") bit. */
const CONTINUATION_BIT = 0x80;
/** The 5th byte may only carry bits 28..31 of a 32-bit length. */
const LAST_BYTE_MAX = 0x0f;

const VARINT_PREFIX: LengthPrefix = {
  name: 'varint',
  maxHeaderBytes: VARINT_MAX_HEADER_BYTES,
  maxLength: 0xffff_ffff,
  headerBytes(bytes, pos, end) {
    const limit = Math.min(end, pos + VARINT_MAX_HEADER_BYTES);
    for (let i = pos; i < limit; i++) {
      if ((bytes[i]! & CONTINUATION_BIT) === 0) {
        if (i - pos === VARINT_MAX_HEADER_BYTES - 1 && bytes[i]! > LAST_BYTE_MAX) {
          throw badVarint(`its 5th byte 0x${bytes[i]!.toString(16).padStart(2, '0')} makes the length exceed 32 bits`);
        }
        return i - pos + 1;
      }
    }
    if (limit - pos === VARINT_MAX_HEADER_BYTES) throw badVarint('5 bytes without a final byte (continuation bit still set)');
    return 0;
  },
  readLength(bytes, pos) {
    let length = 0;
    let scale = 1;
    for (let i = pos; ; i++) {
      const byte = bytes[i]!;
      length += (byte & VALUE_MASK) * scale;
      if ((byte & CONTINUATION_BIT) === 0) return length;
      scale *= 128;
    }
  },
  encodedHeaderBytes(length) {
    let bytes = 1;
    for (let rest = length; rest >= 128; rest = Math.floor(rest / 128)) bytes++;
    return bytes;
  },
  writeHeader(target, offset, length) {
    let i = offset;
    let rest = length;
    while (rest >= 128) {
      target[i++] = (rest & VALUE_MASK) | CONTINUATION_BIT;
      rest = Math.floor(rest / 128);
    }
    target[i++] = rest;
    return i - offset;
  },
};

/** Unsigned LEB128 length prefix (protobuf delimited): `82 02` announces 258 bytes. */
export const varint: Framing = lengthPrefixedFraming(VARINT_PREFIX);
