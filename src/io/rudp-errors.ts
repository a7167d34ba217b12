/**
 * How RUDP connection failures look to a Node program: the engine reports a sockit error on its
 * `closed` event (ConnectionError with `reason` reset/refused/…, or TimeoutError); the socket emits
 * it with the operation and address in the message and, as `cause`, a Node-style system error
 * carrying the `code` net.Socket would have used (ECONNRESET, ECONNREFUSED, ETIMEDOUT, …), so code
 * written for net keeps working when it inspects `err.cause.code`.
 */
import { ConnectionError, NetCodes, SockitError, TimeoutError, type ConnectionFailure } from '../errors.js';

const NODE_CODE_BY_REASON: Record<ConnectionFailure, string> = {
  refused: 'ECONNREFUSED',
  reset: 'ECONNRESET',
  closed: 'EPIPE',
  aborted: 'ECONNABORTED',
  unreachable: 'EHOSTUNREACH',
  'unknown-host': 'ENOTFOUND',
  'address-in-use': 'EADDRINUSE',
  'address-not-available': 'EADDRNOTAVAIL',
  'permission-denied': 'EACCES',
};

/** The net.Socket error code for a sockit error (ETIMEDOUT for timeouts), if there is one. */
export function nodeCodeOf(err: SockitError): string | undefined {
  if (err instanceof ConnectionError) return NODE_CODE_BY_REASON[err.reason];
  if (err instanceof TimeoutError) return 'ETIMEDOUT';
  return undefined;
}

function systemError(code: string, syscall: string, message: string, cause: unknown): NodeJS.ErrnoException {
  const e = new Error(`${syscall} ${code}: ${message}`, { cause }) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  return e;
}

/** The error a RUDP socket emits for the engine's `err`; `where` is e.g. `rudp connection to 127.0.0.1:9000`. */
export function toSocketError(err: SockitError, where: string, syscall: 'connect' | 'read'): SockitError {
  const code = nodeCodeOf(err);
  const cause = code === undefined ? err : systemError(code, syscall, err.message, err);
  const message = `${where}: ${err.message}`;
  if (err instanceof TimeoutError) return new TimeoutError(err.phase, err.timeoutMs, message, { cause });
  if (err instanceof ConnectionError) return new ConnectionError(err.code, err.reason, message, { cause });
  return new SockitError(err.code, message, { cause });
}

/**
 * ICMP port unreachable answered our SYN: nothing is bound to the peer's UDP port. The message
 * names no peer: the socket that reports it adds `rudp connection to HOST:PORT` (toSocketError).
 */
export function refusedByIcmp(icmp: Error): ConnectionError {
  return new ConnectionError(NetCodes.CONNECTION_REFUSED, 'refused', 'connection refused (nothing listens on that UDP port)', {
    cause: systemError('ECONNREFUSED', 'connect', 'port unreachable', icmp),
  });
}
