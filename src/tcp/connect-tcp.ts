/**
 * Opens a framed message connection to a server (kernel TCP by default, or any StreamTransport).
 *
 * Read first: RFC 9293 §3.5 (the three-way handshake) and Node's `net.connect`.
 */
import type { StreamTransport } from '../io/stream-transport.js';
import { tcpTransport } from '../io/tcp-transport.js';
import { MessageConnection, checkMessageConnectionOptions, type MessageConnectionOptions } from './message-connection.js';

/** Options of {@link connectTcp}. */
export interface ConnectTcpOptions extends MessageConnectionOptions {
  /** The transport to connect over; default kernel TCP. */
  transport?: StreamTransport;
  /** Host name or address of the server. */
  host: string;
  /** Port of the server. */
  port: number;
  /** Give up connecting after this long: TimeoutError, phase `connect`. */
  timeoutMs?: number;
  /** Abort the connection attempt. */
  signal?: AbortSignal;
}

/**
 * Connects and wraps the socket in a {@link MessageConnection} (Nagle off by default, for
 * request/reply). Bad connection options are refused before connecting. Rejects with ConnectionError (`ERR_SOCKIT_CONNECTION_REFUSED`,
 * `ERR_SOCKIT_UNKNOWN_HOST`, `ERR_SOCKIT_HOST_UNREACHABLE`, ...) or TimeoutError.
 */
export async function connectTcp(options: ConnectTcpOptions): Promise<MessageConnection> {
  checkMessageConnectionOptions(options);
  const transport = options.transport ?? tcpTransport;
  const socket = await transport.connect({
    host: options.host,
    port: options.port,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  return new MessageConnection(socket, options);
}
