/**
 * The framing contract: how a byte stream is cut into messages (the seeds' "sticky packet" fix).
 *
 * A {@link Framing} is a named codec. Its decoder is streaming: feed it chunks exactly as the
 * socket delivers them (glued or split anywhere) and it returns whole frames. Every decoder is
 * built with a required `maxFrameBytes`, checked as soon as a header is read, before buffering.
 */

/** The framings sockit knows, by the names the CLI and the library accept. */
export const FRAMING_NAMES = ['raw', 'lines', 'len32', 'len32le', 'len16', 'varint'] as const;

/** One of {@link FRAMING_NAMES}. */
export type FramingName = (typeof FRAMING_NAMES)[number];

/** The limit sockit uses when none is given: 16 MiB per message. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** True when `s` names a framing sockit knows (see {@link FRAMING_NAMES}). */
export function isFramingName(s: string): s is FramingName {
  return (FRAMING_NAMES as readonly string[]).includes(s);
}

/** Options every decoder takes. */
export interface DecoderOptions {
  /** Largest payload accepted, in bytes. A larger declared length (or longer line) is an error. */
  maxFrameBytes: number;
}

/**
 * A streaming decoder. Not reusable after it threw: the connection it served must be closed.
 *
 * Frames returned may share memory with the chunks pushed (zero-copy slices); copy them if you
 * keep them while mutating the source buffers.
 */
export interface FrameDecoder {
  /**
   * Feeds the next chunk; calls `onFrame` for every frame it completes, in order.
   * Throws LimitExceededError (too large) or ProtocolError (malformed) from the framing's codes.
   */
  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): void;
  /**
   * Signals end of input. Throws ProtocolError `ERR_SOCKIT_TRUNCATED_FRAME` if a partial frame is
   * buffered (the bytes left over are reported in the message, never dropped silently). `lines`
   * delivers a final unterminated line through `onFrame` instead (as `nc` and Python do).
   */
  end(onFrame: (frame: Buffer) => void): void;
  /** Bytes held for an incomplete frame (never more than the header plus `maxFrameBytes`). */
  readonly bufferedBytes: number;
}

/** A named codec: encoder plus a decoder factory. */
export interface Framing {
  readonly name: FramingName;
  /**
   * Encodes one message. Returns the pieces to write in order (header and payload, payload not
   * copied) so callers can write or gather them without an extra copy.
   * Throws LimitExceededError when the payload cannot be represented (e.g. > 65535 for len16).
   */
  encode(payload: Uint8Array): Uint8Array[];
  /**
   * Writes the whole frame for `payload` (header, payload, terminator) into `target` at `offset` and
   * returns the bytes written (always `encodedLength(payload.length)`). The caller guarantees that
   * much room; used to coalesce many small messages into one write buffer. Throws as `encode` does,
   * before writing anything.
   */
  encodeInto(target: Uint8Array, offset: number, payload: Uint8Array): number;
  /** Bytes `encode(payload)` produces for a payload of `payloadBytes`. */
  encodedLength(payloadBytes: number): number;
  /** A fresh decoder for one stream. */
  createDecoder(options: DecoderOptions): FrameDecoder;
}
