import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventQueue } from '../../src/sim/event-queue.js';

test('events come out by time, and in insertion order among equal times', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
      const q = new EventQueue<number>();
      times.forEach((t, i) => q.push(t, i));
      const out: number[] = [];
      for (let e = q.pop(); e; e = q.pop()) out.push(e.value);
      // A stable sort of the insertion indices by time is exactly the promised order.
      const expected = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.i);
      assert.deepEqual(out, expected);
      assert.equal(q.size, 0);
    }),
  );
});

test('interleaved pushes and pops keep the order', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(-1)), { maxLength: 300 }), (ops) => {
      const q = new EventQueue<number>();
      const model: Array<{ t: number; i: number }> = [];
      ops.forEach((op, i) => {
        if (op >= 0) {
          q.push(op, i);
          model.push({ t: op, i });
        } else {
          model.sort((a, b) => a.t - b.t || a.i - b.i);
          const want = model.shift();
          const got = q.pop();
          assert.deepEqual(got && { t: got.atMs, i: got.value }, want);
        }
        assert.equal(q.peekTime(), model.length ? Math.min(...model.map((m) => m.t)) : undefined);
      });
    }),
  );
});
