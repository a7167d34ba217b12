/**
 * The seeds' file protocol ("custom protocol 2" of seed 001): `int32 little-endian` length of a
 * header, the header as UTF-8 JSON `{"filename": name, "filesize": n}`, then exactly n bytes; the
 * sender closes. One file per connection, no reply, no integrity check.
 *
 * Read first: seed 001 §1.2 (自定义协议2), Python's `struct` docs (`'i'` is native-order signed
 * int32: little-endian on x86 and ARM), DESIGN.md "Wire facts that bite".
 */
import { FileCodes, LimitExceededError, ProtocolError } from '../../errors.js';

/** Bytes of the header-length prefix (`struct.pack('i', n)`). */
export const CLASSIC_LENGTH_BYTES = 4;

/** Largest header accepted: a name and a size need far less; the cap stops a hostile length. */
export const CLASSIC_MAX_HEADER_BYTES = 64 * 1024;

/** The classic header. */
export interface ClassicHeader {
  filename: string;
  filesize: number;
}

/** Encodes the length prefix and header (the sender then writes exactly `filesize` bytes). */
export function encodeClassicHeader(header: ClassicHeader): Buffer {
  const json = Buffer.from(JSON.stringify({ filename: header.filename, filesize: header.filesize }), 'utf8');
  const out = Buffer.allocUnsafe(CLASSIC_LENGTH_BYTES + json.length);
  out.writeInt32LE(json.length, 0);
  json.copy(out, CLASSIC_LENGTH_BYTES);
  return out;
}

/**
 * Reads the header length from the 4-byte prefix. Throws for a negative length (a signed int32
 * can be one) or one over {@link CLASSIC_MAX_HEADER_BYTES}, before anything is buffered.
 */
export function decodeClassicLength(prefix: Uint8Array): number {
  if (prefix.length !== CLASSIC_LENGTH_BYTES) throw new ProtocolError(FileCodes.BAD_HEADER, 'classic header length prefix must be 4 bytes');
  const n = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.length).readInt32LE(0);
  if (n <= 0) throw new ProtocolError(FileCodes.BAD_HEADER, `classic header length ${n} is not positive`);
  if (n > CLASSIC_MAX_HEADER_BYTES) {
    throw new LimitExceededError(FileCodes.BAD_HEADER, `classic header of ${n} bytes exceeds the ${CLASSIC_MAX_HEADER_BYTES}-byte limit`, CLASSIC_MAX_HEADER_BYTES, n);
  }
  return n;
}

/** Parses and validates the JSON header. Throws ProtocolError `ERR_SOCKIT_BAD_HEADER`. */
export function decodeClassicHeader(json: Uint8Array): ClassicHeader {
  let o: unknown;
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw new ProtocolError(FileCodes.BAD_HEADER, 'classic header is not UTF-8 JSON');
  }
  const h = o as Partial<ClassicHeader> | null;
  if (!h || typeof h !== 'object' || typeof h.filename !== 'string') {
    throw new ProtocolError(FileCodes.BAD_HEADER, 'classic header has no "filename" string');
  }
  if (typeof h.filesize !== 'number' || !Number.isSafeInteger(h.filesize) || h.filesize < 0) {
    throw new ProtocolError(FileCodes.BAD_HEADER, 'classic header has no non-negative integer "filesize"');
  }
  return { filename: h.filename, filesize: h.filesize };
}
