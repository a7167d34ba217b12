// The running SHA-256 of a received file, on the hashing thread or on the main thread: the same
// digest as node:crypto over the same bytes, whether the bytes sit in the shared block arena or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createFileHash } from '../../src/transfer/file-hash.js';
import { giveBackBlock, takeBlock, sharedArena } from '../../src/transfer/write-blocks.js';

for (const offThread of [true, false]) {
  test(`${offThread ? 'hashing thread' : 'main thread'}: digest, peek and ordering match node:crypto`, async () => {
    const data = randomBytes(5 * 1024 * 1024 + 321);
    const reference = createHash('sha256');
    const hash = createFileHash(offThread);
    const blocks: Buffer[] = [];
    const pending: Array<Promise<void> | undefined> = [];
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = Math.min(i % 2 === 0 ? 1024 * 1024 : 333_333, data.length - at);
      // Alternate between blocks of the shared arena and plain heap bytes.
      const bytes = i % 2 === 0 ? takeBlock().subarray(0, n) : Buffer.from(data.subarray(at, at + n));
      if (i % 2 === 0) {
        data.copy(bytes, 0, at, at + n);
        blocks.push(bytes);
      }
      pending.push(hash.update(bytes));
      reference.update(data.subarray(at, at + n));
      at += n;
      if (i === 3) assert.equal(await hash.peek(), reference.copy().digest('hex'));
    }
    await Promise.all(pending);
    for (const b of blocks) giveBackBlock(b);
    assert.equal(await hash.digest(), reference.digest('hex'));
  });
}

test('the block arena is shared memory the hashing thread can read in place', () => {
  assert.ok(sharedArena() instanceof SharedArrayBuffer);
  const block = takeBlock();
  assert.equal(block.buffer, sharedArena());
  giveBackBlock(block);
});
