/**
 * The RUDP segment as a validated plain object (the second of smoltcp's two wire levels; the
 * byte-level view lives in segment-view.ts and the codec in segment-codec.ts).
 *
 * Read first: RFC 9293 §3.1 (header format), RFC 7323 §2.2 and §3.2 (window scale, timestamps),
 * RFC 2018 §2–3 (SACK-permitted and SACK options), RFC 6691 (MSS).
 *
 * One segment travels in one UDP datagram, laid out exactly as a TCP header, so tools that
 * understand TCP can read it.
 */

/** TCP header flag bits (RFC 9293 §3.1). */
export const Flags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** A SACK block: bytes [left, right) received out of order, as 32-bit sequence numbers (RFC 2018 §3). */
export interface SackBlock {
  left: number;
  right: number;
}

/** TSval/TSecr of the timestamps option (RFC 7323 §3.2). */
export interface Timestamps {
  value: number;
  echo: number;
}

/** The TCP options sockit sends and understands. Absent means "not present". */
export interface SegmentOptions {
  /** Maximum segment size (RFC 9293 §3.7.1), SYN only. */
  mss?: number;
  /** Window scale shift count 0..14 (RFC 7323 §2), SYN only. */
  windowScale?: number;
  /** SACK-permitted (RFC 2018 §2), SYN only. */
  sackPermitted?: boolean;
  /** SACK blocks (RFC 2018 §3), at most 4 (3 with timestamps). */
  sack?: SackBlock[];
  /** Timestamps (RFC 7323 §3). */
  timestamps?: Timestamps;
}

/** A decoded, validated segment. Sequence and acknowledgement numbers are unsigned 32-bit. */
export interface Segment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Bitwise OR of {@link Flags}. */
  flags: number;
  /** The window field as sent (unscaled). */
  window: number;
  urgentPointer: number;
  options: SegmentOptions;
  payload: Uint8Array;
}
