/**
 * Seeded pseudo-random numbers for the pure cores (simulator, ISN clocks in tests, jitter).
 *
 * The algorithm is xoshiro128** (Blackman and Vigna): fast, 128 bits of state, good statistical
 * quality, and exactly reproducible from a 32-bit seed, so a failing simulation replays from its seed.
 * Pure code never calls Math.random: it takes an Rng.
 */

/** A source of reproducible random numbers. */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
  /** A float uniformly distributed in [0, 1). */
  next(): number;
  /** An integer uniformly distributed in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p` (0..1). */
  chance(p: number): boolean;
  /** Fills `out` with random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Builds an {@link Rng} from a 32-bit seed; the same seed always gives the same sequence. */
export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    return result;
  };
  const next = (): number => nextU32() / 0x1_0000_0000;
  return {
    nextU32,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => p > 0 && next() < p,
    fill: (out) => {
      for (let i = 0; i < out.length; i++) out[i] = nextU32() & 0xff;
      return out;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
