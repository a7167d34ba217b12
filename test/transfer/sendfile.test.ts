// A large file leaves the sender straight from the page cache: sendfile(2) writes its DATA frames
// and SHA-256 runs over the same range on the libuv pool (native/file_send.c,
// src/io/native-file-send.ts, FrameChannel.sendFileData). Over real loopback TCP: the frames carry
// exactly the file's bytes, frames sent meanwhile follow them, a file that ends early or a peer
// that stops reading never hangs the sender, and the JavaScript block path (SOCKIT_SENDFILE=off)
// sends the same thing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { fileSender, fileSenderLoadError } from '../../src/io/native-file-send.js';
import { FrameChannel } from '../../src/transfer/frame-channel.js';
import { putFiles } from '../../src/transfer/files-client.js';
import { isSockitError } from '../../src/errors.js';
import net from 'node:net';
import { controlFrame, listTree, randomFile, sha256File, tcpPair, tempDir, withFilesServer } from './transfer-support.js';

const MiB = 1024 * 1024;

/** Reads DATA messages on `ch` until a control message or the end; returns the bytes and what ended it. */
async function collectData(ch: FrameChannel): Promise<{ bytes: Buffer; after: string | undefined }> {
  const parts: Buffer[] = [];
  for (;;) {
    const m = await ch.next();
    if (m?.type !== 'data') return { bytes: Buffer.concat(parts), after: m?.type };
    parts.push(Buffer.from(m.bytes));
  }
}

/** A file of `bytes` random bytes, open, and a loopback pair of FrameChannels (sending, receiving). */
async function withChannels(
  bytes: number,
  body: (ctx: { content: Buffer; fd: number; sending: FrameChannel; receiving: FrameChannel; sendingSocket: net.Socket }) => Promise<void>,
): Promise<void> {
  const t = tempDir('sendfile-channels');
  const [accepted, client, close] = await tcpPair();
  const file = await randomFile(path.join(t.dir, 'f.bin'), bytes);
  const fh = await fsp.open(file, 'r');
  const sending = new FrameChannel(client, { idleTimeoutMs: 0 });
  const receiving = new FrameChannel(accepted, { idleTimeoutMs: 0 });
  try {
    await body({ content: readFileSync(file), fd: fh.fd, sending, receiving, sendingSocket: client });
  } finally {
    await fh.close();
    sending.destroy();
    receiving.destroy();
    close();
    await t.cleanup();
  }
}

/** Runs `body` with SOCKIT_SENDFILE set to `value` (undefined: unset), then restores it. */
async function withSendfileEnv(value: string | undefined, body: () => Promise<void>): Promise<void> {
  const saved = process.env['SOCKIT_SENDFILE'];
  const set = (v: string | undefined): void => {
    if (v === undefined) delete process.env['SOCKIT_SENDFILE'];
    else process.env['SOCKIT_SENDFILE'] = v;
  };
  set(value);
  try {
    await body();
  } finally {
    set(saved);
  }
}

test('the native file sender is built and loads on Linux', { skip: process.platform !== 'linux' }, () => {
  assert.ok(fileSender(), `native/file_send.c did not load: ${fileSenderLoadError()?.message}`);
});

const sender = fileSender();
const needsNative = { skip: sender ? false : 'the native file sender is not built here' };

test('native SHA-256 of any file range equals node:crypto over the same bytes; peek leaves the hash going', needsNative, async () => {
  const t = tempDir('sendfile-hash');
  try {
    const content = randomBytes(3 * MiB + 4321);
    const file = path.join(t.dir, 'f.bin');
    writeFileSync(file, content);
    const fh = await fsp.open(file, 'r');
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat(content.length + 1000), fc.nat(content.length + 1000), fc.nat(300), async (offset, length, more) => {
          const slice = (from: number, n: number): Buffer => content.subarray(Math.min(from, content.length), Math.min(from + n, content.length));
          const hash = sender!.sha256();
          const added = await hash.addFile(fh.fd, offset, length);
          const want = slice(offset, length);
          assert.equal(added, want.length);
          const expected = createHash('sha256').update(want);
          assert.equal(hash.peek(), expected.copy().digest('hex'));
          // After a peek the hash goes on: a second range follows the first.
          await hash.addFile(fh.fd, 0, more);
          assert.equal(hash.digest(), expected.update(slice(0, more)).digest('hex'));
        }),
        { numRuns: 40 },
      );
    } finally {
      await fh.close();
    }
  } finally {
    await t.cleanup();
  }
});

test('sendFileData: the frames carry exactly the file range, and a control frame sent meanwhile follows them', needsNative, async () => {
  await withChannels(20 * MiB + 123, async ({ content, fd, sending, receiving }) => {
    assert.equal(sending.sendsFiles, true);
    const offset = 3 * MiB + 7;
    let reported = 0;
    const received = collectData(receiving);
    const sent = sending.sendFileData(fd, offset, content.length - offset, (n) => (reported += n));
    // Sent while the file streams: it must wait for the last DATA frame, not cut into one.
    sending.send({ type: 'end', id: 0, sha256: '0'.repeat(64) });
    await sent;
    const { bytes, after } = await received;
    assert.equal(after, 'end');
    assert.equal(reported, content.length - offset);
    assert.ok(bytes.equals(content.subarray(offset)), 'the DATA bytes differ from the file range');
  });
});

test('sendFileData: a file that ends before the range does rejects with ENODATA and closes the connection (a frame is half sent)', needsNative, async () => {
  await withChannels(5 * MiB, async ({ fd, sending, receiving, sendingSocket }) => {
    const received = collectData(receiving).catch((err: Error) => err);
    await assert.rejects(sending.sendFileData(fd, 0, 9 * MiB, () => undefined), { code: 'ENODATA' });
    assert.equal(sendingSocket.destroyed, true);
    // The receiver sees the connection end inside a frame: an error, never a clean end.
    assert.ok((await received) instanceof Error);
  });
});

test('sendFileData to a peer that stops reading: destroy() and the stall timeout both end it promptly', needsNative, async () => {
  const t = tempDir('sendfile-stall');
  try {
    const file = await randomFile(path.join(t.dir, 'f.bin'), 64 * MiB);
    const fh = await fsp.open(file, 'r');
    try {
      for (const how of ['destroy', 'stall timeout'] as const) {
        const [accepted, client, close] = await tcpPair();
        accepted.pause();
        const sending = new FrameChannel(client, { idleTimeoutMs: how === 'destroy' ? 0 : 400 });
        const started = performance.now();
        const sent = sending.sendFileData(fh.fd, 0, 64 * MiB, () => undefined);
        if (how === 'destroy') {
          await delay(300);
          sending.destroy(new Error('stopped by the test'));
          await assert.rejects(sent, /stopped by the test/);
        } else {
          await assert.rejects(sent, (err: unknown) => isSockitError(err) && err.code === 'ERR_SOCKIT_TIMEOUT');
        }
        assert.ok(performance.now() - started < 5000, `${how}: took ${performance.now() - started} ms`);
        accepted.destroy();
        close();
      }
    } finally {
      await fh.close();
    }
  } finally {
    await t.cleanup();
  }
});

for (const mode of ['sendfile', 'blocks'] as const) {
  test(`a file that shrinks after it was offered ends the put with ERR_SOCKIT_SHORT_TRANSFER and leaves no complete file (${mode})`, mode === 'sendfile' ? needsNative : {}, async () => {
    await withSendfileEnv(mode === 'blocks' ? 'off' : process.env['SOCKIT_SENDFILE'], () =>
      withFilesServer({}, async ({ port, srv, src }) => {
        const file = await randomFile(path.join(src, 'shrinks.bin'), 24 * MiB);
        await assert.rejects(
          putFiles({
            host: '127.0.0.1',
            port,
            paths: [file],
            // Listed at 24 MiB; cut to 10 MiB before its bytes go.
            onEvent: (e) => void (e.type === 'start' && truncateSync(file, 10 * MiB)),
          }),
          (err: unknown) => isSockitError(err) && err.code === 'ERR_SOCKIT_SHORT_TRANSFER' && /shrank/.test(err.message),
        );
        assert.ok(!(await listTree(srv)).includes('shrinks.bin'), 'a short file must not look complete');
      }),
    );
  });
}

test('with SOCKIT_SENDFILE=off the block path sends the same files, resume included', async () => {
  await withSendfileEnv('off', () =>
    withFilesServer({}, async ({ port, srv, src }) => {
      const [accepted, client, close] = await tcpPair();
      assert.equal(new FrameChannel(client, { idleTimeoutMs: 0 }).sendsFiles, false);
      accepted.destroy();
      client.destroy();
      close();
      const file = await randomFile(path.join(src, 'big.bin'), 20 * MiB + 5);
      // A .part holding the first 7 MiB, as an interrupted upload leaves it.
      await fsp.writeFile(path.join(srv, 'big.bin.part'), readFileSync(file).subarray(0, 7 * MiB));
      await fsp.writeFile(path.join(srv, 'big.bin.part.meta'), JSON.stringify({ version: 1, path: 'big.bin', size: 20 * MiB + 5 }));
      const summary = await putFiles({ host: '127.0.0.1', port, paths: [file] });
      assert.equal(summary.results[0]?.ok, true);
      assert.equal(summary.results[0]?.resumedFrom, 7 * MiB);
      assert.equal(sha256File(path.join(srv, 'big.bin')), sha256File(file));
    }),
  );
});

test('downloads to clients that stop reading hold no thread: with more of them than the libuv pool has threads, the server still serves', needsNative, async () => {
  await withFilesServer({ idleTimeoutMs: 60_000 }, async ({ port, srv, src }) => {
    await randomFile(path.join(srv, 'big.bin'), 64 * MiB);
    const stalled: net.Socket[] = [];
    try {
      // Each asks for big.bin, accepts it up front, and never reads: the server's sends fill the socket.
      const poolThreads = Number(process.env['UV_THREADPOOL_SIZE'] ?? 4);
      for (let i = 0; i < poolThreads + 2; i++) {
        const socket = net.connect({ host: '127.0.0.1', port });
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.pause();
        socket.write(Buffer.concat([
          controlFrame({ type: 'hello', version: 1, features: [], agent: 'stalled-test-client' }),
          controlFrame({ type: 'get', names: ['big.bin'] }),
          controlFrame({ type: 'accept', id: 0, offset: 0, prefixSha256: '' }),
        ]));
        stalled.push(socket);
      }
      await delay(500);
      // An upload needs the pool (statfs, open, write, rename) on the server, in this very process.
      const file = await randomFile(path.join(src, 'small.bin'), 300 * 1024);
      const started = performance.now();
      const giveUp = new AbortController();
      const summary = await Promise.race([
        putFiles({ host: '127.0.0.1', port, paths: [file] }).finally(() => giveUp.abort()),
        delay(10_000, undefined, { signal: giveUp.signal }).then(
          () => assert.fail('the upload did not finish within 10 s: the server\'s libuv pool is starved'),
          () => assert.fail('unreachable: the race was won by the upload'),
        ),
      ]);
      assert.equal(summary.results[0]?.ok, true);
      assert.ok(performance.now() - started < 5000, `the upload took ${Math.round(performance.now() - started)} ms`);
      assert.equal(sha256File(path.join(srv, 'small.bin')), sha256File(file));
    } finally {
      for (const s of stalled) s.destroy();
    }
  });
});
