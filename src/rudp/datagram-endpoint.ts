/**
 * The contract between anything that speaks in datagrams on a virtual or real network and the code
 * that moves those datagrams: the simulator (src/sim) and the UDP driver (src/io/rudp-driver.ts).
 *
 * It is sans-IO: the endpoint never touches a socket, a clock or a timer. The driver loops:
 * deliver datagrams with `handleDatagram`, fire `handleTimeout` when `pollTimeout()` is due, and
 * send everything `pollTransmit` yields. Time never goes backwards; a spurious timeout is a no-op.
 */
import type { Instant } from '../core/time.js';

/** A UDP address. */
export interface DatagramAddress {
  host: string;
  port: number;
}

/** A datagram to send. */
export interface Transmit {
  to: DatagramAddress;
  /** The datagram; the endpoint never writes to these bytes again, so a driver may queue them. */
  bytes: Uint8Array;
}

/** Anything a datagram driver (simulator or UDP socket) can run. */
export interface DatagramEndpoint {
  /** A datagram arrived from `from` at `now`. The endpoint may keep views of `bytes`: do not reuse them. */
  handleDatagram(now: Instant, bytes: Uint8Array, from: DatagramAddress): void;
  /** The deadline from `pollTimeout()` passed (or may have): run timers due at `now`. */
  handleTimeout(now: Instant): void;
  /** The next datagram to send, or undefined when there is nothing to send now. */
  pollTransmit(now: Instant): Transmit | undefined;
  /** The earliest instant at which `handleTimeout` must run, or undefined when no timer is armed. */
  pollTimeout(): Instant | undefined;
}
