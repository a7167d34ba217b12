import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { ImpairedLink, type LinkImpairments, type Verdict } from '../../src/sim/impairments.js';
import { isSockitError, NetCodes } from '../../src/errors.js';

function offerMany(config: LinkImpairments, count: number, seed = 7, sizeBytes = 100): Verdict[] {
  const link = new ImpairedLink(config, createRng(seed));
  const out: Verdict[] = [];
  for (let i = 0; i < count; i++) out.push(link.offer(i, new Uint8Array(sizeBytes).fill(i & 0xff)));
  return out;
}

/** Asserts `observed` lies within 5 standard deviations of a binomial(n, p) mean. */
function assertBinomial(observed: number, n: number, p: number, what: string): void {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(observed - mean) <= 5 * sd, `${what}: ${observed} of ${n}, expected ${mean.toFixed(0)} ± ${(5 * sd).toFixed(0)}`);
}

test('random loss drops close to the configured fraction, at several seeds', () => {
  for (const seed of [1, 2, 3]) {
    for (const p of [0.01, 0.05, 0.2]) {
      const verdicts = offerMany({ loss: p }, 20_000, seed);
      const lost = verdicts.filter((v) => v.kind === 'dropped' && v.cause === 'loss').length;
      assertBinomial(lost, 20_000, p, `loss ${p} seed ${seed}`);
    }
  }
});

test('Gilbert-Elliott loss comes in bursts at the stationary rate p/(p+r)', () => {
  const n = 50_000;
  const verdicts = offerMany({ burst: { pGoodToBad: 0.01, pBadToGood: 0.25 } }, n, 11);
  const lost = verdicts.map((v) => v.kind === 'dropped');
  const rate = lost.filter(Boolean).length / n;
  const stationary = 0.01 / (0.01 + 0.25);
  assert.ok(Math.abs(rate - stationary) < 0.01, `burst loss rate ${rate} vs ${stationary}`);
  // Mean length of a run of consecutive losses is 1/r = 4 for this channel; independent loss at the
  // same rate would give about 1.04.
  let runs = 0;
  for (let i = 0; i < n; i++) if (lost[i] && !lost[i - 1]) runs++;
  const meanRun = lost.filter(Boolean).length / runs;
  assert.ok(meanRun > 3 && meanRun < 5, `mean loss run ${meanRun}`);
});

test('duplication makes a second copy at the configured rate; 100% doubles everything', () => {
  const all = offerMany({ duplicate: 1 }, 100);
  assert.ok(all.every((v) => v.kind === 'deliver' && v.copies.length === 2));
  const some = offerMany({ duplicate: 0.3 }, 10_000, 5);
  const doubled = some.filter((v) => v.kind === 'deliver' && v.copies.length === 2).length;
  assertBinomial(doubled, 10_000, 0.3, 'duplicate 0.3');
});

test('corruption flips exactly one bit of a private copy and leaves the sender bytes alone', () => {
  const link = new ImpairedLink({ corrupt: 1 }, createRng(3));
  for (let i = 0; i < 200; i++) {
    const sent = new Uint8Array(64).fill(0x5a);
    const v = link.offer(i, sent);
    assert.equal(v.kind, 'deliver');
    if (v.kind !== 'deliver') continue;
    assert.ok(sent.every((b) => b === 0x5a), 'the offered buffer is not modified');
    let flipped = 0;
    for (let j = 0; j < 64; j++) {
      let x = v.copies[0]!.bytes[j]! ^ 0x5a;
      while (x) {
        flipped += x & 1;
        x >>= 1;
      }
    }
    assert.equal(flipped, 1);
  }
  assert.equal(link.counters.corrupted, 200);
});

test('jitter keeps every delay within delay ± jitter', () => {
  const link = new ImpairedLink({ delayMs: 30, jitterMs: 10 }, createRng(9));
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < 5000; i++) {
    const v = link.offer(i, new Uint8Array(10));
    assert.equal(v.kind, 'deliver');
    if (v.kind !== 'deliver') continue;
    const d = v.copies[0]!.atMs - i;
    min = Math.min(min, d);
    max = Math.max(max, d);
  }
  assert.ok(min >= 20 && max <= 40, `delays in [${min}, ${max}]`);
  assert.ok(min < 21 && max > 39, 'the whole jitter range is used');
});

test('the bandwidth queue serialises at the link rate and drops the tail when full', () => {
  // 1 Mbit/s moves 125 bytes per ms, so a 1000-byte datagram takes 8 ms; a 10,000-byte queue holds
  // ten of them, counting the one on the wire.
  const link = new ImpairedLink({ rateBitsPerSec: 1_000_000, queueBytes: 10_000 }, createRng(1));
  const verdicts = Array.from({ length: 50 }, () => link.offer(0, new Uint8Array(1000)));
  const accepted = verdicts.filter((v) => v.kind === 'deliver');
  assert.equal(accepted.length, 10);
  assert.deepEqual(
    accepted.map((v) => (v.kind === 'deliver' ? v.copies[0]!.atMs : -1)),
    Array.from({ length: 10 }, (_, i) => 8 * (i + 1)),
  );
  assert.equal(link.counters.dropped.queue, 40);
  // Once the queue has drained half-way, there is room again.
  assert.equal(link.queuedBytes(40), 5000);
  assert.equal(link.offer(40, new Uint8Array(1000)).kind, 'deliver');
});

test('MTU drops only oversize datagrams; dropNth drops exactly the chosen ones', () => {
  const link = new ImpairedLink({ mtuBytes: 1200, dropNth: [2, 5] }, createRng(1));
  const sizes = [1200, 100, 1201, 1500, 800, 10];
  const kinds = sizes.map((s, i) => {
    const v = link.offer(i, new Uint8Array(s));
    return v.kind === 'dropped' ? v.cause : 'deliver';
  });
  assert.deepEqual(kinds, ['deliver', 'scripted', 'mtu', 'mtu', 'scripted', 'deliver']);
  assert.equal(link.counters.dropped.mtu, 2);
  assert.equal(link.counters.dropped.scripted, 2);
});

test('out-of-range settings are refused with a clear error', () => {
  for (const bad of [{ loss: 1.5 }, { delayMs: -1 }, { rateBitsPerSec: 0 }, { mtuBytes: 0.5 }, { dropNth: [0] }, { burst: { pGoodToBad: 2, pBadToGood: 0 } }]) {
    assert.throws(() => new ImpairedLink(bad, createRng(1)), (err) => isSockitError(err, NetCodes.INVALID_ARGUMENT) && /link impairment/.test(err.message));
  }
});
