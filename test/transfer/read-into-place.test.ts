// A large file's DATA bytes are read from the kernel straight into the receiver's write blocks
// (src/io/read-into.ts, FrameChannel's DataTarget, src/transfer/block-gatherer.ts). Over real
// loopback TCP, whatever the chunking on the wire and however late the receiver names the target,
// every file must come out byte for byte, and no byte of one file may land in another's blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { readInto } from '../../src/io/read-into.js';
import { FrameChannel } from '../../src/transfer/frame-channel.js';
import { BlockGatherer, type GatheredBlock } from '../../src/transfer/block-gatherer.js';
import { takeBlock, giveBackBlock, WRITE_BLOCK_BYTES } from '../../src/transfer/write-blocks.js';
import { controlFrame, dataFrame, tcpPair } from './transfer-support.js';


test('readInto: an accepted socket and a connecting one read into our memory, bytes buffered before the switch first, then end', async () => {
  const [accepted, client, close] = await tcpPair();
  try {
    const sent = randomBytes(3 * 1024 * 1024 + 17);
    // The server side is switched late: what its stream read meanwhile must come back first.
    client.end(sent);
    await delay(50);
    const memory = Buffer.alloc(100_000);
    const got: Buffer[] = [];
    let reads = 0;
    const early = readInto(accepted, {
      next: () => memory.subarray(0, 1 + (reads % 3) * 40_000), // varied read sizes, one byte up
      onRead: (n, buf) => {
        reads++;
        assert.equal(buf.buffer, memory.buffer, 'the read went to the memory we gave');
        got.push(Buffer.from(buf.subarray(0, n)));
      },
    });
    assert.ok(early, 'this Node lets a server socket read into caller memory');
    accepted.resume();
    await new Promise((r) => accepted.once('end', r));
    assert.ok(reads > 10);
    assert.ok(Buffer.concat([...early, ...got]).equals(sent));

    // The other direction: the connecting side, with pause() holding reads back.
    const back = randomBytes(256 * 1024);
    const clientMemory = Buffer.alloc(8192);
    const clientGot: Buffer[] = [];
    let paused = false;
    const none = readInto(client, {
      next: () => clientMemory,
      onRead: (n) => {
        assert.equal(paused, false, 'no read while paused');
        clientGot.push(Buffer.from(clientMemory.subarray(0, n)));
        if (clientGot.length === 3) {
          paused = true;
          client.pause();
          setTimeout(() => {
            paused = false;
            client.resume();
          }, 30);
        }
      },
    });
    assert.deepEqual(none, []);
    client.resume();
    accepted.end(back);
    await new Promise((r) => client.once('end', r));
    assert.ok(Buffer.concat(clientGot).equals(back));
  } finally {
    accepted.destroy();
    client.destroy();
    close();
  }
});

test('readInto leaves non-TCP streams alone', () => {
  assert.equal(readInto(new PassThrough(), { next: () => Buffer.alloc(1), onRead: () => undefined }), undefined);
});

interface FilePlan {
  size: number;
  /** Send an OFFER for a later file in the middle of this one's data. */
  offerInside: boolean;
}

/**
 * Sends `files` as BEGIN, DATA (1 MiB frames), END with interleaved OFFERs, in writes cut at
 * `cuts`, and receives them with a FrameChannel whose consumer names a BlockGatherer at each BEGIN
 * (after `lateMs`, so DATA queues up first sometimes) and now and then pauses between DATA
 * messages. Returns what the consumer reassembled.
 */
async function sendAndGather(files: Buffer[], plans: FilePlan[], cuts: number[], lateMs: number[]): Promise<{ out: Buffer[]; stats: FrameChannel['dataStats'] }> {
  const [accepted, client, close] = await tcpPair();
  try {
    const ch = new FrameChannel(accepted, { idleTimeoutMs: 0 });
    const wire: Buffer[] = [];
    files.forEach((f, id) => {
      wire.push(controlFrame({ type: 'begin', id, offset: 0 }));
      for (let at = 0; at < f.length || at === 0; at += WRITE_BLOCK_BYTES) {
        if (f.length > 0) wire.push(dataFrame(f.subarray(at, at + WRITE_BLOCK_BYTES)));
        if (plans[id]!.offerInside && at === 0) wire.push(controlFrame({ type: 'offer', id: 100 + id, path: `x${id}`, kind: 'file', size: 1 }));
        if (f.length === 0) break;
      }
      wire.push(controlFrame({ type: 'end', id, sha256: '0'.repeat(64) }));
    });
    const all = Buffer.concat(wire);
    const sending = (async () => {
      for (let at = 0, i = 0; at < all.length; i++) {
        const n = Math.min(cuts[i % cuts.length]!, all.length - at);
        if (!client.write(all.subarray(at, at + n))) await new Promise((r) => client.once('drain', r));
        at += n;
        if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
      client.end();
    })();
    const out: Buffer[] = [];
    let gather: BlockGatherer | undefined;
    let current: Buffer | undefined;
    const collect = (b: GatheredBlock): void => {
      b.bytes.copy(current!, b.position);
      b.release();
    };
    for (let seen = 0; ; seen++) {
      const m = await ch.next();
      if (m === undefined) break;
      if (m.type === 'begin') {
        current = Buffer.alloc(files[m.id]!.length);
        gather = new BlockGatherer(0, current.length);
        const late = lateMs[seen % lateMs.length]!;
        if (late > 0) await delay(late);
        ch.setDataTarget(gather);
      } else if (m.type === 'data') {
        gather!.append(m.bytes, collect);
        // A receiver waiting for its disk now and then: reads land in place meanwhile.
        const slow = lateMs[(seen + 1) % lateMs.length]!;
        if (slow > 0 && seen % 3 === 0) await delay(slow);
      } else if (m.type === 'end') {
        ch.setDataTarget(undefined);
        gather!.drain(collect);
        out.push(current!);
      }
    }
    await sending;
    return { out, stats: ch.dataStats };
  } finally {
    accepted.destroy();
    client.destroy();
    close();
  }
}

test('files read into place come out exact, whatever the cuts on the wire and however late the target is named', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ size: fc.oneof(fc.integer({ min: 0, max: 3 * WRITE_BLOCK_BYTES + 5000 }), fc.constantFrom(WRITE_BLOCK_BYTES, 2 * WRITE_BLOCK_BYTES - 1)), offerInside: fc.boolean() }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 300_000 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.constantFrom(0, 0, 1, 5), { minLength: 1, maxLength: 4 }),
      async (plans, cuts, lateMs) => {
        const files = plans.map((p) => randomBytes(p.size));
        const { out } = await sendAndGather(files, plans, cuts, lateMs);
        assert.equal(out.length, files.length);
        files.forEach((f, i) => assert.ok(out[i]!.equals(f), `file ${i} (${f.length} bytes) differs`));
      },
    ),
    { numRuns: 12 },
  );
});

test('a large file streamed in 1 MiB frames is read almost entirely into place', async () => {
  const file = randomBytes(16 * WRITE_BLOCK_BYTES);
  const { out, stats } = await sendAndGather([file], [{ size: file.length, offerInside: false }], [4 * WRITE_BLOCK_BYTES], [0]);
  assert.ok(out[0]!.equals(file));
  assert.equal(stats.inPlace + stats.copiedIn + stats.asIs, file.length);
  // Between frames the channel reads only the next header, so only bytes that came before the
  // target was named (at most one staging read) are copied.
  assert.ok(stats.inPlace > 0.99 * file.length, `only ${stats.inPlace} of ${file.length} bytes were read into place (${JSON.stringify(stats)})`);
});

test('BlockGatherer: a resumed file starts with a short block, then blocks end on block multiples', () => {
  const start = WRITE_BLOCK_BYTES + 12_345;
  const end = start + 2 * WRITE_BLOCK_BYTES;
  const g = new BlockGatherer(start, end);
  const blocks: Array<{ position: number; length: number }> = [];
  const keep = (b: GatheredBlock): void => {
    blocks.push({ position: b.position, length: b.bytes.length });
    b.release();
  };
  // A copied chunk first, then reads into place up to the end.
  g.append(Buffer.alloc(1000, 1), keep);
  for (let left = end - start - 1000; left > 0; ) {
    const landing = g.reserve(left)!;
    assert.ok(landing.view.length <= left);
    landing.land(landing.view.length);
    g.append(landing.view, keep);
    left -= landing.view.length;
  }
  assert.equal(g.reserve(1), undefined, 'nothing is reserved past the end of the file');
  g.drain(keep);
  assert.deepEqual(blocks, [
    { position: start, length: 2 * WRITE_BLOCK_BYTES - start },
    { position: 2 * WRITE_BLOCK_BYTES, length: WRITE_BLOCK_BYTES },
    { position: 3 * WRITE_BLOCK_BYTES, length: end - 3 * WRITE_BLOCK_BYTES },
  ]);
});

test('BlockGatherer: bytes copied while placed bytes wait are refused; drain drops what was placed ahead', () => {
  const g = new BlockGatherer(0, 10 * WRITE_BLOCK_BYTES);
  const landing = g.reserve(5000)!;
  landing.view.fill(7);
  landing.land(5000);
  assert.equal(g.ahead, 5000);
  assert.throws(() => g.append(Buffer.alloc(10), () => undefined), /out of order/);
  g.append(landing.view.subarray(0, 2000), () => undefined);
  assert.equal(g.ahead, 3000);
  const handed: number[] = [];
  g.drain((b) => {
    handed.push(b.bytes.length);
    b.release();
  });
  assert.deepEqual(handed, [2000], 'only the processed bytes go to the disk');
  assert.equal(g.ahead, 0);
});

test('BlockGatherer: a block lent to a read that has not landed goes back to the pool only when it lands', () => {
  const g = new BlockGatherer(0, 4 * WRITE_BLOCK_BYTES);
  const landing = g.reserve(WRITE_BLOCK_BYTES)!;
  const lentBlock = landing.view;
  g.drain(() => assert.fail('nothing was processed'));
  // The pool hands blocks out last-in first-out: the lent block must not be among them yet.
  const other = takeBlock();
  assert.ok(!(other.buffer === lentBlock.buffer && other.byteOffset === lentBlock.byteOffset), 'a lent block is not handed out');
  giveBackBlock(other);
  landing.land(0);
  const again = takeBlock();
  assert.ok(again.buffer === lentBlock.buffer && again.byteOffset === lentBlock.byteOffset, 'the landed block is back in the pool');
  giveBackBlock(again);
});

test('a DATA frame sent on a closed connection gives its block back at once', async () => {
  const [accepted, client, close] = await tcpPair();
  try {
    const ch = new FrameChannel(client, { idleTimeoutMs: 0 });
    client.destroy();
    let back = false;
    assert.equal(ch.sendData(Buffer.alloc(10), () => (back = true)), false);
    await Promise.resolve();
    assert.equal(back, true);
  } finally {
    accepted.destroy();
    close();
  }
});
