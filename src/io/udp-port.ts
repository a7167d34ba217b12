/**
 * The UDP socket under a RUDP driver, whichever way it is implemented:
 *   - native (src/io/native-udp-port.ts): Linux, batched system calls (recvmmsg/sendmmsg) with UDP
 *     GRO/GSO, built from native/udp_batch.c at install time;
 *   - dgram (src/io/dgram-udp-port.ts): node:dgram, one system call and callback per datagram;
 *     everywhere, and the fallback when the native part is not built.
 * `openUdpPort` picks native when it loaded, unless SOCKIT_UDP_IO=dgram (or the `io` option) says
 * otherwise. Both deliver the same datagrams; only the cost per datagram differs.
 */
import type { DatagramAddress } from '../rudp/datagram-endpoint.js';
import type { BoundAddress } from './stream-transport.js';
import { openDgramPort } from './dgram-udp-port.js';
import { loadNativeUdp, openNativePort } from './native-udp-port.js';

/** Which implementation to use: 'auto' (native when built), 'native' (fail if not built) or 'dgram'. */
export type UdpIoKind = 'auto' | 'native' | 'dgram';

/** Where a port binds, and whether it is a client's (connected to one peer). */
export interface UdpPortBinding {
  type: 'udp4' | 'udp6';
  /** Local address to bind ('::' or '0.0.0.0' for any). Ignored when `peer` is given. */
  host?: string;
  /** Local port (0 for any). */
  port?: number;
  ipv6Only?: boolean;
  /** Connect the socket to this one peer (no per-send address, ICMP errors reported). */
  peer?: DatagramAddress;
  recvBufferSize: number;
  sendBufferSize: number;
}

/** What a port reports to its owner. */
export interface UdpPortHandlers {
  /** One datagram. The bytes are the receiver's to keep (never reused by the port). */
  datagram(bytes: Uint8Array, from: DatagramAddress): void;
  /** The port was blocked (send returned false) and can take datagrams again. */
  writable(): void;
  /** A socket error: ECONNREFUSED after an ICMP port unreachable, or a failed send. */
  error(err: NodeJS.ErrnoException): void;
}

/** A bound UDP socket that sends and receives whole datagrams. */
export interface UdpPort {
  readonly kind: 'native' | 'dgram';
  readonly address: BoundAddress;
  /**
   * Takes one datagram (the port may copy or queue it; the caller must not change the bytes). Returns
   * false when the kernel's buffer is full: send no more until `writable`. The datagram is kept.
   */
  send(bytes: Uint8Array, to: DatagramAddress): boolean;
  /** Hands queued datagrams to the kernel (call after a round of sends). False while blocked. */
  flush(): boolean;
  /** Whether the port keeps the process alive. */
  setRef(referenced: boolean): void;
  close(): void;
}

/** Which implementation `auto` resolves to in this process ('native' when the addon loaded). */
export function defaultUdpIo(): 'native' | 'dgram' {
  const forced = process.env['SOCKIT_UDP_IO'];
  if (forced === 'dgram') return 'dgram';
  return loadNativeUdp() ? 'native' : 'dgram';
}

/** Binds a UDP port of the requested kind. */
export async function openUdpPort(binding: UdpPortBinding, handlers: UdpPortHandlers, io: UdpIoKind = 'auto'): Promise<UdpPort> {
  const kind = io === 'auto' ? defaultUdpIo() : io;
  if (kind === 'native') return openNativePort(binding, handlers);
  return openDgramPort(binding, handlers);
}
