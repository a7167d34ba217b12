/**
 * One error hierarchy for all of sockit.
 *
 * Every error sockit throws or emits is a {@link SockitError} with a stable string `code`
 * (`ERR_SOCKIT_*`, each listed in docs/errors.md). Subclasses name the failure mode:
 *
 * - {@link ProtocolError}: the peer broke a protocol (bad header, truncated frame, bad hash).
 * - {@link LimitExceededError}: a size or count limit was hit; checked as soon as a length is known.
 * - {@link InvalidStateError}: the caller used an object wrongly (thrown synchronously).
 * - {@link ConnectionError}: the connection failed or died (`reason` says how).
 * - {@link TimeoutError}: something took too long (`phase` says what).
 * - {@link UsageError}: a command line was wrong (exit code 2).
 * - {@link FileTransferError}: a file transfer was refused or failed (path, space, exists, ...).
 *
 * Codes are grouped by area below. Add a code to its area's object and to docs/errors.md together.
 */

/** Codes of the framing codecs and of message connections. */
export const FramingCodes = {
  FRAME_TOO_LARGE: 'ERR_SOCKIT_FRAME_TOO_LARGE',
  LINE_TOO_LONG: 'ERR_SOCKIT_LINE_TOO_LONG',
  NEGATIVE_LENGTH: 'ERR_SOCKIT_NEGATIVE_LENGTH',
  BAD_VARINT: 'ERR_SOCKIT_BAD_VARINT',
  TRUNCATED_FRAME: 'ERR_SOCKIT_TRUNCATED_FRAME',
  UNKNOWN_FRAMING: 'ERR_SOCKIT_UNKNOWN_FRAMING',
  NEWLINE_IN_PAYLOAD: 'ERR_SOCKIT_NEWLINE_IN_PAYLOAD',
  UNKNOWN_ENCODING: 'ERR_SOCKIT_UNKNOWN_ENCODING',
} as const;

/** Codes of the TCP, UDP and transport layers. */
export const NetCodes = {
  CONNECTION_REFUSED: 'ERR_SOCKIT_CONNECTION_REFUSED',
  CONNECTION_RESET: 'ERR_SOCKIT_CONNECTION_RESET',
  CONNECTION_CLOSED: 'ERR_SOCKIT_CONNECTION_CLOSED',
  CONNECTION_ABORTED: 'ERR_SOCKIT_CONNECTION_ABORTED',
  HOST_UNREACHABLE: 'ERR_SOCKIT_HOST_UNREACHABLE',
  UNKNOWN_HOST: 'ERR_SOCKIT_UNKNOWN_HOST',
  ADDRESS_IN_USE: 'ERR_SOCKIT_ADDRESS_IN_USE',
  ADDRESS_NOT_AVAILABLE: 'ERR_SOCKIT_ADDRESS_NOT_AVAILABLE',
  PERMISSION_DENIED: 'ERR_SOCKIT_PERMISSION_DENIED',
  DATAGRAM_TOO_LARGE: 'ERR_SOCKIT_DATAGRAM_TOO_LARGE',
  TIMEOUT: 'ERR_SOCKIT_TIMEOUT',
  TOO_MANY_CONNECTIONS: 'ERR_SOCKIT_TOO_MANY_CONNECTIONS',
  INVALID_STATE: 'ERR_SOCKIT_INVALID_STATE',
  INVALID_ARGUMENT: 'ERR_SOCKIT_INVALID_ARGUMENT',
} as const;

/** Codes of file transfer (classic and sockit protocols). */
export const FileCodes = {
  FORBIDDEN_PATH: 'ERR_SOCKIT_FORBIDDEN_PATH',
  FILE_EXISTS: 'ERR_SOCKIT_FILE_EXISTS',
  FILE_TOO_LARGE: 'ERR_SOCKIT_FILE_TOO_LARGE',
  NO_SPACE: 'ERR_SOCKIT_NO_SPACE',
  BAD_HASH: 'ERR_SOCKIT_BAD_HASH',
  SHORT_TRANSFER: 'ERR_SOCKIT_SHORT_TRANSFER',
  NOT_FOUND: 'ERR_SOCKIT_NOT_FOUND',
  READ_ONLY: 'ERR_SOCKIT_READ_ONLY',
  BAD_HEADER: 'ERR_SOCKIT_BAD_HEADER',
  UNSUPPORTED_VERSION: 'ERR_SOCKIT_UNSUPPORTED_VERSION',
} as const;

/** Codes of the chat service. */
export const ChatCodes = {
  NICK_IN_USE: 'ERR_SOCKIT_NICK_IN_USE',
  BAD_NICK: 'ERR_SOCKIT_BAD_NICK',
  SEND_QUEUE_EXCEEDED: 'ERR_SOCKIT_SEND_QUEUE_EXCEEDED',
  FLOOD: 'ERR_SOCKIT_FLOOD',
  SERVER_FULL: 'ERR_SOCKIT_SERVER_FULL',
  INVALID_UTF8: 'ERR_SOCKIT_INVALID_UTF8',
  LINE_TOO_LONG: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG',
  UNKNOWN_COMMAND: 'ERR_SOCKIT_UNKNOWN_COMMAND',
  NO_SUCH_NICK: 'ERR_SOCKIT_NO_SUCH_NICK',
  BAD_ROOM: 'ERR_SOCKIT_BAD_ROOM',
  NOT_IN_ROOM: 'ERR_SOCKIT_NOT_IN_ROOM',
  TOO_MANY_ROOMS: 'ERR_SOCKIT_TOO_MANY_ROOMS',
  NOT_REGISTERED: 'ERR_SOCKIT_NOT_REGISTERED',
  PING_TIMEOUT: 'ERR_SOCKIT_PING_TIMEOUT',
  SERVER_SHUTDOWN: 'ERR_SOCKIT_SERVER_SHUTDOWN',
  BAD_LAN_MESSAGE: 'ERR_SOCKIT_BAD_LAN_MESSAGE',
} as const;

/** Codes of the RUDP transport (TCP's mechanisms over UDP). */
export const RudpCodes = {
  BAD_SEGMENT: 'ERR_SOCKIT_RUDP_BAD_SEGMENT',
  BAD_CHECKSUM: 'ERR_SOCKIT_RUDP_BAD_CHECKSUM',
  TOO_MANY_RETRANSMISSIONS: 'ERR_SOCKIT_RUDP_TOO_MANY_RETRANSMISSIONS',
  USER_TIMEOUT: 'ERR_SOCKIT_RUDP_USER_TIMEOUT',
  KEEPALIVE_TIMEOUT: 'ERR_SOCKIT_RUDP_KEEPALIVE_TIMEOUT',
} as const;

/** Codes of the command line. */
export const CliCodes = {
  USAGE: 'ERR_SOCKIT_USAGE',
  DEMO_CHECK_FAILED: 'ERR_SOCKIT_DEMO_CHECK_FAILED',
} as const;

type ValueOf<T> = T[keyof T];

/** Every stable code sockit uses. */
export type SockitErrorCode =
  | ValueOf<typeof FramingCodes>
  | ValueOf<typeof NetCodes>
  | ValueOf<typeof FileCodes>
  | ValueOf<typeof ChatCodes>
  | ValueOf<typeof RudpCodes>
  | ValueOf<typeof CliCodes>;

/** Options common to every sockit error. */
export interface SockitErrorOptions {
  /** The lower-level error this one explains (a Node system error, say). */
  cause?: unknown;
}

/** Base of every error sockit raises. `code` is stable; `message` is for people. */
export class SockitError extends Error {
  override name = 'SockitError';
  readonly code: SockitErrorCode;

  constructor(code: SockitErrorCode, message: string, options: SockitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** The peer broke a protocol: malformed header, truncated frame, bad hash, unexpected message. */
export class ProtocolError extends SockitError {
  override name = 'ProtocolError';
}

/** A size or count limit was exceeded. `limit` is the configured maximum, `actual` what was seen. */
export class LimitExceededError extends SockitError {
  override name = 'LimitExceededError';
  readonly limit: number;
  readonly actual: number;

  constructor(code: SockitErrorCode, message: string, limit: number, actual: number, options: SockitErrorOptions = {}) {
    super(code, message, options);
    this.limit = limit;
    this.actual = actual;
  }
}

/** The caller used an object in a state that does not allow it (write after end, say). */
export class InvalidStateError extends SockitError {
  override name = 'InvalidStateError';

  constructor(message: string, options: SockitErrorOptions = {}) {
    super(NetCodes.INVALID_STATE, message, options);
  }
}

/** How a connection failed or died. */
export type ConnectionFailure =
  | 'refused'
  | 'reset'
  | 'closed'
  | 'aborted'
  | 'unreachable'
  | 'unknown-host'
  | 'address-in-use'
  | 'address-not-available'
  | 'permission-denied';

/** A connection could not be made or died. `reason` names how. */
export class ConnectionError extends SockitError {
  override name = 'ConnectionError';
  readonly reason: ConnectionFailure;

  constructor(code: SockitErrorCode, reason: ConnectionFailure, message: string, options: SockitErrorOptions = {}) {
    super(code, message, options);
    this.reason = reason;
  }
}

/** What was being waited for when a timeout fired. */
export type TimeoutPhase = 'connect' | 'idle' | 'handshake' | 'reply' | 'transfer' | 'close';

/** Something took longer than allowed. `phase` names what, `timeoutMs` the limit. */
export class TimeoutError extends SockitError {
  override name = 'TimeoutError';
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;

  constructor(phase: TimeoutPhase, timeoutMs: number, message: string, options: SockitErrorOptions = {}) {
    super(NetCodes.TIMEOUT, message, options);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** A command line was malformed. The CLI exits with status 2. */
export class UsageError extends SockitError {
  override name = 'UsageError';

  constructor(message: string, options: SockitErrorOptions = {}) {
    super(CliCodes.USAGE, message, options);
  }
}

/** A file transfer was refused or failed; `code` is one of {@link FileCodes}. */
export class FileTransferError extends SockitError {
  override name = 'FileTransferError';
}

/** True when `err` is a sockit error (optionally with the given code). */
export function isSockitError(err: unknown, code?: SockitErrorCode): err is SockitError {
  return err instanceof SockitError && (code === undefined || err.code === code);
}
