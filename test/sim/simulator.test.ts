import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulator, type SimEvent } from '../../src/sim/simulator.js';
import type { LinkImpairments } from '../../src/sim/impairments.js';
import type { DatagramEndpoint } from '../../src/rudp/datagram-endpoint.js';
import { InvalidStateError } from '../../src/errors.js';
import { ScheduledSender, Recorder, indexOf } from './endpoints.js';

const A = { host: '10.0.0.1', port: 1000 };
const B = { host: '10.0.0.2', port: 2000 };

/** A sender at A streaming `count` datagrams (one per ms) to an echoing recorder at B. */
function pair(seed: number, link: LinkImpairments, count = 1000, echo = false) {
  const sim = new Simulator({ seed });
  const sender = new ScheduledSender(B, count, 1, 200);
  const receiver = new Recorder(echo);
  sim.addNode(A, sender);
  sim.addNode(B, receiver);
  sim.connect(A, B, link);
  return { sim, sender, receiver };
}

const lossy: LinkImpairments = { delayMs: 20, jitterMs: 8, loss: 0.05, duplicate: 0.02, reorder: 0.05, corrupt: 0.01, rateBitsPerSec: 1_000_000, queueBytes: 4000 };

test('the same seed replays the same run exactly; another seed does not', () => {
  const runs = [5, 5, 6].map((seed) => {
    const { sim, receiver } = pair(seed, lossy);
    sim.runUntilIdle(60_000);
    return receiver.received.map((r) => `${r.atMs}:${Buffer.from(r.bytes).toString('hex')}`).join(',');
  });
  assert.equal(runs[0], runs[1]);
  assert.notEqual(runs[0], runs[2]);
});

test('a fixed delay keeps order and adds exactly that delay', () => {
  const { sim, sender, receiver } = pair(1, { delayMs: 25 }, 500);
  assert.equal(sim.runUntilIdle(10_000), true);
  assert.deepEqual(receiver.received.map((r) => indexOf(r.bytes)), sender.sent.map((s) => indexOf(s.bytes)));
  receiver.received.forEach((r, i) => assert.equal(r.atMs, sender.sent[i]!.atMs + 25));
  assert.deepEqual(receiver.received[0]!.from, A);
});

test('datagrams due at the same instant arrive in the order they were sent', () => {
  const sim = new Simulator({ seed: 1 });
  // A zero interval puts every datagram at t=0: one burst.
  sim.addNode(A, new ScheduledSender(B, 100, 0, 50));
  const receiver = new Recorder();
  sim.addNode(B, receiver);
  sim.connect(A, B, { delayMs: 10 });
  sim.runUntilIdle(1000);
  assert.deepEqual(receiver.received.map((r) => indexOf(r.bytes)), Array.from({ length: 100 }, (_, i) => i));
  assert.ok(receiver.received.every((r) => r.atMs === 10));
});

test('jitter and reordering deliver everything, some of it out of order', () => {
  const { sim, receiver } = pair(3, { delayMs: 10, jitterMs: 5, reorder: 0.1 }, 1000);
  sim.runUntilIdle(10_000);
  const order = receiver.received.map((r) => indexOf(r.bytes));
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  let inversions = 0;
  for (let i = 1; i < order.length; i++) if (order[i]! < order[i - 1]!) inversions++;
  assert.ok(inversions > 50, `only ${inversions} datagrams overtaken`);
});

test('counters add up: every datagram offered is delivered, dropped by a cause, or duplicated', () => {
  const { sim, receiver } = pair(8, lossy, 3000);
  sim.runUntilIdle(60_000);
  const c = sim.link(A, B).counters;
  const dropped = Object.values(c.dropped).reduce((a, b) => a + b, 0);
  assert.equal(c.sent, 3000);
  assert.equal(c.delivered, receiver.received.length);
  assert.equal(c.delivered + dropped, c.sent + c.duplicated);
  assert.ok(c.dropped.loss > 0 && c.dropped.queue > 0 && c.duplicated > 0 && c.corrupted > 0 && c.reordered > 0, JSON.stringify(c));
  assert.equal(sim.inFlight, 0);
});

test('an echo round trip takes the sum of both one-way delays', () => {
  const sim = new Simulator({ seed: 1 });
  const sender = new ScheduledSender(B, 10, 100, 64);
  sim.addNode(A, sender);
  sim.addNode(B, new Recorder(true));
  sim.connect(A, B, { delayMs: 30 }, { delayMs: 12 });
  sim.runUntilIdle(10_000);
  assert.equal(sender.received.length, 10);
  sender.received.forEach((r, i) => {
    assert.equal(r.atMs, sender.sent[i]!.atMs + 42);
    assert.deepEqual(r.bytes, sender.sent[i]!.bytes);
  });
});

test('run(untilMs) stops the clock there; runUntil stops when the predicate holds', () => {
  const { sim, receiver } = pair(1, { delayMs: 5 }, 100);
  sim.run(50);
  assert.equal(sim.now, 50);
  assert.equal(receiver.received.length, 46);
  assert.equal(sim.runUntil(() => receiver.received.length >= 80, 10_000), true);
  assert.equal(sim.now, 84);
  assert.equal(sim.runUntil(() => receiver.received.length > 100, 10_000), false);
  assert.equal(sim.isIdle(), true);
});

test('minutes of simulated time run without a real timer', () => {
  // One datagram a second for ten minutes, echoed back through a 20 ms link each way.
  const sim = new Simulator({ seed: 2 });
  const sender = new ScheduledSender(B, 600, 1000, 100);
  sim.addNode(A, sender);
  sim.addNode(B, new Recorder(true));
  sim.connect(A, B, { delayMs: 20 });
  assert.equal(sim.runUntilIdle(3_600_000), true);
  assert.equal(sender.received.length, 600);
  assert.equal(sim.now, 599_000 + 40);
});

test('datagrams to an address nobody owns are counted, and an observer sees every fate', () => {
  const sim = new Simulator({ seed: 4, defaultLink: { loss: 0.5 } });
  const events: SimEvent[] = [];
  sim.observe((e) => events.push(e));
  sim.addNode(A, new ScheduledSender({ host: '10.9.9.9', port: 9 }, 200, 1, 20));
  sim.runUntilIdle(10_000);
  const dropped = events.filter((e) => e.kind === 'dropped');
  assert.equal(events.filter((e) => e.kind === 'sent').length, 200);
  assert.equal(dropped.length, 200);
  assert.equal(sim.unroutable, dropped.filter((e) => e.kind === 'dropped' && e.cause === 'unroutable').length);
  assert.ok(sim.unroutable > 50 && sim.unroutable < 150);
});

test('an endpoint that never clears its timer is reported as a livelock, not a hang', () => {
  const stuck: DatagramEndpoint = {
    handleDatagram() {},
    handleTimeout() {},
    pollTransmit: () => undefined,
    pollTimeout: () => 5,
  };
  const sim = new Simulator({ seed: 1, maxStepsPerInstant: 1000 });
  sim.addNode(A, stuck);
  assert.throws(() => sim.runUntilIdle(1000), (err) => err instanceof InvalidStateError && /no progress/.test(err.message) && /10\.0\.0\.1:1000 wants t=5/.test(err.message));
  assert.deepEqual(sim.pendingTimers(), [{ address: A, atMs: 5 }]);
});

test('two endpoints cannot share an address', () => {
  const sim = new Simulator({ seed: 1 });
  sim.addNode(A, new Recorder());
  assert.throws(() => sim.addNode({ ...A }, new Recorder()), InvalidStateError);
});
