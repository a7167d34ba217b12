/**
 * Decoding and encoding of RUDP segments (the validated second wire level): `decodeSegment`,
 * `encodeSegment`, `encodedLength`.
 *
 * Read first: RFC 9293 §3.1 and §3.2 (header, option syntax: kind, length, EOL, NOP),
 * RFC 9293 §3.7.1 (MSS option), RFC 7323 §2.2 and §3.2 (window scale, timestamps; Appendix A for the
 * NOP-padded layout), RFC 2018 §2–3 (SACK-permitted, SACK).
 *
 * Options are written the way Linux writes them, each padded with NOPs to a 4-byte boundary, so the
 * header length is always a multiple of four and tcpdump/Wireshark show them as for TCP.
 */
import { ProtocolError, RudpCodes, SockitError, NetCodes } from '../../errors.js';
import { isChecksumValid, segmentChecksum } from './checksum.js';
import { CHECKSUM_OFFSET, checkedHeaderBytes, HEADER_BYTES, MAX_HEADER_BYTES } from './segment-view.js';
import type { SackBlock, Segment, SegmentOptions } from './segment.js';

/** Option kinds (RFC 9293 §3.2, RFC 7323 §2.2/§3.2, RFC 2018 §2–3). */
export const OptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

/** RFC 7323 §2.3: a shift count above 14 is treated as 14. */
export const MAX_WINDOW_SCALE = 14;
/** RFC 2018 §3: at most 4 SACK blocks fit in 40 option bytes (3 alongside timestamps). */
export const MAX_SACK_BLOCKS = 4;
/** Bytes of options available (RFC 9293 §3.1: header ≤ 60 bytes). */
export const MAX_OPTION_BYTES = MAX_HEADER_BYTES - HEADER_BYTES;

/** Bytes the options of `o` take on the wire (padded to a multiple of 4). */
export function optionsLength(o: SegmentOptions): number {
  let n = 0;
  if (o.mss !== undefined) n += 4;
  if (o.timestamps !== undefined || o.sackPermitted === true) n += o.timestamps !== undefined ? 12 : 4;
  if (o.windowScale !== undefined) n += 4;
  if (o.sack !== undefined && o.sack.length > 0) n += 4 + 8 * o.sack.length;
  return n;
}

/** Total bytes `seg` takes on the wire. */
export function encodedLength(seg: Segment): number {
  return HEADER_BYTES + optionsLength(seg.options) + seg.payload.length;
}

function put16(out: Uint8Array, at: number, v: number): void {
  out[at] = (v >>> 8) & 0xff;
  out[at + 1] = v & 0xff;
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = (v >>> 24) & 0xff;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function get32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function writeOptions(o: SegmentOptions, out: Uint8Array, at: number): number {
  if (o.mss !== undefined) {
    out[at] = OptionKind.MSS;
    out[at + 1] = 4;
    put16(out, at + 2, o.mss);
    at += 4;
  }
  if (o.timestamps !== undefined) {
    if (o.sackPermitted === true) {
      out[at] = OptionKind.SACK_PERMITTED;
      out[at + 1] = 2;
    } else {
      out[at] = OptionKind.NOP;
      out[at + 1] = OptionKind.NOP;
    }
    out[at + 2] = OptionKind.TIMESTAMPS;
    out[at + 3] = 10;
    put32(out, at + 4, o.timestamps.value);
    put32(out, at + 8, o.timestamps.echo);
    at += 12;
  } else if (o.sackPermitted === true) {
    out[at] = OptionKind.NOP;
    out[at + 1] = OptionKind.NOP;
    out[at + 2] = OptionKind.SACK_PERMITTED;
    out[at + 3] = 2;
    at += 4;
  }
  if (o.windowScale !== undefined) {
    out[at] = OptionKind.NOP;
    out[at + 1] = OptionKind.WINDOW_SCALE;
    out[at + 2] = 3;
    out[at + 3] = o.windowScale;
    at += 4;
  }
  if (o.sack !== undefined && o.sack.length > 0) {
    out[at] = OptionKind.NOP;
    out[at + 1] = OptionKind.NOP;
    out[at + 2] = OptionKind.SACK;
    out[at + 3] = 2 + 8 * o.sack.length;
    at += 4;
    for (const b of o.sack) {
      put32(out, at, b.left);
      put32(out, at + 4, b.right);
      at += 8;
    }
  }
  return at;
}

/**
 * Writes `seg` into `out` at `offset` (checksum included) and returns the number of bytes written
 * (= `encodedLength(seg)`). Throws when the options do not fit in 40 bytes or `out` is too short:
 * both are bugs of the caller, never of the peer.
 */
export function encodeSegment(seg: Segment, out: Uint8Array, offset = 0): number {
  const optBytes = optionsLength(seg.options);
  if (optBytes > MAX_OPTION_BYTES) {
    throw new SockitError(NetCodes.INVALID_ARGUMENT, `RUDP options need ${optBytes} bytes; at most ${MAX_OPTION_BYTES} fit`);
  }
  if ((seg.options.sack?.length ?? 0) > MAX_SACK_BLOCKS) {
    throw new SockitError(NetCodes.INVALID_ARGUMENT, `at most ${MAX_SACK_BLOCKS} SACK blocks fit in a segment`);
  }
  const headerBytes = HEADER_BYTES + optBytes;
  const total = headerBytes + seg.payload.length;
  if (out.length - offset < total) {
    throw new SockitError(NetCodes.INVALID_ARGUMENT, `output buffer of ${out.length - offset} bytes cannot hold a ${total}-byte segment`);
  }
  const b = offset === 0 && out.length === total ? out : out.subarray(offset, offset + total);
  put16(b, 0, seg.srcPort);
  put16(b, 2, seg.dstPort);
  put32(b, 4, seg.seq);
  put32(b, 8, seg.ack);
  b[12] = (headerBytes / 4) << 4;
  b[13] = seg.flags & 0xff;
  put16(b, 14, seg.window);
  put16(b, CHECKSUM_OFFSET, 0);
  put16(b, 18, seg.urgentPointer);
  writeOptions(seg.options, b, HEADER_BYTES);
  b.set(seg.payload, headerBytes);
  put16(b, CHECKSUM_OFFSET, segmentChecksum(b));
  return total;
}

/** Encodes `seg` into a new array of exactly `encodedLength(seg)` bytes. */
export function encodeSegmentToBytes(seg: Segment): Uint8Array {
  const out = new Uint8Array(encodedLength(seg));
  encodeSegment(seg, out);
  return out;
}

function bad(message: string): ProtocolError {
  return new ProtocolError(RudpCodes.BAD_SEGMENT, message);
}

/** Parses the options bytes; throws ProtocolError on a malformed option (RFC 9293 §3.2). */
export function decodeOptions(bytes: Uint8Array): SegmentOptions {
  const o: SegmentOptions = {};
  let i = 0;
  while (i < bytes.length) {
    const kind = bytes[i]!;
    if (kind === OptionKind.EOL) break;
    if (kind === OptionKind.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= bytes.length) throw bad(`RUDP option kind ${kind} has no length byte`);
    const len = bytes[i + 1]!;
    if (len < 2 || i + len > bytes.length) throw bad(`RUDP option kind ${kind} has bad length ${len}`);
    switch (kind) {
      case OptionKind.MSS:
        if (len !== 4) throw bad(`RUDP MSS option has length ${len}, not 4`);
        o.mss = (bytes[i + 2]! << 8) | bytes[i + 3]!;
        break;
      case OptionKind.WINDOW_SCALE:
        if (len !== 3) throw bad(`RUDP window-scale option has length ${len}, not 3`);
        // RFC 7323 §2.3: a shift above 14 is used as 14.
        o.windowScale = Math.min(bytes[i + 2]!, MAX_WINDOW_SCALE);
        break;
      case OptionKind.SACK_PERMITTED:
        if (len !== 2) throw bad(`RUDP SACK-permitted option has length ${len}, not 2`);
        o.sackPermitted = true;
        break;
      case OptionKind.SACK: {
        if ((len - 2) % 8 !== 0 || len < 10) throw bad(`RUDP SACK option has length ${len}, not 2 + 8·n`);
        const blocks: SackBlock[] = [];
        for (let at = i + 2; at < i + len; at += 8) blocks.push({ left: get32(bytes, at), right: get32(bytes, at + 4) });
        o.sack = blocks;
        break;
      }
      case OptionKind.TIMESTAMPS:
        if (len !== 10) throw bad(`RUDP timestamps option has length ${len}, not 10`);
        o.timestamps = { value: get32(bytes, i + 2), echo: get32(bytes, i + 6) };
        break;
      default:
        // RFC 9293 §3.2: unknown options are skipped by their length.
        break;
    }
    i += len;
  }
  return o;
}

/** Options of {@link decodeSegment}. */
export interface DecodeOptions {
  /** Verify the checksum (default true). */
  verifyChecksum?: boolean;
}

/** Decoded options when a segment carries none: shared, so the common case allocates nothing. */
const NO_OPTIONS: SegmentOptions = Object.freeze({});
/** RFC 7323 Appendix A: the layout of a segment whose only option is timestamps (`01 01 08 0a`). */
const TIMESTAMPS_ONLY_HEADER_BYTES = HEADER_BYTES + 12;

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/**
 * Validates and decodes one segment. The payload is a view into `bytes` (no copy: the caller must
 * not reuse `bytes` while the segment or its payload is kept). Options absent decode to one shared,
 * frozen empty object. Throws ProtocolError: ERR_SOCKIT_RUDP_BAD_CHECKSUM for a wrong checksum,
 * ERR_SOCKIT_RUDP_BAD_SEGMENT for a short header, bad data offset or malformed option.
 */
export function decodeSegment(bytes: Uint8Array, options?: DecodeOptions): Segment {
  const headerBytes = checkedHeaderBytes(bytes);
  if (options?.verifyChecksum !== false && !isChecksumValid(bytes)) {
    throw new ProtocolError(RudpCodes.BAD_CHECKSUM, `RUDP segment of ${bytes.length} bytes has a bad checksum`);
  }
  let opts = NO_OPTIONS;
  if (headerBytes === TIMESTAMPS_ONLY_HEADER_BYTES && bytes[20] === OptionKind.NOP && bytes[21] === OptionKind.NOP && bytes[22] === OptionKind.TIMESTAMPS && bytes[23] === 10) {
    // Every data segment and ACK once timestamps are negotiated: skip the general option walk.
    opts = { timestamps: { value: get32(bytes, 24), echo: get32(bytes, 28) } };
  } else if (headerBytes > HEADER_BYTES) {
    opts = decodeOptions(bytes.subarray(HEADER_BYTES, headerBytes));
  }
  return {
    srcPort: u16(bytes, 0),
    dstPort: u16(bytes, 2),
    seq: get32(bytes, 4),
    ack: get32(bytes, 8),
    flags: bytes[13]!,
    window: u16(bytes, 14),
    urgentPointer: u16(bytes, 18),
    options: opts,
    payload: bytes.subarray(headerBytes),
  };
}
