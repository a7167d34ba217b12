/**
 * Simple datagram endpoints that exercise the simulator without the RUDP engine: a sender that emits
 * numbered datagrams on a schedule (using its own timer, as an engine would), and a recorder that
 * logs what arrives and can echo it back.
 */
import type { DatagramAddress, DatagramEndpoint, Transmit } from '../../src/rudp/datagram-endpoint.js';
import type { Instant } from '../../src/core/time.js';

/** One datagram as a receiver saw it. */
export interface Arrival {
  atMs: Instant;
  bytes: Uint8Array;
  from: DatagramAddress;
}

/** Reads the 32-bit index a {@link ScheduledSender} wrote at the start of a datagram. */
export function indexOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/** Sends `count` datagrams of `sizeBytes` to `to`, the i-th (0-based) at `startMs + i·intervalMs`. */
export class ScheduledSender implements DatagramEndpoint {
  readonly received: Arrival[] = [];
  readonly sent: Array<{ atMs: Instant; bytes: Uint8Array }> = [];
  readonly #to: DatagramAddress;
  readonly #count: number;
  readonly #intervalMs: number;
  readonly #sizeBytes: (i: number) => number;
  readonly #startMs: number;
  #next = 0;
  #outbox: Transmit[] = [];

  constructor(to: DatagramAddress, count: number, intervalMs: number, sizeBytes: number | ((i: number) => number), startMs = 0) {
    this.#to = to;
    this.#count = count;
    this.#intervalMs = intervalMs;
    this.#sizeBytes = typeof sizeBytes === 'number' ? () => sizeBytes : sizeBytes;
    this.#startMs = startMs;
  }

  handleDatagram(now: Instant, bytes: Uint8Array, from: DatagramAddress): void {
    this.received.push({ atMs: now, bytes, from });
  }

  handleTimeout(now: Instant): void {
    while (this.#next < this.#count && this.#startMs + this.#next * this.#intervalMs <= now) {
      const bytes = new Uint8Array(Math.max(4, this.#sizeBytes(this.#next)));
      new DataView(bytes.buffer).setUint32(0, this.#next);
      for (let i = 4; i < bytes.length; i++) bytes[i] = (this.#next + i) & 0xff;
      this.sent.push({ atMs: now, bytes: bytes.slice() });
      this.#outbox.push({ to: this.#to, bytes });
      this.#next++;
    }
  }

  pollTransmit(): Transmit | undefined {
    return this.#outbox.shift();
  }

  pollTimeout(): Instant | undefined {
    return this.#next < this.#count ? this.#startMs + this.#next * this.#intervalMs : undefined;
  }
}

/** Logs every datagram that arrives; with `echo`, sends each one straight back to its sender. */
export class Recorder implements DatagramEndpoint {
  readonly received: Arrival[] = [];
  readonly #echo: boolean;
  #outbox: Transmit[] = [];

  constructor(echo = false) {
    this.#echo = echo;
  }

  handleDatagram(now: Instant, bytes: Uint8Array, from: DatagramAddress): void {
    this.received.push({ atMs: now, bytes, from });
    if (this.#echo) this.#outbox.push({ to: from, bytes });
  }

  handleTimeout(): void {}

  pollTransmit(): Transmit | undefined {
    return this.#outbox.shift();
  }

  pollTimeout(): Instant | undefined {
    return undefined;
  }
}
