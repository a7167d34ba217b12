/**
 * A UdpPort on sockit's native batched UDP I/O (native/udp_batch.c, Linux): datagrams arrive by the
 * batch from recvmmsg(2), and with UDP_GRO the kernel may hand over many equal-sized datagrams from
 * one sender as one buffer, which we cut back into datagrams here; datagrams leave by the batch
 * through sendmmsg(2), runs of equal-sized datagrams to one address as one UDP_SEGMENT (GSO) message.
 * What reaches the wire is the same datagrams node:dgram would send: GSO and GRO change only how
 * many times they cross between JavaScript, the kernel and its network stack.
 *
 * Read first: udp-port.ts (the contract), native/udp_batch.c (the calls), Linux udp(7), and the
 * same technique in quinn-udp and quiche.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { DatagramAddress } from '../rudp/datagram-endpoint.js';
import type { BoundAddress } from './stream-transport.js';
import type { UdpPort, UdpPortBinding, UdpPortHandlers } from './udp-port.js';
import { addonLoadError, loadAddon } from './native-addon.js';

type Handle = object;
interface NativeUdp {
  open(family: 4 | 6, host: string, port: number, ipv6Only: boolean, rcvbuf: number, sndbuf: number, onEvent: (kind: number, value: number) => void): Handle;
  connect(handle: Handle, host: string, port: number): void;
  address(handle: Handle): [string, number, 4 | 6, 0 | 1];
  attachReceive(handle: Handle, arena: Uint8Array, slotBytes: number, meta: Int32Array, addrs: string[]): number;
  send(handle: Handle, arena: Uint8Array, meta: Int32Array, count: number, port: number, host: string | null): number;
  watchWritable(handle: Handle): void;
  setRef(handle: Handle, referenced: boolean): void;
  close(handle: Handle): void;
}

const EVENT_READ = 1;
const EVENT_WRITABLE = 2;
const EVENT_ERROR = 3;

/** Receive slots: one recvmmsg fills up to this many, each up to a GRO buffer (64 KiB). */
const RECEIVE_SLOTS = 32;
const RECEIVE_SLOT_BYTES = 65_536;
/** One sendmmsg takes at most this many messages (native MAX_SEND). */
const MAX_MESSAGES = 64;
/** Queued outgoing bytes per port before a flush. */
const SEND_ARENA_BYTES = 256 * 1024;
/** A GSO message carries at most this many datagrams (the kernel's UDP_MAX_SEGMENTS) and bytes. */
const MAX_GSO_SEGMENTS = 64;
const MAX_GSO_BYTES = 65_000;

/** The native module, or undefined when it is not built for this platform (the reason: nativeUdpLoadError()). */
export function loadNativeUdp(): NativeUdp | undefined {
  return loadAddon<NativeUdp>('sockit_udp', 'batched UDP I/O');
}

/** Why the native module did not load (undefined when it did, or was not tried yet). */
export function nativeUdpLoadError(): Error | undefined {
  return addonLoadError('sockit_udp');
}

// One receive area for every port of the process: a batch is copied out before the callback returns.
let shared: { arena: Uint8Array; meta: Int32Array; addrs: string[] } | undefined;

function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  const code = Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? `E${errno}`;
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

const EAGAIN = osConstants.errno.EAGAIN;
const EINVAL = osConstants.errno.EINVAL;
const EIO = osConstants.errno.EIO;
const EMSGSIZE = osConstants.errno.EMSGSIZE;

export async function openNativePort(binding: UdpPortBinding, handlers: UdpPortHandlers): Promise<UdpPort> {
  const native = loadNativeUdp();
  if (!native) throw new Error(`sockit's native UDP I/O is not available: ${nativeUdpLoadError()?.message ?? 'not built'}`);
  const family = binding.type === 'udp6' ? 6 : 4;
  let peer = binding.peer;
  if (peer && isIP(peer.host) === 0) peer = { host: (await lookup(peer.host, { family })).address, port: peer.port };
  const any = family === 6 ? '::' : '0.0.0.0';
  const port = new NativePort(native, handlers);
  const host = peer ? any : binding.host ?? any;
  port.open(family, host, peer ? 0 : binding.port ?? 0, binding.ipv6Only ?? false, binding.recvBufferSize, binding.sendBufferSize, peer);
  return port;
}

interface Queued {
  bytes: Uint8Array;
  to: DatagramAddress;
}

class NativePort implements UdpPort {
  readonly kind = 'native';
  address!: BoundAddress;
  readonly #native: NativeUdp;
  readonly #handlers: UdpPortHandlers;
  #handle: Handle | undefined;
  #connected = false;
  #lastFrom: DatagramAddress | undefined;
  // Outgoing batch: messages [offset, length, segment size] in #meta, bytes in #arena, one destination.
  #arena: Uint8Array | undefined;
  readonly #meta = new Int32Array(MAX_MESSAGES * 3);
  #count = 0;
  #used = 0;
  #dest: DatagramAddress | undefined;
  // The last message is a GSO run that may grow: its datagram size, and how many it holds.
  #runSegment = 0;
  #runSegments = 0;
  #runOpen = false;
  #gso = true;
  #blocked = false;
  // Datagrams taken while blocked with a full batch or for another destination.
  readonly #overflow: Queued[] = [];
  #closed = false;

  constructor(native: NativeUdp, handlers: UdpPortHandlers) {
    this.#native = native;
    this.#handlers = handlers;
  }

  open(family: 4 | 6, host: string, port: number, ipv6Only: boolean, rcvbuf: number, sndbuf: number, peer: DatagramAddress | undefined): void {
    const native = this.#native;
    const handle = native.open(family, host, port, ipv6Only, rcvbuf, sndbuf, (kind, value) => this.#onEvent(kind, value));
    try {
      if (peer) {
        native.connect(handle, peer.host, peer.port);
        this.#connected = true;
      }
      const [address, boundPort, boundFamily] = native.address(handle);
      this.address = { host: address, port: boundPort, family: boundFamily === 6 ? 'IPv6' : 'IPv4' };
      shared ??= { arena: new Uint8Array(RECEIVE_SLOTS * RECEIVE_SLOT_BYTES), meta: new Int32Array(RECEIVE_SLOTS * 4), addrs: new Array<string>(RECEIVE_SLOTS).fill('') };
      native.attachReceive(handle, shared.arena, RECEIVE_SLOT_BYTES, shared.meta, shared.addrs);
    } catch (err) {
      native.close(handle);
      throw err;
    }
    this.#handle = handle;
  }

  send(bytes: Uint8Array, to: DatagramAddress): boolean {
    if (this.#closed) return false;
    if (this.#overflow.length > 0 || !this.#fits(bytes.length, to)) {
      if (!this.#blocked) this.flush();
      if (this.#blocked || this.#overflow.length > 0) {
        this.#overflow.push({ bytes, to });
        return false;
      }
    }
    this.#append(bytes, to);
    return !this.#blocked;
  }

  flush(): boolean {
    if (this.#closed) return false;
    while (!this.#blocked) {
      if (this.#count > 0) this.#sendBatch();
      if (this.#blocked || this.#overflow.length === 0) break;
      // Move overflow into the (now empty) batch.
      while (this.#overflow.length > 0) {
        const next = this.#overflow[0]!;
        if (!this.#fits(next.bytes.length, next.to)) break;
        this.#overflow.shift();
        this.#append(next.bytes, next.to);
      }
    }
    return !this.#blocked;
  }

  setRef(referenced: boolean): void {
    if (this.#handle) this.#native.setRef(this.#handle, referenced);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#handle) this.#native.close(this.#handle);
    this.#overflow.length = 0;
  }

  /** Whether a datagram of `length` bytes to `to` can join the current batch. */
  #fits(length: number, to: DatagramAddress): boolean {
    if (this.#count === 0) return true;
    if (!this.#connected && (to.port !== this.#dest!.port || to.host !== this.#dest!.host)) return false;
    if (this.#used + length > SEND_ARENA_BYTES) return false;
    return this.#count < MAX_MESSAGES || this.#canExtendRun(length);
  }

  #canExtendRun(length: number): boolean {
    // An empty datagram cannot ride in a GSO run (it would vanish into the previous one).
    if (!this.#gso || !this.#runOpen || length === 0) return false;
    const m = (this.#count - 1) * 3;
    return length <= this.#runSegment && this.#runSegments < MAX_GSO_SEGMENTS && this.#meta[m + 1]! + length <= MAX_GSO_BYTES;
  }

  #append(bytes: Uint8Array, to: DatagramAddress): void {
    this.#arena ??= new Uint8Array(SEND_ARENA_BYTES);
    if (this.#count === 0) {
      this.#dest = to;
      this.#used = 0;
    }
    const offset = this.#used;
    this.#arena.set(bytes, offset);
    this.#used += bytes.length;
    const meta = this.#meta;
    if (this.#canExtendRun(bytes.length)) {
      const m = (this.#count - 1) * 3;
      meta[m + 1] = meta[m + 1]! + bytes.length;
      this.#runSegments++;
      // A shorter datagram ends a GSO run: only the last one may be short.
      if (bytes.length < this.#runSegment) this.#runOpen = false;
      return;
    }
    const m = this.#count * 3;
    meta[m] = offset;
    meta[m + 1] = bytes.length;
    meta[m + 2] = bytes.length;
    this.#count++;
    this.#runSegment = bytes.length;
    this.#runSegments = 1;
    this.#runOpen = true;
  }

  #sendBatch(): void {
    const native = this.#native;
    const dest = this.#dest!;
    const host = this.#connected ? null : dest.host;
    while (this.#count > 0) {
      const n = native.send(this.#handle!, this.#arena!, this.#meta, this.#count, dest.port, host);
      if (n === -EAGAIN) {
        this.#blocked = true;
        native.watchWritable(this.#handle!);
        return;
      }
      if (n < 0) {
        if ((n === -EINVAL || n === -EIO || n === -EMSGSIZE) && this.#gso && this.#meta[2]! < this.#meta[1]!) {
          // The first message is a GSO run and this path cannot segment it (no UDP_SEGMENT, a
          // device without checksum offload, or datagrams larger than the MTU allows for GSO, where
          // plain sends are fragmented by IP): send datagram by datagram from now on.
          this.#gso = false;
          this.#splitRuns();
          continue;
        }
        // The first message failed (e.g. ECONNREFUSED after an ICMP error): UDP loses it, the
        // protocol above retransmits; report it and go on with the rest.
        this.#drop(1);
        this.#handlers.error(errnoError(-n, 'sendmmsg'));
        continue;
      }
      this.#drop(n);
      if (this.#count > 0) {
        this.#blocked = true;
        native.watchWritable(this.#handle!);
        return;
      }
    }
    this.#used = 0;
    this.#runOpen = false;
  }

  /** Re-queues every GSO message of the batch as single datagrams (after GSO failed). */
  #splitRuns(): void {
    const pieces: Queued[] = [];
    const meta = this.#meta;
    const arena = this.#arena!;
    const dest = this.#dest!;
    for (let k = 0; k < this.#count; k++) {
      const offset = meta[k * 3]!;
      const length = meta[k * 3 + 1]!;
      const segment = meta[k * 3 + 2]!;
      for (let o = 0; o < length; o += segment) pieces.push({ bytes: arena.slice(offset + o, offset + Math.min(o + segment, length)), to: dest });
    }
    this.#count = 0;
    this.#used = 0;
    this.#runOpen = false;
    this.#overflow.unshift(...pieces);
    while (this.#overflow.length > 0 && this.#fits(this.#overflow[0]!.bytes.length, this.#overflow[0]!.to)) {
      const next = this.#overflow.shift()!;
      this.#append(next.bytes, next.to);
    }
  }

  /** Forgets the first `n` messages of the batch (the kernel took them). */
  #drop(n: number): void {
    if (n >= this.#count) {
      this.#count = 0;
      return;
    }
    this.#meta.copyWithin(0, n * 3, this.#count * 3);
    this.#count -= n;
  }

  #onEvent(kind: number, value: number): void {
    if (this.#closed) return;
    if (kind === EVENT_READ) this.#onRead(value);
    else if (kind === EVENT_WRITABLE) {
      this.#blocked = false;
      if (this.flush()) this.#handlers.writable();
    } else if (kind === EVENT_ERROR) this.#handlers.error(errnoError(-value, 'recvmmsg'));
  }

  #onRead(count: number): void {
    const { arena, meta, addrs } = shared!;
    const handlers = this.#handlers;
    for (let i = 0; i < count; i++) {
      const length = meta[i * 4]!;
      const segment = meta[i * 4 + 1]!;
      let from = this.#lastFrom;
      if (meta[i * 4 + 3] === 1 || from === undefined) {
        from = { host: addrs[i]!, port: meta[i * 4 + 2]! };
        this.#lastFrom = from;
      }
      // A copy of its own: the engine keeps views of what it receives, and the slots are reused.
      const start = i * RECEIVE_SLOT_BYTES;
      const bytes = arena.slice(start, start + length);
      if (segment > 0 && segment < length) {
        for (let o = 0; o < length && !this.#closed; o += segment) handlers.datagram(bytes.subarray(o, Math.min(o + segment, length)), from);
      } else {
        handlers.datagram(bytes, from);
      }
      if (this.#closed) return;
    }
  }
}
