// The receiver's part files (NAME.part, NAME.part.meta) against the cases exploratory testing found:
// one put naming a path twice, a resumed transfer cut before its first byte, names too long for
// NAME.part.meta, and a user's own file under a part name. Real loopback transfers, real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { getFiles, putFiles } from '../../src/transfer/files-client.js';
import { sendClassic } from '../../src/transfer/classic.js';
import { DiskSink } from '../../src/transfer/disk-sink.js';
import { SafeRoot } from '../../src/transfer/safe-fs.js';
import { encodePartMeta, PART_META_VERSION } from '../../src/transfer/protocol/part-meta.js';
import { fileLocksAvailable } from '../../src/io/native-file-lock.js';
import { randomFile, sha256File, startProcess, tempDir, withFilesServer } from './transfer-support.js';

const HOST = '127.0.0.1';
const MIB = 1024 * 1024;

test('one put naming the same remote path twice (both resumable, ≥ 1 MiB) stores both; the session does not supersede itself', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const a = await randomFile(path.join(src, 'a', 'data.bin'), 3 * MIB);
    const b = await randomFile(path.join(src, 'b', 'data.bin'), 3 * MIB);
    const summary = await putFiles({ host: HOST, port, paths: [a, b], toDir: 'dup' });
    assert.equal(summary.failed, 0, JSON.stringify(summary.results.map((r) => r.error?.message)));
    assert.deepEqual((await fsp.readdir(path.join(srv, 'dup'))).sort(), ['data (1).bin', 'data.bin']);
    const stored = [sha256File(path.join(srv, 'dup', 'data.bin')), sha256File(path.join(srv, 'dup', 'data (1).bin'))].sort();
    assert.deepEqual(stored, [sha256File(a), sha256File(b)].sort());
  });
});

test('a resumed transfer cut off before its first byte keeps the part it found', async () => {
  const t = tempDir('part-kept');
  try {
    const rel = 'big.bin';
    const size = 4 * MIB;
    await fsp.writeFile(path.join(t.dir, 'big.bin.part'), Buffer.alloc(MIB, 7));
    await fsp.writeFile(path.join(t.dir, 'big.bin.part.meta'), encodePartMeta({ version: PART_META_VERSION, path: rel, size }));
    const sink = new DiskSink({ root: await SafeRoot.open(t.dir), resumable: true });
    const incoming = await sink.prepare(rel, size);
    assert.equal(incoming.offset, MIB, 'the part is offered for resuming');
    await incoming.abandon(); // the connection died during the handshake
    assert.equal((await fsp.stat(path.join(t.dir, 'big.bin.part'))).size, MIB);
    assert.ok((await fsp.stat(path.join(t.dir, 'big.bin.part.meta'))).isFile());
  } finally {
    await t.cleanup();
  }
});

test('names too long for NAME.part.meta are refused up front on both protocols; the server keeps serving', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const long = await randomFile(path.join(src, 'é'.repeat(127)), 10); // 254 bytes of UTF-8
    const fine = await randomFile(path.join(src, 'fine.bin'), 10);
    const summary = await putFiles({ host: HOST, port, paths: [long, fine] });
    assert.equal(summary.results[0]!.error?.code, 'ERR_SOCKIT_FORBIDDEN_PATH');
    assert.match(summary.results[0]!.error!.message, /longer than 239 bytes/);
    assert.equal(summary.results[1]!.ok, true, 'the session goes on with the next file');
    assert.deepEqual(await fsp.readdir(srv), ['fine.bin']);
  });
  await withFilesServer({ protocol: 'classic' }, async ({ port, srv, src }) => {
    const long = await randomFile(path.join(src, 'Q'.repeat(253)), 10);
    // The classic protocol has no reply: the server refuses by closing, which the sender may or may
    // not see before its own close (so only what the server did is asserted).
    await sendClassic({ host: HOST, port, file: long }).catch(() => undefined);
    // The server is still there (it used to die of an unhandled ENAMETOOLONG).
    const fine = await randomFile(path.join(src, 'fine.bin'), 10);
    await sendClassic({ host: HOST, port, file: fine });
    assert.deepEqual(await fsp.readdir(srv), ['fine.bin']);
  });
});

test('a user\'s own NAME.part is never overwritten or deleted when NAME arrives, small or large', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    await fsp.writeFile(path.join(srv, 'notes.txt.part'), 'my own notes');
    await fsp.writeFile(path.join(srv, 'big.bin.part'), 'my own big notes');
    const notes = await randomFile(path.join(src, 'notes.txt'), 100);
    const big = await randomFile(path.join(src, 'big.bin'), 3 * MIB);
    const summary = await putFiles({ host: HOST, port, paths: [notes, big] });
    assert.equal(summary.failed, 0, JSON.stringify(summary.results.map((r) => r.error?.message)));
    assert.equal(sha256File(path.join(srv, 'notes.txt')), sha256File(notes));
    assert.equal(sha256File(path.join(srv, 'big.bin')), sha256File(big));
    assert.equal(await fsp.readFile(path.join(srv, 'notes.txt.part'), 'utf8'), 'my own notes');
    assert.equal(await fsp.readFile(path.join(srv, 'big.bin.part'), 'utf8'), 'my own big notes');
  });
});

// What another process does when it receives the same file into the same directory (a second `get`
// into one --out, a second server on one --dir): it prepares the file and holds its part.
const OTHER_RECEIVER = `
  const { DiskSink } = await import(process.argv[1]);
  const { SafeRoot } = await import(process.argv[2]);
  const sink = new DiskSink({ root: await SafeRoot.open(process.argv[3]), resumable: true });
  const incoming = await sink.prepare('big.bin', Number(process.argv[4]));
  console.log('holding the part from offset ' + incoming.offset);
  setInterval(() => undefined, 1000); // until killed
`;

test('a part another process is receiving into is not shared: a get into the same --out takes a part of its own', { skip: !fileLocksAvailable() && 'no flock(2) helper built' }, async () => {
  await withFilesServer({}, async ({ port, srv, out }) => {
    const file = await randomFile(path.join(srv, 'big.bin'), 4 * MIB);
    const size = 4 * MIB;
    // An earlier, interrupted download left 1 MiB of the file in --out, ready to resume...
    const prefix = (await fsp.readFile(file)).subarray(0, MIB);
    await fsp.writeFile(path.join(out, 'big.bin.part'), prefix);
    await fsp.writeFile(path.join(out, 'big.bin.part.meta'), encodePartMeta({ version: PART_META_VERSION, path: 'big.bin', size }));
    // ...and another process is resuming from it right now.
    const other = await startProcess(process.execPath, ['--input-type=module', '-e', OTHER_RECEIVER, new URL('../../src/transfer/disk-sink.js', import.meta.url).pathname, new URL('../../src/transfer/safe-fs.js', import.meta.url).pathname, out, String(size)], /holding the part from offset (\d+)/);
    try {
      assert.equal(other.match[1], String(MIB));
      const down = await getFiles({ host: HOST, port, names: ['big.bin'], outDir: out });
      assert.equal(down.failed, 0);
      assert.equal(down.results[0]!.resumedFrom, 0, 'it did not resume from the part the other process holds');
      assert.equal(sha256File(path.join(out, 'big.bin')), sha256File(file));
      assert.deepEqual(await fsp.readFile(path.join(out, 'big.bin.part')), prefix, "the other process's part is untouched");
    } finally {
      await other.stop();
    }
    // Once that process is gone (killed: its lock goes with it), the part is free to resume from.
    await fsp.rm(path.join(out, 'big.bin'));
    const again = await getFiles({ host: HOST, port, names: ['big.bin'], outDir: out });
    assert.equal(again.results[0]!.resumedFrom, MIB);
    assert.equal(sha256File(path.join(out, 'big.bin')), sha256File(file));
    assert.deepEqual((await fsp.readdir(out)).sort(), ['big.bin']);
  });
});

test('a small file whose part name another process took meanwhile is stored through the next part name', async () => {
  const t = tempDir('small-part-taken');
  try {
    const sink = new DiskSink({ root: await SafeRoot.open(t.dir), resumable: true });
    const incoming = await sink.prepare('note.txt', 5);
    await incoming.begin(0);
    await incoming.write(Buffer.from('hello'));
    // Between the look and the store, another process starts writing its own part under that name.
    await fsp.writeFile(path.join(t.dir, 'note.txt.part'), 'theirs');
    const done = await incoming.finish();
    assert.equal(done.savedAs, 'note.txt');
    assert.equal(await fsp.readFile(path.join(t.dir, 'note.txt'), 'utf8'), 'hello');
    assert.equal(await fsp.readFile(path.join(t.dir, 'note.txt.part'), 'utf8'), 'theirs', 'their part was neither truncated nor placed');
    assert.deepEqual((await fsp.readdir(t.dir)).sort(), ['note.txt', 'note.txt.part']);
  } finally {
    await t.cleanup();
  }
});

test('a receiver killed between accepting a large file and its first byte leaves nothing the next transfer trips over', { skip: !fileLocksAvailable() && 'no flock(2) helper built' }, async () => {
  await withFilesServer({}, async ({ port, srv, out }) => {
    const file = await randomFile(path.join(srv, 'big.bin'), 4 * MIB);
    // A `get` that accepted big.bin (its part claimed) and was killed before the data came.
    const other = await startProcess(process.execPath, ['--input-type=module', '-e', OTHER_RECEIVER, new URL('../../src/transfer/disk-sink.js', import.meta.url).pathname, new URL('../../src/transfer/safe-fs.js', import.meta.url).pathname, out, String(4 * MIB)], /holding the part from offset (\d+)/);
    await other.stop();
    const down = await getFiles({ host: HOST, port, names: ['big.bin'], outDir: out });
    assert.equal(down.failed, 0);
    assert.equal(sha256File(path.join(out, 'big.bin')), sha256File(file));
    assert.deepEqual((await fsp.readdir(out)).sort(), ['big.bin'], 'the claimed part was taken over and placed, not left beside it');
  });
});
