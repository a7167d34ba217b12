/**
 * Runs a {@link Service} on sockets: a stream listener (kernel TCP or RUDP) or a UDP endpoint.
 * Services never bind sockets themselves; this is the code that does, for the CLI and the library.
 */
import { InvalidStateError } from '../errors.js';
import type { BoundAddress, StreamSocket, StreamTransport } from '../io/stream-transport.js';
import { UdpEndpoint } from '../udp/udp-endpoint.js';
import type { DatagramPeer, Service } from './types.js';

/** Default grace period of {@link RunningServer.close}. */
export const DEFAULT_SERVE_GRACE_MS = 5000;

/** A service bound to a socket. */
export interface RunningServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: BoundAddress;
  /** Open connections of the service (0 for datagram services without sessions). */
  readonly connectionCount: number;
  /** Stops accepting, lets the service finish its connections up to `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Options of {@link serveStream}. */
export interface ServeStreamOptions {
  transport: StreamTransport;
  /** Address to bind; default dual-stack `::`. */
  host?: string;
  port: number;
}

/** Options of {@link serveDatagram}. */
export interface ServeDatagramOptions {
  /** Address to bind; default dual-stack `::` (IPv4 senders appear as ::ffff:a.b.c.d). */
  host?: string;
  port: number;
  /** SO_RCVBUF in bytes. */
  recvBufferSize?: number;
}

/** Serves `service` over a stream transport: every accepted socket goes to `service.onConnection`. */
export async function serveStream(service: Service, opts: ServeStreamOptions): Promise<RunningServer> {
  const onConnection = service.onConnection;
  if (!onConnection) throw new InvalidStateError('serveStream: this service has no onConnection (it serves datagrams only; use serveDatagram)');
  const listener = await opts.transport.listen({ port: opts.port, ...(opts.host !== undefined ? { host: opts.host } : {}) });
  let closing: Promise<void> | undefined;
  listener.on('connection', (socket: StreamSocket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    try {
      onConnection.call(service, socket, opts.transport.name);
    } catch {
      // A service that throws for one connection loses that connection only.
      socket.destroy();
    }
  });
  // Errors of the listening socket after bind (rare: EMFILE on accept) must not crash the process.
  listener.on('error', () => undefined);
  return {
    address: listener.address,
    get connectionCount() {
      return service.connectionCount;
    },
    close(graceMs = DEFAULT_SERVE_GRACE_MS) {
      closing ??= (async () => {
        const listenerClosed = listener.close();
        await service.close(graceMs);
        await listenerClosed;
      })();
      return closing;
    },
  };
}

/** Serves `service` over UDP: every datagram goes to `service.onDatagram` with a way to reply. */
export async function serveDatagram(service: Service, opts: ServeDatagramOptions): Promise<RunningServer> {
  const onDatagram = service.onDatagram;
  if (!onDatagram) throw new InvalidStateError('serveDatagram: this service has no onDatagram (it serves streams only; use serveStream)');
  const endpoint = await UdpEndpoint.bind({
    port: opts.port,
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.recvBufferSize !== undefined ? { recvBufferSize: opts.recvBufferSize } : {}),
  });
  endpoint.on('message', (message: Buffer, rinfo) => {
    const peer: DatagramPeer = {
      address: rinfo.address,
      port: rinfo.port,
      family: rinfo.family,
      reply: (bytes) => endpoint.send(bytes, rinfo.port, rinfo.address),
    };
    try {
      onDatagram.call(service, message, peer);
    } catch {
      // One bad datagram never stops the service.
    }
  });
  endpoint.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    address: endpoint.address,
    get connectionCount() {
      return service.connectionCount;
    },
    close(graceMs = DEFAULT_SERVE_GRACE_MS) {
      closing ??= (async () => {
        await service.close(graceMs);
        await endpoint.close();
      })();
      return closing;
    },
  };
}
