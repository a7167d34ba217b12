/**
 * The errors a RUDP connection dies with, one builder per cause, so every message names the peer
 * and the limit. The I/O layer maps them to Node's conventions (ECONNREFUSED, ECONNRESET, ETIMEDOUT).
 *
 * Read first: RFC 9293 §3.10.7 (RST handling: refused vs reset), RFC 1122 §4.2.3.5 (R2: give up),
 * RFC 5482 (user timeout), RFC 1122 §4.2.3.6 (keepalive).
 */
import { ConnectionError, NetCodes, RudpCodes, TimeoutError } from '../errors.js';
import type { DatagramAddress } from './datagram-endpoint.js';

function name(peer: DatagramAddress): string {
  return `${peer.host}:${peer.port}`;
}

/** A RST answered our SYN (RFC 9293 §3.10.7.3). */
export function refusedError(peer: DatagramAddress): ConnectionError {
  return new ConnectionError(NetCodes.CONNECTION_REFUSED, 'refused', `RUDP connection to ${name(peer)} refused (RST)`);
}

/** The peer reset a synchronized connection (RFC 9293 §3.10.7.4). */
export function resetError(peer: DatagramAddress, handshake: boolean): ConnectionError {
  const what = handshake ? `handshake from ${name(peer)}` : `connection with ${name(peer)}`;
  return new ConnectionError(NetCodes.CONNECTION_RESET, 'reset', `RUDP ${what} reset by peer`);
}

/** The handshake did not complete within the connect timeout. */
export function connectTimeoutError(peer: DatagramAddress, timeoutMs: number): TimeoutError {
  return new TimeoutError('connect', timeoutMs, `RUDP handshake with ${name(peer)} timed out after ${timeoutMs} ms`);
}

/** RFC 1122 §4.2.3.5 R2: nothing was acknowledged through `count` retransmissions. */
export function tooManyRetransmissionsError(peer: DatagramAddress, count: number): ConnectionError {
  return new ConnectionError(RudpCodes.TOO_MANY_RETRANSMISSIONS, 'aborted', `RUDP peer ${name(peer)} acknowledged nothing after ${count} retransmissions`);
}

/** RFC 5482: sent data stayed unacknowledged longer than the user timeout. */
export function userTimeoutError(peer: DatagramAddress, timeoutMs: number): ConnectionError {
  return new ConnectionError(RudpCodes.USER_TIMEOUT, 'aborted', `RUDP data to ${name(peer)} stayed unacknowledged for ${timeoutMs} ms (user timeout)`);
}

/** RFC 1122 §4.2.3.6: the idle peer answered none of `probes` keepalive probes. */
export function keepaliveTimeoutError(peer: DatagramAddress, probes: number): ConnectionError {
  return new ConnectionError(RudpCodes.KEEPALIVE_TIMEOUT, 'aborted', `RUDP peer ${name(peer)} did not answer ${probes} keepalive probes`);
}
