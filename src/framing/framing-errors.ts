/**
 * The errors every framing raises, built in one place so codes and messages stay uniform.
 *
 * Each message says what happened, in which framing, which limit applied and what to do about it,
 * because a person reading `sockit: ...` on a terminal has nothing else to go on.
 */
import { FramingCodes, LimitExceededError, NetCodes, ProtocolError, SockitError } from '../errors.js';
import type { FramingName } from './types.js';

/** A declared frame length (or a payload to encode) is larger than the limit allows. */
export function frameTooLarge(framing: FramingName, limitBytes: number, actualBytes: number): LimitExceededError {
  return new LimitExceededError(
    FramingCodes.FRAME_TOO_LARGE,
    `${framing} frame of ${actualBytes} bytes exceeds the limit of ${limitBytes} bytes (maxFrameBytes); ` +
      'raise maxFrameBytes if such frames are expected, or check that both ends use the same framing ' +
      '(text read as a length header looks like a huge length)',
    limitBytes,
    actualBytes,
  );
}

/** A payload too large for the header of its framing to describe (len16 above 65535, say). */
export function payloadTooLargeToEncode(framing: FramingName, limitBytes: number, actualBytes: number): LimitExceededError {
  return new LimitExceededError(
    FramingCodes.FRAME_TOO_LARGE,
    `cannot encode a ${actualBytes}-byte message in ${framing} framing: its header holds at most ${limitBytes} bytes; ` +
      'split the message or use a framing with a wider length (len32, varint)',
    limitBytes,
    actualBytes,
  );
}

/** A line grew past the limit without a newline. */
export function lineTooLong(limitBytes: number, actualBytes: number): LimitExceededError {
  return new LimitExceededError(
    FramingCodes.LINE_TOO_LONG,
    `lines framing: ${actualBytes} bytes arrived without a newline, more than the limit of ${limitBytes} bytes (maxFrameBytes); ` +
      'raise maxFrameBytes if such lines are expected, or check that the peer really sends newline-terminated text',
    limitBytes,
    actualBytes,
  );
}

/** A signed length header (len32le) carried a negative value. */
export function negativeLength(framing: FramingName, length: number): ProtocolError {
  return new ProtocolError(
    FramingCodes.NEGATIVE_LENGTH,
    `${framing} frame header declares a negative length (${length}); the peer is not speaking ${framing} ` +
      '(check the framing and byte order on both ends)',
  );
}

/** A varint length longer than 5 bytes or larger than 2^32 - 1. */
export function badVarint(detail: string): ProtocolError {
  return new ProtocolError(
    FramingCodes.BAD_VARINT,
    `varint frame header is malformed: ${detail}; lengths are unsigned LEB128 of at most 5 bytes (values up to 4294967295)`,
  );
}

/** The stream ended inside a frame. `frameIndex` counts from 0 (the frames decoded before it). */
export function truncatedFrame(framing: FramingName, frameIndex: number, detail: string): ProtocolError {
  return new ProtocolError(
    FramingCodes.TRUNCATED_FRAME,
    `${framing} stream ended inside frame #${frameIndex} (after ${frameIndex} whole frames): ${detail}; ` +
      'the peer closed mid-message or does not speak this framing',
  );
}

/** A payload containing LF cannot be one line. */
export function newlineInPayload(index: number): ProtocolError {
  return new ProtocolError(
    FramingCodes.NEWLINE_IN_PAYLOAD,
    `lines framing cannot encode a message containing a newline (LF at byte ${index}); ` +
      'send each line as its own message or use a length-prefixed framing (len32, varint)',
  );
}

/** A name that is not one of the framings sockit knows. */
export function unknownFraming(name: string, known: readonly string[]): SockitError {
  return new SockitError(FramingCodes.UNKNOWN_FRAMING, `unknown framing '${name}': use one of ${known.join(', ')}`);
}

/** A decoder option out of range (a negative or fractional maxFrameBytes, say). */
export function badMaxFrameBytes(value: unknown): SockitError {
  return new SockitError(
    NetCodes.INVALID_ARGUMENT,
    `maxFrameBytes must be a non-negative safe integer, got ${String(value)}`,
  );
}
