/**
 * `connect()` for RUDP, shaped like net.connect: returns a {@link RudpSocket} at once, which emits
 * `'connect'` when the three-way handshake completes or `'error'` when it fails.
 *
 * Each client connection gets its own UDP socket on an ephemeral port (as a kernel TCP socket gets
 * an ephemeral port), connected to the peer: sends skip the per-datagram address lookup, and an ICMP
 * port-unreachable answer to our SYN surfaces at once as ECONNREFUSED.
 *
 * Read first: Node's net.connect docs (the shape), src/io/rudp-driver.ts.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkPort } from './check-port.js';
import { fromNodeError, formatHostPort } from './node-errors.js';
import { RudpDriver, type RudpOptions } from './rudp-driver.js';
import { RudpSocket, type RudpSocketOptions } from './rudp-socket.js';

/** Options of {@link connect}. */
export interface RudpConnectOptions extends RudpOptions, RudpSocketOptions {
  port: number;
  /** Host name or address (default `localhost`). */
  host?: string;
  /** Give up the handshake after this long (the engine's connect timeout; TimeoutError, phase `connect`). */
  timeoutMs?: number;
  /** Address family to resolve a host name to. */
  family?: 4 | 6;
}

/**
 * Opens a RUDP connection; listen for `'connect'` and `'error'` on the returned socket. A port
 * outside 1–65535 throws SockitError `ERR_SOCKIT_INVALID_ARGUMENT` at once (net throws too).
 */
export function connect(options: RudpConnectOptions, connectListener?: () => void): RudpSocket;
export function connect(port: number, host?: string, connectListener?: () => void): RudpSocket;
export function connect(
  optionsOrPort: RudpConnectOptions | number,
  hostOrListener?: string | (() => void),
  maybeListener?: () => void,
): RudpSocket {
  const options: RudpConnectOptions =
    typeof optionsOrPort === 'number'
      ? { port: optionsOrPort, ...(typeof hostOrListener === 'string' ? { host: hostOrListener } : {}) }
      : optionsOrPort;
  const listener = typeof hostOrListener === 'function' ? hostOrListener : maybeListener;
  // The UDP socket would wrap 70000 to 4464 and send the SYN there.
  checkPort(options.port, `rudp connect to ${formatHostPort(options.host ?? 'localhost', options.port)}`, false);
  const socket = new RudpSocket(options);
  if (listener) socket.once('connect', listener);
  open(socket, options).catch((err: unknown) => {
    socket.destroy(fromNodeError(err, `rudp connect to ${formatHostPort(options.host ?? 'localhost', options.port)}`));
  });
  return socket;
}

async function open(socket: RudpSocket, options: RudpConnectOptions): Promise<void> {
  const host = options.host ?? 'localhost';
  let address = host;
  let family = isIP(host);
  if (family === 0) {
    const found = await lookup(host, options.family === undefined ? {} : { family: options.family });
    address = found.address;
    family = found.family;
  }
  const engine = options.timeoutMs === undefined ? options.engine : { ...options.engine, connectTimeoutMs: options.timeoutMs };
  const driver = await RudpDriver.bind(
    { type: family === 6 ? 'udp6' : 'udp4', peer: { host: address, port: options.port } },
    { ...options, ...(engine === undefined ? {} : { engine }) },
  );
  if (socket.destroyed) {
    driver.destroy();
    return;
  }
  socket.attach(driver, driver.connect({ host: address, port: options.port }, socket.handler), false, true);
}
