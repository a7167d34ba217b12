/**
 * Seeded sweeps of whole RUDP connections over the simulator (see sweep-harness.ts): 8 families ×
 * 150 seeds in the normal suite; with SOCKIT_SOAK=1 (npm run test:soak) 8 × 1000 other seeds with
 * four times the payload (up to 480 kB each way). A failure prints each failing seed with every
 * parameter; to replay one with the trace of both ends and of the network:
 *   SOCKIT_SWEEP_SEED=17 SOCKIT_SWEEP_FAMILY=loss npx tsx --test test/rudp/sweep.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILIES, describeScenario, drawScenario, runScenario, type Family } from './sweep-harness.js';

const SOAK = process.env.SOCKIT_SOAK === '1';
const SEEDS_PER_FAMILY = SOAK ? 1000 : 150;
const FIRST_SEED = SOAK ? 1_000_000 : 1;
const PAYLOAD_SCALE = SOAK ? 4 : 1;
const REPLAY_SEED = process.env.SOCKIT_SWEEP_SEED;
const REPLAY_FAMILY = (process.env.SOCKIT_SWEEP_FAMILY ?? 'loss') as Family;

if (REPLAY_SEED !== undefined) {
  test(`replay seed ${REPLAY_SEED} of family ${REPLAY_FAMILY} with its trace`, () => {
    const scenario = drawScenario(Number(REPLAY_SEED), REPLAY_FAMILY, Number(process.env.SOCKIT_SWEEP_SCALE ?? 1));
    const lines: string[] = [];
    const outcome = runScenario(scenario, (line) => lines.push(line));
    process.stderr.write(`${describeScenario(scenario)}\n${lines.join('\n')}\n${outcome.summary}\n`);
    assert.deepEqual(outcome.problems, []);
  });
} else {
  for (const family of FAMILIES) {
    test(`${SEEDS_PER_FAMILY} seeds of ${family}: every byte once and in order, both ends CLOSED, no timer left`, () => {
      const failures: string[] = [];
      let retransmissions = 0;
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS_PER_FAMILY; seed++) {
        const scenario = drawScenario(seed, family, PAYLOAD_SCALE);
        const outcome = runScenario(scenario);
        retransmissions += outcome.retransmissions;
        if (outcome.problems.length > 0) {
          failures.push(`${describeScenario(scenario)}\n    ${outcome.problems.join('\n    ')}\n    ${outcome.summary}`);
        }
      }
      assert.equal(failures.length, 0, `${failures.length} of ${SEEDS_PER_FAMILY} seeds failed; replay one with SOCKIT_SWEEP_SEED=<seed> SOCKIT_SWEEP_FAMILY=${family}${SOAK ? ` SOCKIT_SWEEP_SCALE=${PAYLOAD_SCALE}` : ''}:\n${failures.slice(0, 5).join('\n')}`);
      // The impairments must actually have bitten: a sweep where nothing was ever retransmitted
      // would prove nothing about recovery.
      assert.ok(retransmissions > 0, 'no retransmission in the whole family');
    });
  }
}
