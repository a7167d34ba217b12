/**
 * Maps Node's system errors (ECONNREFUSED, EADDRINUSE, ...) to sockit errors with a stable code and
 * a message that says what failed and where. Used by every driver that touches a socket.
 */
import { ConnectionError, NetCodes, SockitError, TimeoutError, type ConnectionFailure, type SockitErrorCode } from '../errors.js';

interface SystemError {
  code?: string;
  syscall?: string;
  message?: string;
}

const TABLE: Record<string, [SockitErrorCode, ConnectionFailure, string]> = {
  ECONNREFUSED: [NetCodes.CONNECTION_REFUSED, 'refused', 'connection refused'],
  ECONNRESET: [NetCodes.CONNECTION_RESET, 'reset', 'connection reset by peer'],
  EPIPE: [NetCodes.CONNECTION_CLOSED, 'closed', 'connection closed by peer'],
  ECONNABORTED: [NetCodes.CONNECTION_ABORTED, 'aborted', 'connection aborted'],
  EHOSTUNREACH: [NetCodes.HOST_UNREACHABLE, 'unreachable', 'host unreachable'],
  ENETUNREACH: [NetCodes.HOST_UNREACHABLE, 'unreachable', 'network unreachable'],
  ENOTFOUND: [NetCodes.UNKNOWN_HOST, 'unknown-host', 'unknown host'],
  EAI_AGAIN: [NetCodes.UNKNOWN_HOST, 'unknown-host', 'host name lookup failed'],
  EADDRINUSE: [NetCodes.ADDRESS_IN_USE, 'address-in-use', 'address already in use'],
  EADDRNOTAVAIL: [NetCodes.ADDRESS_NOT_AVAILABLE, 'address-not-available', 'address not available on this machine'],
  EACCES: [NetCodes.PERMISSION_DENIED, 'permission-denied', 'permission denied'],
  EPERM: [NetCodes.PERMISSION_DENIED, 'permission-denied', 'operation not permitted'],
};

/**
 * Converts `err` (a Node system error or anything else) into a sockit error. `where` names the
 * operation and address, e.g. `connect to 127.0.0.1:9` or `listen on tcp [::]:80`.
 */
export function fromNodeError(err: unknown, where: string): SockitError {
  if (err instanceof SockitError) return err;
  const e = (err ?? {}) as SystemError;
  const row = e.code ? TABLE[e.code] : undefined;
  if (row) {
    const [code, reason, what] = row;
    return new ConnectionError(code, reason, `${where}: ${what}`, { cause: err });
  }
  if (e.code === 'ETIMEDOUT') return new TimeoutError('connect', 0, `${where}: timed out`, { cause: err });
  return new ConnectionError(NetCodes.CONNECTION_ABORTED, 'aborted', `${where}: ${e.message ?? String(err)}`, { cause: err });
}

/**
 * True when `err` (as {@link fromNodeError} made it) says this machine has no IPv6, so a default
 * dual-stack `::` bind should fall back to IPv4 only. Other failures (port in use) are real.
 */
export function isIpv6Unavailable(err: unknown): boolean {
  const code = ((err as { cause?: { code?: unknown } } | undefined)?.cause)?.code;
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL';
}

/** Formats host and port as `host:port`, bracketing IPv6 literals (`[::1]:80`). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A connected peer as logs name it. A connection reset before Node first asked for its address
 * has none left to give (getpeername fails): it is `unknown peer`, not `?:0`.
 */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  return address === undefined || port === undefined ? 'unknown peer' : formatHostPort(address, port);
}
