/**
 * A UdpPort on node:dgram: one system call and one callback per datagram. Portable; the fallback
 * when the native port (native-udp-port.ts) is not built.
 *
 * Backpressure, connected socket (a client's): sends reach libuv at once; while its send queue is
 * empty a send completes synchronously and needs no callback (each costs a nextTick); once sends
 * queue up (the kernel's buffer is full) the callbacks tell us when it drains, and the port reports
 * itself blocked past MAX_QUEUED_SENDS.
 * Unconnected socket (a server's): each send first resolves its address on a later tick, so libuv's
 * queue does not see it yet; the port counts its own sends in flight (every send has a callback)
 * and reports itself blocked past MAX_IN_FLIGHT.
 */
import dgram from 'node:dgram';
import type { DatagramAddress } from '../rudp/datagram-endpoint.js';
import type { UdpPort, UdpPortBinding, UdpPortHandlers } from './udp-port.js';
import type { BoundAddress } from './stream-transport.js';

/** Stop taking datagrams while this many wait in libuv's send queue; resume below half. */
const MAX_QUEUED_SENDS = 64;
/** Unconnected: stop taking datagrams while this many sends have not completed; resume below half. */
const MAX_IN_FLIGHT = 256;

export async function openDgramPort(binding: UdpPortBinding, handlers: UdpPortHandlers): Promise<UdpPort> {
  const socket = dgram.createSocket({
    type: binding.type,
    ipv6Only: binding.ipv6Only ?? false,
    recvBufferSize: binding.recvBufferSize,
    sendBufferSize: binding.sendBufferSize,
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    const done = (): void => {
      socket.off('error', onError);
      resolve();
    };
    if (binding.peer) {
      // connect() binds an ephemeral port on the address that routes to the peer.
      socket.connect(binding.peer.port, binding.peer.host, done);
    } else {
      socket.bind({ address: binding.host ?? (binding.type === 'udp6' ? '::' : '0.0.0.0'), port: binding.port ?? 0, exclusive: true }, done);
    }
  });
  return new DgramPort(socket, handlers, binding.peer !== undefined);
}

class DgramPort implements UdpPort {
  readonly kind = 'dgram';
  readonly address: BoundAddress;
  readonly #socket: dgram.Socket;
  readonly #handlers: UdpPortHandlers;
  readonly #connected: boolean;
  #blocked = false;
  #inFlight = 0;
  #closed = false;
  #lastFrom: DatagramAddress | undefined;
  readonly #afterSend = (): void => this.#onSendComplete();
  readonly #afterUnconnectedSend = (): void => {
    this.#inFlight--;
    if (this.#blocked && this.#inFlight < MAX_IN_FLIGHT / 2) {
      this.#blocked = false;
      this.#handlers.writable();
    }
  };

  constructor(socket: dgram.Socket, handlers: UdpPortHandlers, connected: boolean) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#connected = connected;
    const a = socket.address();
    this.address = { host: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', (err) => handlers.error(err));
  }

  send(bytes: Uint8Array, to: DatagramAddress): boolean {
    const socket = this.#socket;
    if (!this.#connected) {
      this.#inFlight++;
      socket.send(bytes, to.port, to.host, this.#afterUnconnectedSend);
      if (this.#inFlight >= MAX_IN_FLIGHT) this.#blocked = true;
      return !this.#blocked;
    }
    const queued = socket.getSendQueueCount();
    socket.send(bytes, queued === 0 ? undefined : this.#afterSend);
    if (queued + 1 >= MAX_QUEUED_SENDS) this.#blocked = true;
    return !this.#blocked;
  }

  flush(): boolean {
    return !this.#blocked;
  }

  setRef(referenced: boolean): void {
    if (referenced) this.#socket.ref();
    else this.#socket.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let from = this.#lastFrom;
    // Bulk traffic comes from one peer at a time: reuse its address object instead of one per datagram.
    if (from === undefined || from.port !== rinfo.port || from.host !== rinfo.address) {
      from = { host: rinfo.address, port: rinfo.port };
      this.#lastFrom = from;
    }
    // A plain Uint8Array over the same bytes: the engine takes several views of each datagram, and
    // Buffer#subarray (a JS-level FastBuffer constructor) costs several times the built-in one.
    this.#handlers.datagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), from);
  }

  #onSendComplete(): void {
    if (this.#blocked && this.#socket.getSendQueueCount() < MAX_QUEUED_SENDS / 2) {
      this.#blocked = false;
      this.#handlers.writable();
    }
  }
}
