// The growable buffer behind `lines`: appends in pieces, hands bytes over once, respects its cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrowableBuffer } from '../../src/core/growable-buffer.js';
import { InvalidStateError } from '../../src/errors.js';

test('appended pieces come out whole, in order, across several growths', () => {
  const grow = new GrowableBuffer(10_000);
  const expected: number[] = [];
  for (let i = 0; i < 40; i++) {
    const piece = Buffer.alloc(100, i);
    grow.append(piece, 10, 100);
    expected.push(...piece.subarray(10));
  }
  assert.equal(grow.length, 3600);
  assert.equal(grow.lastByte(), 39);
  assert.deepEqual([...grow.take()], expected);
  assert.equal(grow.length, 0);
  assert.equal(grow.lastByte(), -1);
});

test('take() hands the bytes over: later appends never overwrite a taken buffer', () => {
  const grow = new GrowableBuffer(100);
  grow.append(Buffer.from('first'), 0, 5);
  const first = grow.take();
  grow.append(Buffer.from('SECOND'), 0, 6);
  assert.equal(first.toString(), 'first');
  assert.equal(grow.take().toString(), 'SECOND');
  assert.equal(grow.take().length, 0);
});

test('appending past the cap is refused and keeps what was held', () => {
  const grow = new GrowableBuffer(8);
  grow.append(Buffer.from('12345678'), 0, 8);
  assert.throws(() => grow.append(Buffer.from('9'), 0, 1), InvalidStateError);
  assert.equal(grow.take().toString(), '12345678');
});
