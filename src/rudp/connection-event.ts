/**
 * The application-facing vocabulary of a RUDP connection: the events it reports and how the
 * endpoint creates it. RudpConnection lives in connection.ts (which re-exports these).
 *
 * Read first: RFC 9293 §3.9.1 (the user/TCP interface: OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS).
 */
import type { Instant } from '../core/time.js';
import type { SockitError } from '../errors.js';
import type { ResolvedRudpConfig } from './config.js';
import type { DatagramAddress } from './datagram-endpoint.js';
import type { RudpConnection } from './connection.js';

/** What a connection tells its application. Poll with {@link RudpConnection.pollEvent}. */
export type ConnectionEvent =
  /** The handshake completed (ESTABLISHED). */
  | { type: 'connected' }
  /** New bytes can be read with `read()`. */
  | { type: 'readable' }
  /** The send buffer has room again after `write()` accepted less than offered. */
  | { type: 'writable' }
  /** The peer sent FIN: after the bytes still readable, no more will come (half-close). */
  | { type: 'peer-closed' }
  /**
   * The connection is finished for the application: both directions closed cleanly (it may still
   * linger in TIME_WAIT inside the endpoint), or it died (`error`: reset, refused, timed out).
   * Bytes still buffered can be read after it.
   */
  | { type: 'closed'; error?: SockitError };

/** How the endpoint creates a connection. */
export interface ConnectionInit {
  /** Unique within the endpoint; shown in traces. */
  id: number;
  config: ResolvedRudpConfig;
  remote: DatagramAddress;
  /** Port fields of the TCP header (ours and the peer's). */
  localPort: number;
  remotePort: number;
  /** Our initial sequence number (RFC 6528). */
  iss: number;
  /** Offset added to our clock for TSval (RFC 7323 §5.4 recommends a random one per connection). */
  tsOffset: number;
  /** `active` sends a SYN (SYN_SENT); `passive` starts in LISTEN awaiting the peer's SYN. */
  open: 'active' | 'passive';
  now: Instant;
  /** Called whenever an event is queued (the endpoint uses it to find connections with events). */
  onEvent?: (connection: RudpConnection) => void;
}
