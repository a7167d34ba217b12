// The receiver's part files (NAME.part, NAME.part.meta) against the cases exploratory testing found:
// one put naming a path twice, a resumed transfer cut before its first byte, names too long for
// NAME.part.meta, and a user's own file under a part name. Real loopback transfers, real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { putFiles } from '../../src/transfer/files-client.js';
import { sendClassic } from '../../src/transfer/classic.js';
import { DiskSink } from '../../src/transfer/disk-sink.js';
import { SafeRoot } from '../../src/transfer/safe-fs.js';
import { encodePartMeta, PART_META_VERSION } from '../../src/transfer/protocol/part-meta.js';
import { randomFile, sha256File, tempDir, withFilesServer } from './transfer-support.js';

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
