// A file the receiver already holds, byte for byte, is not sent again: re-running a put or a get
// (after an interruption, say) skips what arrived last time instead of storing `name (1).ext`
// copies. The receiver offers the existing file's SHA-256 as a resume point at its end; only a
// sender whose own bytes hash the same begins there. Different bytes under the same name still
// become `name (1).ext`. Real loopback transfers, real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { getFiles, putFiles } from '../../src/transfer/files-client.js';
import { decodeMessage, type Message } from '../../src/transfer/protocol/messages.js';
import { FrameSplitter } from '../../src/transfer/protocol/frame-splitter.js';
import { controlFrame, listTree, randomFile, runCli, sha256File, treeDigest, withFilesServer } from './transfer-support.js';

const HOST = '127.0.0.1';
const MIB = 1024 * 1024;

test('re-running a directory put after an interruption sends only what is missing, and stores no copies', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const tree = path.join(src, 'album');
    await randomFile(path.join(tree, 'big.bin'), 3 * MIB); // resumable size: sent with sendfile
    await randomFile(path.join(tree, 'mid.bin'), 300 * 1024);
    await fsp.mkdir(path.join(tree, 'small'));
    for (let i = 0; i < 20; i++) await randomFile(path.join(tree, 'small', `s${i}.txt`), 100 + i);
    await fsp.writeFile(path.join(tree, 'empty.txt'), '');
    const first = await putFiles({ host: HOST, port, paths: [tree] });
    assert.equal(first.failed, 0);
    assert.equal(first.unchanged, 0);

    // What an interrupted first run would have left: two files never arrived.
    await fsp.rm(path.join(srv, 'album', 'mid.bin'));
    await fsp.rm(path.join(srv, 'album', 'small', 's7.txt'));
    const again = await putFiles({ host: HOST, port, paths: [tree] });
    assert.equal(again.failed, 0);
    assert.equal(again.bytesSent, 300 * 1024 + 107, 'only the two missing files travel');
    assert.deepEqual(await treeDigest(path.join(srv, 'album')), await treeDigest(tree), 'no "(1)" copies, every file intact');
    const unchanged = again.results.filter((r) => r.unchanged).map((r) => r.rel);
    assert.equal(again.unchanged, 21, 'big.bin, empty.txt and 19 of the 20 small files were already there');
    assert.ok(unchanged.includes('album/big.bin') && unchanged.includes('album/empty.txt'));
    assert.ok(!unchanged.includes('album/mid.bin') && !unchanged.includes('album/small/s7.txt'));
    for (const r of again.results.filter((x) => x.unchanged)) assert.equal(r.savedAs, r.rel);
  });
});

test('the same name with different bytes of the same size is still stored beside it as name (1).ext', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    for (const size of [2 * MIB, 1000]) {
      const name = `same-size-${size}.bin`;
      const file = await randomFile(path.join(src, name), size);
      const before = sha256File(file);
      await putFiles({ host: HOST, port, paths: [file] });
      await randomFile(file, size);
      const after = sha256File(file);
      const again = await putFiles({ host: HOST, port, paths: [file] });
      assert.equal(again.failed, 0);
      assert.equal(again.unchanged, 0);
      assert.equal(again.bytesSent, size, 'the whole file is sent');
      const stored = again.results[0]!.savedAs!;
      assert.equal(stored, name.replace('.bin', ' (1).bin'));
      assert.equal(sha256File(path.join(srv, name)), before, 'the first upload is untouched');
      assert.equal(sha256File(path.join(srv, stored)), after);
    }
    assert.ok(!(await listTree(srv)).some((n) => n.endsWith('.part') || n.endsWith('.meta')), 'no part files left');
  });
});

test('re-running a get keeps the files --out already holds as they are', async () => {
  await withFilesServer({}, async ({ port, srv, out }) => {
    await randomFile(path.join(srv, 'docs', 'a.bin'), 2 * MIB);
    await randomFile(path.join(srv, 'docs', 'b.txt'), 5000);
    const first = await getFiles({ host: HOST, port, names: ['docs'], outDir: out });
    assert.equal(first.failed, 0);
    const inode = (await fsp.stat(path.join(out, 'docs', 'a.bin'))).ino;
    await fsp.rm(path.join(out, 'docs', 'b.txt'));
    const again = await getFiles({ host: HOST, port, names: ['docs'], outDir: out });
    assert.equal(again.failed, 0);
    assert.equal(again.unchanged, 1);
    assert.equal(again.bytesSent, 5000);
    assert.deepEqual(await treeDigest(path.join(out, 'docs')), await treeDigest(path.join(srv, 'docs')));
    assert.equal((await fsp.stat(path.join(out, 'docs', 'a.bin'))).ino, inode, 'the file was not rewritten');
  });
});

test('with --overwrite an identical file is left alone and a changed one replaced', async () => {
  await withFilesServer({ overwrite: true }, async ({ port, srv, src }) => {
    const same = await randomFile(path.join(src, 'same.bin'), 1500);
    const changed = await randomFile(path.join(src, 'changed.bin'), 1500);
    await putFiles({ host: HOST, port, paths: [same, changed] });
    const inode = (await fsp.stat(path.join(srv, 'same.bin'))).ino;
    await randomFile(changed, 1500);
    const again = await putFiles({ host: HOST, port, paths: [same, changed] });
    assert.deepEqual(again.results.map((r) => [r.rel, r.savedAs, r.unchanged ?? false]), [['same.bin', 'same.bin', true], ['changed.bin', 'changed.bin', false]]);
    assert.equal((await fsp.stat(path.join(srv, 'same.bin'))).ino, inode);
    assert.equal(sha256File(path.join(srv, 'changed.bin')), sha256File(changed));
    assert.deepEqual(await listTree(srv), ['changed.bin', 'same.bin']);
  });
});

test('a symlink at the destination is never taken for the file, even when what it points to is identical', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const file = await randomFile(path.join(src, 'linked.bin'), 4000);
    await fsp.symlink(file, path.join(srv, 'linked.bin'));
    const up = await putFiles({ host: HOST, port, paths: [file] });
    assert.equal(up.unchanged, 0);
    assert.equal(up.results[0]!.savedAs, 'linked (1).bin');
    assert.ok((await fsp.lstat(path.join(srv, 'linked.bin'))).isSymbolicLink());
  });
});

/** One raw session: sends `frames`, half-closes, and decodes what the server answers until it closes. */
async function rawSession(port: number, frames: Buffer[]): Promise<Message[]> {
  const socket = net.connect({ host: HOST, port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.end(Buffer.concat(frames)));
  });
  const messages: Message[] = [];
  new FrameSplitter(1 << 20).push(Buffer.concat(chunks), { control: (p) => messages.push(decodeMessage(p)), data: () => undefined });
  return messages;
}

test('a sender that begins at the end of the existing file but ends with another hash gets FAIL; the file stays as it was', async () => {
  await withFilesServer({}, async ({ port, srv }) => {
    const kept = await randomFile(path.join(srv, 'kept.bin'), 3000);
    const digest = sha256File(kept);
    const messages = await rawSession(port, [
      controlFrame({ type: 'hello', version: 1, features: [], agent: 'liar' }),
      controlFrame({ type: 'put', dir: '' }),
      controlFrame({ type: 'offer', id: 0, path: 'kept.bin', kind: 'file', size: 3000 }),
      controlFrame({ type: 'begin', id: 0, offset: 3000 }),
      controlFrame({ type: 'end', id: 0, sha256: createHash('sha256').update('something else').digest('hex') }),
      controlFrame({ type: 'bye', files: 1, bytes: 3000 }),
    ]);
    const accept = messages.find((m) => m.type === 'accept');
    assert.deepEqual(accept, { type: 'accept', id: 0, offset: 3000, prefixSha256: digest }, 'the receiver offers the end of its file, with its hash');
    const fail = messages.find((m) => m.type === 'fail');
    assert.ok(fail && fail.type === 'fail');
    assert.equal(fail.code, 'ERR_SOCKIT_BAD_HASH');
    assert.match(fail.message, /kept as it is/);
    assert.equal(sha256File(kept), digest);
    assert.deepEqual(await listTree(srv), ['kept.bin']);
  });
});

test('sockit put --json reports files already there, and the summary counts them', async () => {
  await withFilesServer({}, async ({ port, src }) => {
    const file = await randomFile(path.join(src, 'report.pdf'), 10_000);
    const args = ['put', file, HOST, String(port), '--json'];
    assert.equal((await runCli(args)).code, 0);
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    const events = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = events.find((e) => e['event'] === 'file-done')!;
    assert.equal(done['unchanged'], true);
    assert.equal(done['savedAs'], 'report.pdf');
    assert.deepEqual(events.at(-1), { event: 'summary', ok: 1, failed: 0, unchanged: 1, bytesSent: 0 });
  });
});
