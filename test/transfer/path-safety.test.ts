// Nothing is ever written outside the shared directory (server) or --out (client): every path
// form the croc / magic-wormhole CVEs used is refused on both protocols and in both directions,
// and symlinks inside the tree that point out of it are never followed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startFilesServer } from '../../src/transfer/files-server.js';
import { getFiles, listFiles, putFiles } from '../../src/transfer/files-client.js';
import { FrameChannel } from '../../src/transfer/frame-channel.js';
import { sendFiles } from '../../src/transfer/file-sender.js';
import type { SendEntry } from '../../src/transfer/local-source.js';
import { encodeClassicHeader } from '../../src/transfer/protocol/classic-header.js';
import { tcpTransport } from '../../src/io/tcp-transport.js';
import { isSockitError } from '../../src/errors.js';
import { FORBIDDEN_PATHS, listTree, tempDir } from './transfer-support.js';

const HOST = '127.0.0.1';

/** A scratch area: `shared` is the root under test; anything else appearing is an escape. */
async function scratch(): Promise<{ base: string; shared: string; cleanup: () => Promise<void>; payload: string }> {
  const t = tempDir('safety');
  const shared = path.join(t.dir, 'shared');
  await fsp.mkdir(shared);
  const payload = path.join(t.dir, 'payload.txt');
  await fsp.writeFile(payload, 'pwned');
  return { base: t.dir, shared, payload, cleanup: t.cleanup };
}

function evilEntries(payload: string): SendEntry[] {
  const entries: SendEntry[] = [];
  for (const rel of FORBIDDEN_PATHS) {
    entries.push({ rel, kind: 'file', abs: payload, size: 5 });
    entries.push({ rel, kind: 'dir', abs: payload, size: 0 });
  }
  entries.push({ rel: 'fine.txt', kind: 'file', abs: payload, size: 5 });
  return entries;
}

test('sockit protocol, upload: a client offering forbidden paths gets REJECT for each, and nothing escapes', async () => {
  const s = await scratch();
  const server = await startFilesServer({ dir: s.shared });
  try {
    const socket = await tcpTransport.connect({ host: HOST, port: server.address.port });
    const ch = new FrameChannel(socket);
    ch.send({ type: 'hello', version: 1, features: [], agent: 'evil' });
    assert.equal((await ch.next())?.type, 'hello');
    ch.send({ type: 'put', dir: '' });
    const { results } = await sendFiles(ch, evilEntries(s.payload));
    await ch.end();
    for (const r of results.slice(0, -1)) {
      assert.equal(r.ok, false, `${JSON.stringify(r.rel)} (${r.kind}) was accepted`);
      assert.equal(r.error?.code, 'ERR_SOCKIT_FORBIDDEN_PATH', `${JSON.stringify(r.rel)}: ${r.error?.message}`);
    }
    assert.equal(results.at(-1)!.ok, true);
    assert.deepEqual(await listTree(s.base), ['payload.txt', 'shared', 'shared/fine.txt']);
  } finally {
    await server.close();
    await s.cleanup();
  }
});

test('sockit protocol, upload: --to with a forbidden directory is refused for the whole session', async () => {
  const s = await scratch();
  const server = await startFilesServer({ dir: s.shared });
  try {
    for (const dir of ['../up', '/abs', 'a/../../b', 'C:\\x']) {
      // Refused by our own client before connecting...
      await assert.rejects(putFiles({ host: HOST, port: server.address.port, paths: [s.payload], toDir: dir }), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_FORBIDDEN_PATH'));
      // ...and by the server when a client sends it anyway.
      const ch = new FrameChannel(await tcpTransport.connect({ host: HOST, port: server.address.port }));
      ch.send({ type: 'hello', version: 1, features: [], agent: 'evil' });
      assert.equal((await ch.next())?.type, 'hello');
      ch.send({ type: 'put', dir });
      const answer = await ch.next();
      assert.equal(answer?.type === 'error' && answer.code, 'ERR_SOCKIT_FORBIDDEN_PATH');
      ch.destroy();
    }
    assert.deepEqual(await listTree(s.base), ['payload.txt', 'shared']);
  } finally {
    await server.close();
    await s.cleanup();
  }
});

test('sockit protocol, download: a malicious server cannot make get write outside --out', async () => {
  const s = await scratch();
  const out = path.join(s.shared, 'out');
  await fsp.mkdir(out);
  const listener = await tcpTransport.listen({ host: HOST, port: 0 });
  const served = new Promise<void>((resolve, reject) => {
    listener.once('connection', (socket) => {
      void (async () => {
        const ch = new FrameChannel(socket);
        assert.equal((await ch.next())?.type, 'hello');
        ch.send({ type: 'hello', version: 1, features: [], agent: 'evil-server' });
        assert.equal((await ch.next())?.type, 'get');
        await sendFiles(ch, evilEntries(s.payload));
        await ch.end();
      })().then(resolve, reject);
    });
  });
  try {
    const summary = await getFiles({ host: HOST, port: listener.address.port, names: ['anything'], outDir: out });
    await served;
    for (const r of summary.results.filter((x) => x.rel !== 'fine.txt')) {
      assert.equal(r.ok, false, `${JSON.stringify(r.rel)} was accepted`);
      assert.equal(r.error?.code, 'ERR_SOCKIT_FORBIDDEN_PATH');
    }
    assert.deepEqual(await listTree(s.base), ['payload.txt', 'shared', 'shared/out', 'shared/out/fine.txt']);
  } finally {
    await listener.close();
    await s.cleanup();
  }
});

test('symlinks inside the shared directory that point out are refused for put, get and ls', async () => {
  const s = await scratch();
  const outside = path.join(s.base, 'outside');
  await fsp.mkdir(outside);
  await fsp.writeFile(path.join(outside, 'secret.txt'), 'secret');
  await fsp.writeFile(path.join(outside, 'victim.txt'), 'victim');
  await fsp.symlink(outside, path.join(s.shared, 'escape'));
  await fsp.symlink(path.join(outside, 'secret.txt'), path.join(s.shared, 'secret-link.txt'));
  await fsp.symlink(path.join(outside, 'victim.txt'), path.join(s.shared, 'victim.txt'));
  const server = await startFilesServer({ dir: s.shared, overwrite: true });
  const port = server.address.port;
  try {
    const evil = await putFiles({ host: HOST, port, paths: [s.payload], toDir: 'escape' }).catch((e: unknown) => e);
    assert.ok(isSockitError(evil, 'ERR_SOCKIT_FORBIDDEN_PATH'), String(evil));

    const socket = await tcpTransport.connect({ host: HOST, port });
    const ch = new FrameChannel(socket);
    ch.send({ type: 'hello', version: 1, features: [], agent: 'evil' });
    await ch.next();
    ch.send({ type: 'put', dir: '' });
    const { results } = await sendFiles(ch, [{ rel: 'escape/planted.txt', kind: 'file', abs: s.payload, size: 5 }, { rel: 'victim.txt', kind: 'file', abs: s.payload, size: 5 }]);
    await ch.end();
    assert.equal(results[0]!.error?.code, 'ERR_SOCKIT_FORBIDDEN_PATH');
    // With --overwrite the upload replaces the symlink itself, never the file it points to.
    assert.equal(results[1]!.ok, true);
    assert.equal(await fsp.readFile(path.join(outside, 'victim.txt'), 'utf8'), 'victim');
    assert.equal((await fsp.lstat(path.join(s.shared, 'victim.txt'))).isFile(), true);

    const out = path.join(s.base, 'out');
    for (const name of ['escape/secret.txt', 'secret-link.txt', 'escape']) {
      await assert.rejects(getFiles({ host: HOST, port, names: [name], outDir: out }), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_FORBIDDEN_PATH'), name);
    }
    await assert.rejects(listFiles({ host: HOST, port, dir: 'escape' }), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_FORBIDDEN_PATH'));
    assert.deepEqual((await listFiles({ host: HOST, port })).map((e) => e.name), ['victim.txt']);
    assert.deepEqual(await listTree(outside), ['secret.txt', 'victim.txt']);
    assert.deepEqual(await listTree(out), []);
  } finally {
    await server.close();
    await s.cleanup();
  }
});

test('get refuses to follow a symlink in --out that points elsewhere', async () => {
  const s = await scratch();
  const out = path.join(s.base, 'out');
  const elsewhere = path.join(s.base, 'elsewhere');
  await fsp.mkdir(out);
  await fsp.mkdir(elsewhere);
  await fsp.symlink(elsewhere, path.join(out, 'link'));
  const listener = await tcpTransport.listen({ host: HOST, port: 0 });
  listener.once('connection', (socket) => {
    void (async () => {
      const ch = new FrameChannel(socket);
      await ch.next();
      ch.send({ type: 'hello', version: 1, features: [], agent: 'evil-server' });
      await ch.next();
      await sendFiles(ch, [{ rel: 'link/planted.txt', kind: 'file', abs: s.payload, size: 5 }]);
      await ch.end();
    })();
  });
  try {
    const summary = await getFiles({ host: HOST, port: listener.address.port, names: ['x'], outDir: out });
    assert.equal(summary.results[0]!.error?.code, 'ERR_SOCKIT_FORBIDDEN_PATH');
    assert.deepEqual(await listTree(elsewhere), []);
  } finally {
    await listener.close();
    await s.cleanup();
  }
});

/** Sends one classic upload by hand and waits until the server closed the connection. */
function classicUpload(port: number, filename: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, () => {
      socket.write(encodeClassicHeader({ filename, filesize: body.length }));
      socket.end(body);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
    socket.setTimeout(10_000, () => reject(new Error('classic server did not close the connection')));
    socket.resume();
  });
}

test('classic protocol: every forbidden file name is refused and nothing escapes', async () => {
  const s = await scratch();
  const log: string[] = [];
  const server = await startFilesServer({ dir: s.shared, protocol: 'classic', log: (l) => log.push(l) });
  try {
    for (const name of FORBIDDEN_PATHS) await classicUpload(server.address.port, name, Buffer.from('pwned'));
    await classicUpload(server.address.port, 'fine.txt', Buffer.from('fine'));
    assert.deepEqual(await listTree(s.base), ['payload.txt', 'shared', 'shared/fine.txt']);
    assert.equal(log.filter((l) => l.includes('ERR_SOCKIT_FORBIDDEN_PATH')).length, FORBIDDEN_PATHS.length);
  } finally {
    await server.close();
    await s.cleanup();
  }
});

test('a symlink planted where the .part file goes is never written through: the upload takes another part name', async () => {
  const s = await scratch();
  const victim = path.join(s.base, 'victim.txt');
  await fsp.writeFile(victim, 'victim');
  // Without O_NOFOLLOW the upload's bytes would go through the link into victim.txt.
  await fsp.symlink(victim, path.join(s.shared, 'upload.txt.part'));
  const server = await startFilesServer({ dir: s.shared });
  try {
    const upload = path.join(s.base, 'upload.txt');
    await fsp.writeFile(upload, 'pwned');
    // A large file (written through a file handle) with the same trap, in the same session.
    const big = path.join(s.base, 'big', 'upload.txt');
    await fsp.mkdir(path.dirname(big));
    await fsp.writeFile(big, Buffer.alloc(2 * 1024 * 1024, 0x70));
    await fsp.mkdir(path.join(s.shared, 'big'));
    await fsp.symlink(victim, path.join(s.shared, 'big', 'upload.txt.part'));
    const summary = await putFiles({ host: HOST, port: server.address.port, paths: [upload, path.join(s.base, 'big')] });
    // Anything already under a part name that is not a resumable part is left alone (since the
    // sixth session; before, such an upload failed with FORBIDDEN_PATH at the O_NOFOLLOW open).
    assert.equal(summary.failed, 0, JSON.stringify(summary.results.map((r) => r.error?.message)));
    assert.equal(await fsp.readFile(victim, 'utf8'), 'victim');
    assert.equal(await fsp.readFile(path.join(s.shared, 'upload.txt'), 'utf8'), 'pwned');
    assert.deepEqual(await fsp.readFile(path.join(s.shared, 'big', 'upload.txt')), Buffer.alloc(2 * 1024 * 1024, 0x70));
    assert.ok((await fsp.lstat(path.join(s.shared, 'upload.txt.part'))).isSymbolicLink(), 'the planted link is left as it was');
  } finally {
    await server.close();
    await s.cleanup();
  }
});

// `put notes.part` and a classic upload of `x.part.meta` were stored and reported as saved, yet a
// server never lists nor serves those names (its own temporary files): the file was unreachable.
test("a file named like sockit's temporary files (.part, .part.meta) is refused on upload, both protocols", async () => {
  const s = await scratch();
  const log: string[] = [];
  const server = await startFilesServer({ dir: s.shared, log: (l) => log.push(l) });
  const classic = await startFilesServer({ dir: s.shared, protocol: 'classic', log: (l) => log.push(l) });
  try {
    const partName = path.join(s.base, 'notes.part');
    const metaName = path.join(s.base, 'big.bin.part.meta');
    await fsp.writeFile(partName, 'draft');
    await fsp.writeFile(metaName, '{"version":1,"path":"big.bin","size":1}');
    const summary = await putFiles({ host: HOST, port: server.address.port, paths: [partName, metaName, s.payload] });
    assert.deepEqual(summary.results.map((r) => [r.rel, r.ok, r.error?.code]), [
      ['notes.part', false, 'ERR_SOCKIT_FORBIDDEN_PATH'],
      ['big.bin.part.meta', false, 'ERR_SOCKIT_FORBIDDEN_PATH'],
      ['payload.txt', true, undefined],
    ]);
    assert.match(summary.results[0]!.error!.message, /temporary/);
    await classicUpload(classic.address.port, 'x.part', Buffer.from('draft'));
    await classicUpload(classic.address.port, 'dir/x.part.meta', Buffer.from('{}'));
    assert.equal(log.filter((l) => l.includes('classic') && l.includes('ERR_SOCKIT_FORBIDDEN_PATH')).length, 2, log.join('\n'));
    assert.deepEqual(await listTree(s.shared), ['payload.txt']);
  } finally {
    await server.close();
    await classic.close();
    await s.cleanup();
  }
});
