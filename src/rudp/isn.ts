/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * with M a 4-microsecond clock and F SipHash-2-4 (a keyed pseudorandom function) of the 4-tuple.
 *
 * Read first: RFC 6528 §3 (the algorithm), RFC 9293 §3.4.1 (why ISNs follow a clock), Aumasson and
 * Bernstein, "SipHash: a fast short-input PRF" (2012) for the function.
 *
 * Pure: the clock reading (`now`) and the key are parameters. SipHash here works on BigInt; it runs
 * once per connection, where clarity beats speed.
 */
import type { Instant } from '../core/time.js';
import type { DatagramAddress } from './datagram-endpoint.js';

const MASK64 = (1n << 64n) - 1n;

function rotl64(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK64;
}

function readU64le(bytes: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i] ?? 0);
  return v;
}

/** SipHash-2-4 of `message` under the 16-byte `key`, as an unsigned 64-bit BigInt. */
export function sipHash24(key: Uint8Array, message: Uint8Array): bigint {
  if (key.length !== 16) throw new RangeError(`SipHash needs a 16-byte key, got ${key.length} bytes`);
  const k0 = readU64le(key, 0);
  const k1 = readU64le(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK64; v1 = rotl64(v1, 13n); v1 ^= v0; v0 = rotl64(v0, 32n);
    v2 = (v2 + v3) & MASK64; v3 = rotl64(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & MASK64; v3 = rotl64(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & MASK64; v1 = rotl64(v1, 17n); v1 ^= v2; v2 = rotl64(v2, 32n);
  };
  const fullBlocks = message.length - (message.length % 8);
  for (let i = 0; i < fullBlocks; i += 8) {
    const m = readU64le(message, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  // Last block: remaining bytes, zero-padded, with the message length (mod 256) in the top byte.
  let last = BigInt(message.length & 0xff) << 56n;
  for (let i = 0; i < message.length - fullBlocks; i++) last |= BigInt(message[fullBlocks + i]!) << BigInt(8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK64;
}

/** RFC 6528 §3 / RFC 9293 §3.4.1: M ticks every 4 microseconds. */
export const ISN_CLOCK_TICKS_PER_MS = 250;

/**
 * The RFC 6528 initial sequence number for a connection from `local` (port field `localPort`) to
 * `remote` (port field `remotePort`) at `now`, under `key`.
 */
export function initialSequenceNumber(
  key: Uint8Array,
  now: Instant,
  local: DatagramAddress,
  localPort: number,
  remote: DatagramAddress,
  remotePort: number,
): number {
  const tuple = `${local.host}|${local.port}|${localPort}|${remote.host}|${remote.port}|${remotePort}`;
  const f = Number(sipHash24(key, new TextEncoder().encode(tuple)) & 0xffffffffn);
  const m = Math.floor(now * ISN_CLOCK_TICKS_PER_MS) % 0x1_0000_0000;
  return (m + f) >>> 0;
}
