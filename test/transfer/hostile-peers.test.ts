// Peers that break the file protocols. A files server facing garbage: each bad connection gets an
// ERROR message that names the problem (sockit protocol) or a log line (classic, which has no way to
// answer) and is closed; an upload running beside them lands intact; nothing complete-looking is
// left behind, and the server goes on serving. And `get` facing a lying server: every lie fails
// with a clear code, and --out holds nothing that looks complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { getFiles, putFiles } from '../../src/transfer/files-client.js';
import { FrameChannel } from '../../src/transfer/frame-channel.js';
import { tcpTransport } from '../../src/io/tcp-transport.js';
import { isSockitError } from '../../src/errors.js';
import { sendClassic } from '../../src/transfer/classic.js';
import { decodeMessage, MessageType, type Message } from '../../src/transfer/protocol/messages.js';
import { FrameSplitter } from '../../src/transfer/protocol/frame-splitter.js';
import { controlFrame, dataFrame, listTree, randomFile, sha256File, tempDir, withFilesServer } from './transfer-support.js';

const HOST = '127.0.0.1';

/** A frame header declaring `length` bytes (type byte included), with nothing behind it. */
function rawHeader(length: number, type: number): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(length, 0);
  head[4] = type;
  return head;
}

const HELLO = controlFrame({ type: 'hello', version: 1, features: [], agent: 'hostile' });
const PUT = controlFrame({ type: 'put', dir: '' });

/**
 * Sends `bytes` on a fresh connection, half-closes, and collects what the server says until it
 * closes. Resolves with the control messages it sent and whether it closed within `ms`.
 */
async function hostileSession(port: number, bytes: Buffer, ms = 5000): Promise<{ messages: Message[]; closed: boolean }> {
  const socket = net.connect({ host: HOST, port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the server's ERROR is expected
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('connect', () => socket.end(bytes));
  });
  socket.destroy();
  const messages: Message[] = [];
  const splitter = new FrameSplitter(1 << 20);
  splitter.push(Buffer.concat(chunks), { control: (payload) => messages.push(decodeMessage(payload)), data: () => undefined });
  return { messages, closed };
}

// Every one travels as ERR_SOCKIT_BAD_HEADER (the file protocol's code for a peer breaking it); the
// message says what was wrong.
const CASES: Array<{ name: string; bytes: Buffer; says: RegExp }> = [
  { name: 'a frame header declaring 4 GiB', bytes: rawHeader(0xffffffff, MessageType.HELLO), says: /4294967295 bytes exceeds/ },
  { name: 'an empty frame', bytes: Buffer.from([0, 0, 0, 0]), says: /empty frame/ },
  { name: 'an unknown message type', bytes: Buffer.concat([rawHeader(3, 0x77), Buffer.from('{}')]), says: /type/ },
  { name: 'a HELLO whose body is not JSON', bytes: Buffer.concat([rawHeader(6, MessageType.HELLO), Buffer.from('nope!')]), says: /JSON|malformed/ },
  { name: 'a control message over the 256 KiB limit', bytes: rawHeader(300 * 1024, MessageType.HELLO), says: /limit/ },
  { name: 'DATA before any file began', bytes: Buffer.concat([HELLO, PUT, dataFrame(Buffer.alloc(10))]), says: /DATA/ },
  {
    name: 'more DATA than the file declared',
    bytes: Buffer.concat([HELLO, PUT, controlFrame({ type: 'offer', id: 0, path: 'small.bin', kind: 'file', size: 10 }), controlFrame({ type: 'begin', id: 0, offset: 0 }), dataFrame(Buffer.alloc(20))]),
    says: /more than the 10 bytes/,
  },
  {
    name: 'TOTAL after an OFFER',
    bytes: Buffer.concat([HELLO, PUT, controlFrame({ type: 'offer', id: 0, path: 'a.txt', kind: 'file', size: 1 }), controlFrame({ type: 'total', files: 1, bytes: 1 })]),
    says: /TOTAL must come once, before the first OFFER/,
  },
  {
    name: 'BEGIN for a file never offered',
    bytes: Buffer.concat([HELLO, PUT, controlFrame({ type: 'begin', id: 7, offset: 0 })]),
    says: /BEGIN for file 7/,
  },
];

test('each malformed input gets an ERROR naming the problem and a closed connection; an upload beside them lands intact', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    const big = path.join(src, 'beside.bin');
    await randomFile(big, 24 * 1024 * 1024);
    const digest = sha256File(big);
    const upload = putFiles({ host: HOST, port, paths: [big] });
    const outcomes = await Promise.all(CASES.map((c) => hostileSession(port, c.bytes)));
    for (const [i, c] of CASES.entries()) {
      const { messages, closed } = outcomes[i]!;
      assert.ok(closed, `${c.name}: the server kept the connection open`);
      const error = messages.find((m) => m.type === 'error');
      assert.ok(error && error.type === 'error', `${c.name}: no ERROR message (got ${messages.map((m) => m.type).join(', ') || 'nothing'})`);
      assert.equal(error.code, 'ERR_SOCKIT_BAD_HEADER', `${c.name}: ${error.message}`);
      assert.match(error.message, c.says, c.name);
    }
    const summary = await upload;
    assert.equal(summary.failed, 0);
    assert.equal(sha256File(path.join(srv, 'beside.bin')), digest);
    // The file that got too much DATA was small: nothing of it may look complete.
    assert.deepEqual(await listTree(srv), ['beside.bin']);
  });
});

test('random bytes, after a HELLO or instead of one, never stop the server from serving the next upload', async () => {
  await withFilesServer({}, async ({ port, srv, src }) => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 4096 }), async (greet, junk) => {
        const { closed } = await hostileSession(port, Buffer.concat([greet ? HELLO : Buffer.alloc(0), Buffer.from(junk)]));
        // The peer half-closed after its junk: the server must not wait for more.
        assert.ok(closed, 'the server kept a half-closed garbage connection open');
      }),
      { numRuns: 60 },
    );
    await fsp.writeFile(path.join(src, 'after.txt'), 'still serving');
    const summary = await putFiles({ host: HOST, port, paths: [path.join(src, 'after.txt')] });
    assert.equal(summary.failed, 0);
    assert.equal(await fsp.readFile(path.join(srv, 'after.txt'), 'utf8'), 'still serving');
    assert.deepEqual(await listTree(srv), ['after.txt']);
  });
});

function classicUpload(header: string | Buffer, body: Buffer = Buffer.alloc(0), declared?: number): Buffer {
  const json = Buffer.isBuffer(header) ? header : Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeInt32LE(declared ?? json.length, 0);
  return Buffer.concat([prefix, json, body]);
}

const CLASSIC_CASES: Array<{ name: string; bytes: Buffer; says: RegExp }> = [
  { name: 'a negative header length', bytes: classicUpload('{}', Buffer.alloc(0), -5), says: /length -5 is not positive/ },
  { name: 'a 1 GiB header length', bytes: classicUpload('{}', Buffer.alloc(0), 1 << 30), says: /exceeds the 65536-byte limit/ },
  { name: 'a header that is not JSON', bytes: classicUpload('filename=x'), says: /not UTF-8 JSON/ },
  { name: 'a header that is not UTF-8', bytes: classicUpload(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), says: /not UTF-8 JSON/ },
  { name: 'a header without a filename', bytes: classicUpload('{"filesize": 3}', Buffer.from('abc')), says: /no "filename"/ },
  { name: 'a negative filesize', bytes: classicUpload('{"filename": "a.txt", "filesize": -1}'), says: /non-negative integer "filesize"/ },
  { name: 'a fractional filesize', bytes: classicUpload('{"filename": "a.txt", "filesize": 1.5}', Buffer.from('ab')), says: /non-negative integer "filesize"/ },
  { name: 'fewer bytes than declared', bytes: classicUpload('{"filename": "short.txt", "filesize": 100}', Buffer.from('only 13 bytes')), says: /13 of the 100 bytes|ERR_SOCKIT_SHORT_TRANSFER/ },
];

test('classic protocol: each malformed upload is refused in the log and closed, nothing is stored, and a good upload follows', async () => {
  const lines: string[] = [];
  await withFilesServer({ protocol: 'classic', log: (l) => lines.push(...l.split('\n')) }, async ({ port, srv, src }) => {
    const outcomes = await Promise.all(CLASSIC_CASES.map((c) => hostileSession(port, c.bytes)));
    for (const [i, c] of CLASSIC_CASES.entries()) assert.ok(outcomes[i]!.closed, `${c.name}: the server kept the connection open`);
    // The log lines come in any order (the sessions ran at once), a short upload's only after its
    // part is deleted: wait for them, then each case must have its line.
    const failures = (): string[] => lines.filter((l) => l.includes('classic upload failed'));
    for (const until = Date.now() + 5000; failures().length < CLASSIC_CASES.length && Date.now() < until; ) await delay(10);
    assert.equal(failures().length, CLASSIC_CASES.length, failures().join('\n'));
    for (const c of CLASSIC_CASES) assert.ok(failures().some((l) => c.says.test(l)), `${c.name}: no log line matching ${c.says}`);
    assert.deepEqual(await listTree(srv), []);
    const good = path.join(src, 'good.txt');
    await fsp.writeFile(good, 'classic still works');
    await sendClassic({ host: HOST, port, file: good });
    assert.equal(await fsp.readFile(path.join(srv, 'good.txt'), 'utf8'), 'classic still works');
  });
});

/**
 * A server that answers a GET by offering one file of `declared` bytes and then misbehaving as
 * `lie` says; `get` runs against it. Resolves with get's outcome and what --out holds afterwards.
 */
async function getFromLiar(declared: number, lie: (ch: FrameChannel) => Promise<void>): Promise<{ outcome: Awaited<ReturnType<typeof getFiles>> | Error; files: string[] }> {
  const t = tempDir('liar');
  const listener = await tcpTransport.listen({ host: HOST, port: 0 });
  listener.once('connection', (socket) => {
    void (async () => {
      const ch = new FrameChannel(socket);
      await ch.next(); // HELLO
      ch.send({ type: 'hello', version: 1, features: [], agent: 'liar' });
      await ch.next(); // GET
      ch.send({ type: 'offer', id: 0, path: 'lie.bin', kind: 'file', size: declared });
      if ((await ch.next())?.type !== 'accept') return ch.destroy();
      ch.send({ type: 'begin', id: 0, offset: 0 });
      await lie(ch);
      // Whatever the client says now (FAIL, ERROR), the session is over for the liar.
      await ch.next().catch(() => undefined);
      ch.send({ type: 'bye', files: 0, bytes: 0 });
      await ch.end(500).catch(() => undefined);
    })().catch(() => undefined);
  });
  try {
    const outcome = await getFiles({ host: HOST, port: listener.address.port, names: ['lie.bin'], outDir: t.dir }).catch((err: Error) => err);
    return { outcome, files: await listTree(t.dir) };
  } finally {
    await listener.close();
    await t.cleanup();
  }
}

test('get from a lying server: too many bytes, a wrong SHA-256, too few bytes or garbage fail clearly and store nothing complete', async () => {
  const body = Buffer.alloc(1000, 7);
  const rightHash = createHash('sha256').update(body).digest('hex');

  const tooMany = await getFromLiar(1000, async (ch) => {
    ch.sendData(Buffer.concat([body, body]));
    ch.send({ type: 'end', id: 0, sha256: rightHash });
  });
  assert.ok(tooMany.outcome instanceof Error && isSockitError(tooMany.outcome), `too many bytes: ${String(tooMany.outcome)}`);
  assert.match(tooMany.outcome.message, /more than the 1000 bytes/);
  assert.deepEqual(tooMany.files, []);

  const wrongHash = await getFromLiar(1000, async (ch) => {
    ch.sendData(body);
    ch.send({ type: 'end', id: 0, sha256: '00'.repeat(32) });
  });
  assert.ok(!(wrongHash.outcome instanceof Error), String(wrongHash.outcome));
  assert.equal(wrongHash.outcome.results[0]?.ok, false);
  assert.equal(wrongHash.outcome.results[0]?.error?.code, 'ERR_SOCKIT_BAD_HASH');
  assert.deepEqual(wrongHash.files, []);

  const tooFew = await getFromLiar(1000, async (ch) => {
    ch.sendData(body.subarray(0, 600));
    ch.send({ type: 'end', id: 0, sha256: rightHash });
  });
  assert.ok(!(tooFew.outcome instanceof Error), String(tooFew.outcome));
  assert.equal(tooFew.outcome.results[0]?.ok, false);
  assert.equal(tooFew.outcome.results[0]?.error?.code, 'ERR_SOCKIT_SHORT_TRANSFER');
  assert.deepEqual(tooFew.files, []);

  const garbage = await getFromLiar(1000, async (ch) => {
    ch.socket.write(Buffer.from('this is not a frame at all, just text that a confused peer sent'));
  });
  assert.ok(garbage.outcome instanceof Error && isSockitError(garbage.outcome), `garbage: ${String(garbage.outcome)}`);
  assert.deepEqual(garbage.files, []);
});
