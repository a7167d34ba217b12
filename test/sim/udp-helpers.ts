/**
 * Plain-UDP helpers for the impair tests: sockets on 127.0.0.1 port 0, a collector of what arrives,
 * and a wait that polls a condition (with a safety timeout only, never a timing assertion).
 */
import dgram from 'node:dgram';
import { repoRoot } from '../support/repo-root.js';
export { repoRoot };

/** A bound UDP socket on 127.0.0.1 that records every datagram it receives. */
export interface Collector {
  socket: dgram.Socket;
  port: number;
  received: Array<{ bytes: Buffer; port: number }>;
  close(): Promise<void>;
}

/** Binds a collector; with `echo`, it sends each datagram straight back. */
export async function collector(echo = false): Promise<Collector> {
  const socket = dgram.createSocket('udp4');
  const received: Collector['received'] = [];
  socket.on('message', (msg, rinfo) => {
    received.push({ bytes: msg, port: rinfo.port });
    if (echo) socket.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    socket,
    port: socket.address().port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Sends `bytes` to 127.0.0.1:`port` and waits until the kernel took it. */
export function sendTo(socket: dgram.Socket, port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

/** A datagram numbered `i` (big-endian u32) padded to `sizeBytes`. */
export function numbered(i: number, sizeBytes = 32): Buffer {
  const b = Buffer.alloc(sizeBytes, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

/** Resolves once `condition()` holds; rejects after `safetyMs` (a hang guard, not a timing check). */
export async function waitFor(condition: () => boolean, what: string, safetyMs = 20_000): Promise<void> {
  const deadline = Date.now() + safetyMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

