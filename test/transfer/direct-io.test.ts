// Large files are written with O_DIRECT from aligned 1 MiB blocks (src/transfer/write-blocks.ts),
// the unaligned head of a resume and the tail through the page cache. Whatever the chunking and
// the resume point, the file on disk must be byte for byte what was sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DiskSink } from '../../src/transfer/disk-sink.js';
import { SafeRoot } from '../../src/transfer/safe-fs.js';

let dir = '';
let directSupported = false;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sockit-direct-'));
  try {
    closeSync(openSync(path.join(dir, 'probe'), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_DIRECT));
    directSupported = fsc.O_DIRECT !== undefined;
  } catch {
    directSupported = false; // tmpfs and friends: the sink falls back to buffered writes
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Feeds `data[from, to)` to `write` in uneven chunks, like a socket's reads. */
async function feed(write: (b: Buffer) => Promise<void>, data: Buffer, from: number, to: number): Promise<void> {
  const sizes = [65_536, 7, 65_529, 1, 200_000, 4096, 31_337];
  for (let at = from, i = 0; at < to; i++) {
    const n = Math.min(sizes[i % sizes.length]!, to - at);
    await write(Buffer.from(data.subarray(at, at + n))); // a copy, as a socket hands over fresh chunks
    at += n;
  }
}

/**
 * Receives `data` as `name` in one go and checks the file on disk; `expectDirect` is whether its
 * aligned blocks must have gone with O_DIRECT. Resolves with the saved name.
 */
async function receiveWhole(name: string, data: Buffer, expectDirect: boolean, options: { directIo?: boolean } = {}): Promise<string> {
  const sink = new DiskSink({ root: await SafeRoot.open(dir), resumable: true, ...options });
  const file = await sink.prepare(name, data.length);
  await file.begin(0);
  assert.equal(file.directIo, expectDirect);
  await feed((b) => file.write(b), data, 0, data.length);
  const done = await file.finish(sha256(data));
  assert.equal(sha256(readFileSync(path.join(dir, done.savedAs))), sha256(data));
  return done.savedAs;
}

test('a 20 MiB file arrives exact through O_DIRECT blocks and a buffered tail', async () => {
  assert.equal(await receiveWhole('whole.bin', randomBytes(20 * 1024 * 1024 + 12_345), directSupported), 'whole.bin');
});

test('interrupted at an unaligned byte and resumed: the head up to the next block goes buffered, the file is exact', async () => {
  const data = randomBytes(24 * 1024 * 1024 + 999);
  const cut = 5 * 1024 * 1024 + 777;
  const first = new DiskSink({ root: await SafeRoot.open(dir), resumable: true });
  const a = await first.prepare('resumed.bin', data.length);
  await a.begin(0);
  await feed((b) => a.write(b), data, 0, cut);
  await a.abandon();
  assert.equal(statSync(path.join(dir, 'resumed.bin.part')).size, cut);

  const second = new DiskSink({ root: await SafeRoot.open(dir), resumable: true });
  const b = await second.prepare('resumed.bin', data.length);
  assert.equal(b.offset, cut);
  assert.equal(b.prefixSha256, sha256(data.subarray(0, cut)));
  await b.begin(cut);
  assert.equal(b.directIo, directSupported);
  await feed((c) => b.write(c), data, cut, data.length);
  await b.finish(sha256(data));
  assert.equal(sha256(readFileSync(path.join(dir, 'resumed.bin'))), sha256(data));
});

test('directIo: false writes everything through the page cache, same bytes', async () => {
  assert.equal(await receiveWhole('buffered.bin', randomBytes(17 * 1024 * 1024 + 5), false, { directIo: false }), 'buffered.bin');
});

test('small files never use O_DIRECT', async () => {
  assert.equal(await receiveWhole('small.bin', randomBytes(3 * 1024 * 1024), false), 'small.bin');
});
