/**
 * Kernel TCP as a StreamTransport, over node:net.
 *
 * Every socket is half-open capable (`allowHalfOpen: true`): the peer's FIN ends our readable side
 * but we may still write a reply, as the seeds' four-way close allows. Listening on the default
 * host binds `::` dual-stack (IPv4 clients appear as ::ffff:a.b.c.d), falling back to 0.0.0.0 on a
 * machine without IPv6.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { TimeoutError } from '../errors.js';
import { fromNodeError, formatHostPort, isIpv6Unavailable } from './node-errors.js';
import { checkPort } from './check-port.js';
import type { BoundAddress, ConnectOptions, ListenOptions, StreamListener, StreamSocket, StreamTransport } from './stream-transport.js';

class TcpListener extends EventEmitter implements StreamListener {
  readonly #server: net.Server;
  readonly address: BoundAddress;

  constructor(server: net.Server) {
    super();
    this.#server = server;
    const a = server.address() as net.AddressInfo;
    this.address = { host: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    server.on('connection', (socket) => this.emit('connection', socket));
    server.on('error', (err) => this.emit('error', fromNodeError(err, `tcp listener ${formatHostPort(this.address.host, this.address.port)}`)));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
    });
  }
}

function listenOn(options: ListenOptions, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    const onError = (err: Error): void => {
      server.close();
      reject(fromNodeError(err, `listen on tcp ${formatHostPort(host, options.port)}`));
    };
    server.once('error', onError);
    server.listen({ host, port: options.port, ipv6Only: options.ipv6Only ?? false, backlog: options.backlog ?? 511 }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

async function listen(options: ListenOptions): Promise<StreamListener> {
  checkPort(options.port, 'listen on tcp', true);
  if (options.host !== undefined) return new TcpListener(await listenOn(options, options.host));
  try {
    return new TcpListener(await listenOn(options, '::'));
  } catch (err) {
    // No IPv6 on this machine: fall back to IPv4 only.
    if (!isIpv6Unavailable(err)) throw err;
    return new TcpListener(await listenOn(options, '0.0.0.0'));
  }
}

function connect(options: ConnectOptions): Promise<StreamSocket> {
  const where = `connect to ${formatHostPort(options.host, options.port)}`;
  return new Promise((resolve, reject) => {
    checkPort(options.port, where, false);
    const socket = net.connect({ host: options.host, port: options.port, allowHalfOpen: true, noDelay: true });
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => fail(fromNodeError(err, where));
    const onConnect = (): void => {
      cleanup();
      resolve(socket as StreamSocket);
    };
    const onAbort = (): void => fail(fromNodeError(options.signal?.reason ?? new Error('aborted'), where));
    socket.once('error', onError);
    socket.once('connect', onConnect);
    if (options.signal) {
      if (options.signal.aborted) return onAbort();
      options.signal.addEventListener('abort', onAbort, { once: true });
    }
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      const ms = options.timeoutMs;
      timer = setTimeout(() => fail(new TimeoutError('connect', ms, `${where}: no answer within ${ms} ms`)), ms);
    }
  });
}

/** Kernel TCP (node:net) as a {@link StreamTransport}. */
export const tcpTransport: StreamTransport = { name: 'tcp', listen, connect };
