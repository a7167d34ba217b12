// The sockit file protocol end to end over loopback TCP, through the library: content of every
// size arrives hash-equal, directories keep their shape, names never clobber, limits refuse before
// data flows, interrupted transfers resume, and stalled peers are cut off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, rmSync, statfsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { getFiles, listFiles, putFiles } from '../../src/transfer/files-client.js';
import { FrameChannel } from '../../src/transfer/frame-channel.js';
import { tcpTransport } from '../../src/io/tcp-transport.js';
import { isSockitError } from '../../src/errors.js';
import { listTree, randomFile, sha256File, tempDir, treeDigest, withFilesServer } from './transfer-support.js';

const HOST = '127.0.0.1';

/** A hand-driven client session (for interrupting and stalling on purpose). */
async function rawSession(port: number): Promise<FrameChannel> {
  const socket = await tcpTransport.connect({ host: HOST, port });
  const ch = new FrameChannel(socket, { idleTimeoutMs: 0 });
  ch.send({ type: 'hello', version: 1, features: [], agent: 'test' });
  const hello = await ch.next();
  assert.equal(hello?.type, 'hello');
  return ch;
}

/** Resolves when the server has closed its side (we saw its FIN). */
function serverEnded(ch: FrameChannel): Promise<void> {
  return new Promise((resolve) => {
    const loop = (): void => void ch.next().then((m) => (m === undefined ? resolve() : loop()), () => resolve());
    loop();
  });
}

test('empty, 1-byte, multi-MB and Unicode-named files arrive hash-equal, and come back with get', async () => {
  await withFilesServer({}, async ({ port, srv, src, out }) => {
    await fsp.writeFile(path.join(src, 'empty'), '');
    await fsp.writeFile(path.join(src, 'one'), 'x');
    await randomFile(path.join(src, 'big.bin'), 7 * 1024 * 1024 + 123);
    await fsp.writeFile(path.join(src, '中文文件名.txt'), '你好，世界\n');
    const names = ['empty', 'one', 'big.bin', '中文文件名.txt'];
    const summary = await putFiles({ host: HOST, port, paths: names.map((n) => path.join(src, n)) });
    assert.equal(summary.failed, 0);
    assert.deepEqual(summary.results.map((r) => r.savedAs), names);
    assert.deepEqual(await treeDigest(srv), await treeDigest(src));

    const back = await getFiles({ host: HOST, port, names, outDir: out });
    assert.equal(back.failed, 0);
    assert.deepEqual(await treeDigest(out), await treeDigest(src));

    const listing = await listFiles({ host: HOST, port });
    assert.deepEqual(listing.map((e) => [e.name, e.kind, e.size]).sort(), names.map((n) => [n, 'file', (summary.results.find((r) => r.rel === n)!).bytes]).sort());
  });
});

test('nested directories, empty ones included, keep their shape both ways', async () => {
  await withFilesServer({}, async ({ port, srv, src, out }) => {
    const tree = path.join(src, 'tree');
    await randomFile(path.join(tree, 'a', 'b', 'deep.bin'), 100_000);
    await fsp.writeFile(path.join(tree, 'top.txt'), 'top');
    await fsp.mkdir(path.join(tree, 'empty', 'nested-empty'), { recursive: true });
    await fsp.mkdir(path.join(tree, 'a', 'also-empty'));
    const up = await putFiles({ host: HOST, port, paths: [tree], toDir: 'uploads/today' });
    assert.equal(up.failed, 0);
    assert.deepEqual(await treeDigest(path.join(srv, 'uploads', 'today', 'tree')), await treeDigest(tree));
    const down = await getFiles({ host: HOST, port, names: ['uploads/today/tree'], outDir: out });
    assert.equal(down.failed, 0);
    assert.deepEqual(await treeDigest(path.join(out, 'tree')), await treeDigest(tree));
    assert.deepEqual((await listFiles({ host: HOST, port, dir: 'uploads/today/tree' })).map((e) => `${e.name}:${e.kind}`), ['a:dir', 'empty:dir', 'top.txt:file']);
  });
});

test('an existing file is never overwritten: the second upload becomes name (1).ext', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const file = path.join(src, 'report.pdf');
    await fsp.writeFile(file, 'first');
    await putFiles({ host: HOST, port, paths: [file] });
    await fsp.writeFile(file, 'second');
    const again = await putFiles({ host: HOST, port, paths: [file] });
    assert.equal(again.results[0]!.savedAs, 'report (1).pdf');
    assert.equal(await fsp.readFile(path.join(srv, 'report.pdf'), 'utf8'), 'first');
    assert.equal(await fsp.readFile(path.join(srv, 'report (1).pdf'), 'utf8'), 'second');
  });
});

test('with overwrite the upload replaces the existing file', async () => {
  await withFilesServer({ overwrite: true }, async ({ port, srv, src }) => {
    const file = path.join(src, 'notes.txt');
    await fsp.writeFile(file, 'old');
    await putFiles({ host: HOST, port, paths: [file] });
    await fsp.writeFile(file, 'new');
    const again = await putFiles({ host: HOST, port, paths: [file] });
    assert.equal(again.results[0]!.savedAs, 'notes.txt');
    assert.deepEqual(await listTree(srv), ['notes.txt']);
    assert.equal(await fsp.readFile(path.join(srv, 'notes.txt'), 'utf8'), 'new');
  });
});

test('two concurrent uploads of the same name both land intact under different names', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const a = await randomFile(path.join(src, 'a', 'same.bin'), 3 * 1024 * 1024);
    const b = await randomFile(path.join(src, 'b', 'same.bin'), 3 * 1024 * 1024 + 1);
    const [ra, rb] = await Promise.all([putFiles({ host: HOST, port, paths: [a] }), putFiles({ host: HOST, port, paths: [b] })]);
    assert.equal(ra.failed + rb.failed, 0);
    assert.deepEqual(await listTree(srv), ['same (1).bin', 'same.bin']);
    const stored = new Set([sha256File(path.join(srv, 'same.bin')), sha256File(path.join(srv, 'same (1).bin'))]);
    assert.deepEqual(stored, new Set([sha256File(a), sha256File(b)]));
  });
});

// A file that could not be read at its turn (deleted after the walk, or unreadable: EACCES) ended
// the whole session: the files sent before it were cut off with it and nothing after it went.
// tar and rsync name such a file and go on; so does put now (exit status 1).
test('a file that vanished or cannot be read when its turn comes fails alone; the files around it arrive', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const dir = path.join(src, 'work');
    await randomFile(path.join(dir, 'a.txt'), 100);
    await randomFile(path.join(dir, 'b-gone.txt'), 100);
    await randomFile(path.join(dir, 'c-gone-large.bin'), 2 * 1024 * 1024);
    await randomFile(path.join(dir, 'd.bin'), 2 * 1024 * 1024 + 3);
    await fsp.writeFile(path.join(dir, 'e-gone-empty.txt'), '');
    await randomFile(path.join(dir, 'f.txt'), 10);
    const gone = ['b-gone.txt', 'c-gone-large.bin', 'e-gone-empty.txt'];
    const summary = await putFiles({
      host: HOST,
      port,
      paths: [dir],
      // The walk is done when 'start' comes: these go before their turn.
      onEvent: (e) => {
        if (e.type === 'start') for (const name of gone) rmSync(path.join(dir, name));
      },
    });
    const byRel = new Map(summary.results.map((r) => [r.rel, r]));
    for (const name of gone) {
      const r = byRel.get(`work/${name}`)!;
      assert.equal(r.ok, false, name);
      assert.equal(r.error?.code, 'ERR_SOCKIT_NOT_FOUND', name);
      assert.match(r.error!.message, /cannot read .*ENOENT/, name);
    }
    assert.equal(summary.failed, 3);
    assert.equal(summary.ok, 4);
    assert.deepEqual(await listTree(srv), ['work', 'work/a.txt', 'work/d.bin', 'work/f.txt']);
    assert.equal(sha256File(path.join(srv, 'work', 'd.bin')), sha256File(path.join(dir, 'd.bin')));
  });
});

test('a file over --max-size is refused before data flows; the rest of the session continues', async () => {
  await withFilesServer({ maxFileBytes: 1000 }, async ({ port, srv, src }) => {
    await randomFile(path.join(src, 'too-big.bin'), 1001);
    await randomFile(path.join(src, 'fits.bin'), 1000);
    const summary = await putFiles({ host: HOST, port, paths: [path.join(src, 'too-big.bin'), path.join(src, 'fits.bin')] });
    assert.equal(summary.results[0]!.ok, false);
    assert.equal(summary.results[0]!.error?.code, 'ERR_SOCKIT_FILE_TOO_LARGE');
    assert.match(summary.results[0]!.error!.message, /1001 bytes, over the 1000-byte limit/);
    assert.equal(summary.results[1]!.ok, true);
    assert.equal(summary.bytesSent, 1000);
    assert.deepEqual(await listTree(srv), ['fits.bin']);
  });
});

test('a file larger than the free disk space (statfs) is refused before data flows', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const st = statfsSync(srv);
    const free = st.bavail * st.bsize;
    // A sparse file: declares more than the disk holds while using no space itself.
    const huge = path.join(src, 'huge.img');
    const fh = await fsp.open(huge, 'w');
    await fh.truncate(free + 1024 ** 3);
    await fh.close();
    const summary = await putFiles({ host: HOST, port, paths: [huge] });
    assert.equal(summary.results[0]!.error?.code, 'ERR_SOCKIT_NO_SPACE');
    assert.equal(summary.bytesSent, 0);
    assert.deepEqual(await listTree(srv), []);
  });
});

test('--read-only refuses uploads with ERR_SOCKIT_READ_ONLY but still lists and serves', async () => {
  await withFilesServer({ readOnly: true }, async ({ port, srv, src, out }) => {
    await fsp.writeFile(path.join(srv, 'shared.txt'), 'shared');
    await fsp.writeFile(path.join(src, 'upload.txt'), 'nope');
    await assert.rejects(putFiles({ host: HOST, port, paths: [path.join(src, 'upload.txt')] }), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_READ_ONLY'));
    assert.deepEqual(await listTree(srv), ['shared.txt']);
    assert.deepEqual((await listFiles({ host: HOST, port })).map((e) => e.name), ['shared.txt']);
    await getFiles({ host: HOST, port, names: ['shared.txt'], outDir: out });
    assert.equal(await fsp.readFile(path.join(out, 'shared.txt'), 'utf8'), 'shared');
  });
});

test('10,000 small files in one put all arrive', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const many = path.join(src, 'many');
    await fsp.mkdir(many);
    const block = Buffer.alloc(1024);
    for (let i = 0; i < 10_000; i++) {
      block.writeUInt32BE(i, 0);
      writeFileSync(path.join(many, `f${i}.dat`), block);
    }
    const summary = await putFiles({ host: HOST, port, paths: [many] });
    assert.equal(summary.failed, 0);
    assert.equal(summary.ok, 10_001);
    assert.deepEqual(await treeDigest(path.join(srv, 'many')), await treeDigest(many));
  });
});

test('an upload cut off halfway resumes from the .part and ends hash-equal', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const file = await randomFile(path.join(src, 'big.bin'), 8 * 1024 * 1024);
    const bytes = await fsp.readFile(file);
    // Interrupt by hand: offer the file, send its first 3 MiB, then close the connection.
    const ch = await rawSession(port);
    ch.send({ type: 'put', dir: '' });
    ch.send({ type: 'offer', id: 0, path: 'big.bin', kind: 'file', size: bytes.length });
    assert.equal((await ch.next())?.type, 'accept');
    ch.send({ type: 'begin', id: 0, offset: 0 });
    const sent = 3 * 1024 * 1024;
    for (let pos = 0; pos < sent; pos += 1024 * 1024) ch.sendData(bytes.subarray(pos, pos + 1024 * 1024));
    ch.socket.end();
    await serverEnded(ch);
    ch.destroy();
    assert.deepEqual(await listTree(srv), ['big.bin.part', 'big.bin.part.meta']);
    assert.equal((await fsp.stat(path.join(srv, 'big.bin.part'))).size, sent);

    const summary = await putFiles({ host: HOST, port, paths: [file] });
    assert.equal(summary.results[0]!.resumedFrom, sent);
    assert.equal(summary.bytesSent, bytes.length - sent);
    assert.deepEqual(await listTree(srv), ['big.bin']);
    assert.equal(sha256File(path.join(srv, 'big.bin')), sha256File(file));
  });
});

// 3 MiB is hashed on the main thread at both ends, 20 MiB on the hashing threads.
for (const [size, partSize] of [
  [3 * 1024 * 1024, 2 * 1024 * 1024],
  [20 * 1024 * 1024 + 12_345, 5 * 1024 * 1024 + 7],
] as const) {
  test(`a .part whose bytes differ from the source is not trusted: the upload starts over (${size} bytes)`, async () => {
    await withFilesServer({}, async ({ port, srv, src }) => {
      const file = await randomFile(path.join(src, 'big.bin'), size);
      await randomFile(path.join(srv, 'big.bin.part'), partSize);
      await fsp.writeFile(path.join(srv, 'big.bin.part.meta'), JSON.stringify({ version: 1, path: 'big.bin', size }));
      const summary = await putFiles({ host: HOST, port, paths: [file] });
      assert.equal(summary.results[0]!.resumedFrom, 0);
      assert.equal(summary.bytesSent, size);
      assert.equal(sha256File(path.join(srv, 'big.bin')), sha256File(file));
      assert.deepEqual(await listTree(srv), ['big.bin']);
    });
  });
}

test('an interrupted download resumes from the .part in --out', async () => {
  await withFilesServer({}, async ({ port, srv, out }) => {
    const file = await randomFile(path.join(srv, 'movie.bin'), 5 * 1024 * 1024 + 7);
    const prefix = (await fsp.readFile(file)).subarray(0, 2 * 1024 * 1024);
    await fsp.writeFile(path.join(out, 'movie.bin.part'), prefix);
    await fsp.writeFile(path.join(out, 'movie.bin.part.meta'), JSON.stringify({ version: 1, path: 'movie.bin', size: 5 * 1024 * 1024 + 7 }));
    const summary = await getFiles({ host: HOST, port, names: ['movie.bin'], outDir: out });
    assert.equal(summary.results[0]!.resumedFrom, prefix.length);
    assert.equal(summary.bytesSent, 5 * 1024 * 1024 + 7 - prefix.length);
    assert.equal(sha256File(path.join(out, 'movie.bin')), sha256File(file));
    assert.deepEqual(await listTree(out), ['movie.bin']);
  });
});

test('a file whose SHA-256 does not match is refused with ERR_SOCKIT_BAD_HASH and discarded', async () => {
  await withFilesServer({}, async ({ port, srv }) => {
    const ch = await rawSession(port);
    ch.send({ type: 'put', dir: '' });
    ch.send({ type: 'offer', id: 0, path: 'x.txt', kind: 'file', size: 5 });
    assert.equal((await ch.next())?.type, 'accept');
    ch.send({ type: 'begin', id: 0, offset: 0 });
    ch.sendData(Buffer.from('hello'));
    ch.send({ type: 'end', id: 0, sha256: createHash('sha256').update('HELLO').digest('hex') });
    const answer = await ch.next();
    assert.equal(answer?.type === 'fail' && answer.code, 'ERR_SOCKIT_BAD_HASH');
    ch.send({ type: 'bye', files: 0, bytes: 0 });
    assert.equal((await ch.next())?.type, 'bye');
    await ch.end();
    assert.deepEqual(await listTree(srv), []);
  });
});

test('a stalled uploader is cut off by the server, which keeps serving others', async () => {
  await withFilesServer({ idleTimeoutMs: 200 }, async ({ port, srv, src }) => {
    const ch = await rawSession(port);
    ch.send({ type: 'put', dir: '' });
    ch.send({ type: 'offer', id: 0, path: 'slow.bin', kind: 'file', size: 100 });
    assert.equal((await ch.next())?.type, 'accept');
    ch.send({ type: 'begin', id: 0, offset: 0 });
    // ...and then nothing: the server must give up on its own and drop the connection.
    const after = await ch.next().then(
      (m) => m?.type ?? 'end of stream',
      (e: unknown) => (isSockitError(e) ? 'connection error' : String(e)),
    );
    assert.ok(after === 'end of stream' || after === 'connection error', `unexpected ${after}`);
    ch.destroy();
    assert.deepEqual(await listTree(srv), []);
    await fsp.writeFile(path.join(src, 'ok.txt'), 'fine');
    const summary = await putFiles({ host: HOST, port, paths: [path.join(src, 'ok.txt')] });
    assert.equal(summary.failed, 0);
    assert.deepEqual(await listTree(srv), ['ok.txt']);
  });
});

test('a server that accepts but never answers times the client out (ERR_SOCKIT_TIMEOUT)', async () => {
  const t = tempDir('stall');
  const held: net.Socket[] = [];
  const silent = net.createServer((s) => held.push(s));
  await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
  try {
    await fsp.writeFile(path.join(t.dir, 'f.txt'), 'x');
    const port = (silent.address() as net.AddressInfo).port;
    await assert.rejects(putFiles({ host: HOST, port, paths: [path.join(t.dir, 'f.txt')], idleTimeoutMs: 200 }), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_TIMEOUT') && (e as { phase?: string }).phase === 'transfer');
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await t.cleanup();
  }
});
