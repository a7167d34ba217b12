// MessageConnection's memory bounds and large-message writes, over real loopback TCP: the inbox is
// bounded in count (empty frames), queued small frames do not pin socket chunks, and mixed
// small/large messages arrive whole and in order at a raw Node server decoding len32 itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import fc from 'fast-check';
import { listenTcp } from '../../src/tcp/message-server.js';
import { connectTcp } from '../../src/tcp/connect-tcp.js';
import { MessageConnection, DEFAULT_READ_HIGH_WATER_MARK_BYTES, INBOX_MESSAGE_OVERHEAD_BYTES } from '../../src/tcp/message-connection.js';
import { getFraming } from '../../src/framing/index.js';

const HOST = '127.0.0.1';
/** The most one socket read delivers. */
const SOCKET_READ_BYTES = 64 * 1024;

/** Connects a raw Node socket that ignores what it receives; the caller destroys it. */
async function rawClient(port: number): Promise<net.Socket> {
  const raw = net.connect({ host: HOST, port });
  raw.on('error', () => undefined);
  raw.resume();
  await once(raw, 'connect');
  return raw;
}

/** Resolves with the first connection `listenTcp` accepts, taking nothing from it. */
function firstConnection(conns: MessageConnection[]): Promise<MessageConnection> {
  return (async () => {
    while (conns.length === 0) await nextMacrotask();
    return conns[0]!;
  })();
}

const floods = [
  { framing: 'len32', frame: Buffer.alloc(4), frames: 2_000_000, frameBytes: 4, readWith: 'listener' },
  { framing: 'lines', frame: Buffer.from('\n'), frames: 200_000, frameBytes: 1, readWith: 'iterator' },
] as const;

for (const flood of floods) {
  test(`${flood.frames} empty ${flood.framing} frames nobody reads keep the inbox bounded; all arrive once read (${flood.readWith})`, async () => {
    // What broke: only payload bytes were counted, so empty frames queued without limit (inboxBytes stayed 0).
    const bound = DEFAULT_READ_HIGH_WATER_MARK_BYTES / INBOX_MESSAGE_OVERHEAD_BYTES + SOCKET_READ_BYTES / flood.frameBytes;
    let maxQueued = 0;
    const conns: MessageConnection[] = [];
    const server = await listenTcp({ host: HOST, port: 0, framing: flood.framing }, (conn) => {
      conns.push(conn);
      // Added after the connection's own 'data' listener: sees the inbox after each chunk was decoded.
      conn.socket.on('data', () => (maxQueued = Math.max(maxQueued, conn.inboxMessages)));
    });
    const raw = await rawClient(server.address.port);
    raw.end(Buffer.alloc(flood.frames * flood.frameBytes, flood.frame));
    const conn = await firstConnection(conns);

    // Nobody reads: wait until reading stopped (or, were the inbox unbounded, until it overflows).
    while (!conn.socket.isPaused() && conn.inboxMessages <= bound && !conn.peerEnded) await nextMacrotask();
    assert.equal(conn.peerEnded, false, 'the whole flood was taken in without a reader');
    assert.ok(conn.inboxMessages > 0);
    assert.ok(maxQueued <= bound, `inbox held ${maxQueued} messages, bound ${bound}`);

    let received = 0;
    if (flood.readWith === 'listener') {
      const ended = once(conn, 'end');
      conn.on('message', (m: Buffer) => {
        assert.equal(m.length, 0);
        received++;
      });
      await ended;
    } else {
      for await (const m of conn) {
        assert.equal(m.length, 0);
        received++;
      }
    }
    assert.equal(received, flood.frames);
    assert.ok(maxQueued <= bound, `inbox held ${maxQueued} messages, bound ${bound}`);
    await conn.end();
    raw.destroy();
    await server.close();
  });
}

test('queued small frames are copied out of the socket chunk; frames taken at once are not', async () => {
  // What broke: a queued 10-byte message was a view of its 64 KiB chunk and kept all of it alive.
  const MESSAGES = 200;
  const wire = Buffer.concat(Array.from({ length: MESSAGES }, (_, i) => getFraming('len32').encode(Buffer.from(`message ${i}`))).flat());
  const expected = Array.from({ length: MESSAGES }, (_, i) => `message ${i}`);
  const chunkMemory = new Set<ArrayBufferLike>();
  const conns: MessageConnection[] = [];
  const taken: Buffer[] = [];
  const server = await listenTcp({ host: HOST, port: 0, framing: 'len32' }, (conn) => {
    conns.push(conn);
    conn.socket.on('data', (chunk: Buffer) => chunkMemory.add(chunk.buffer));
    // The second connection is read as messages arrive.
    if (conns.length === 2) conn.on('message', (m: Buffer) => taken.push(m));
  });

  // First connection: nobody reads until all messages wait in the inbox.
  const queuedSender = await rawClient(server.address.port);
  queuedSender.end(wire);
  const queuedConn = await firstConnection(conns);
  while (queuedConn.inboxMessages < MESSAGES) await nextMacrotask();
  const queued: Buffer[] = [];
  for await (const m of queuedConn) queued.push(m);
  assert.deepEqual(queued.map(String), expected);
  for (const m of queued) assert.ok(!chunkMemory.has(m.buffer), 'a queued message shares memory with a socket chunk');

  // Second connection: a 'message' listener takes every frame as it is decoded: zero-copy views.
  const takenSender = await rawClient(server.address.port);
  takenSender.end(wire);
  while (conns.length < 2 || !conns[1]!.peerEnded) await nextMacrotask();
  assert.deepEqual(taken.map(String), expected);
  for (const m of taken) assert.ok(chunkMemory.has(m.buffer), 'a message taken at once was copied');

  await Promise.all(conns.map((c) => c.end()));
  queuedSender.destroy();
  takenSender.destroy();
  await server.close();
});

/** A raw Node server decoding len32 itself; `next()` resolves with the frames of the next connection. */
async function rawLen32Server(): Promise<{ port: number; next(): Promise<Buffer[]>; close(): Promise<void> }> {
  const results: Array<Promise<Buffer[]>> = [];
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    results.push(new Promise((resolve, reject) => {
      const decoder = getFraming('len32').createDecoder({ maxFrameBytes: 1 << 20 });
      const frames: Buffer[] = [];
      sock.on('data', (chunk: Buffer) => decoder.push(chunk, (f) => frames.push(f)));
      sock.on('error', reject);
      sock.on('end', () => {
        decoder.end(() => undefined);
        sock.end();
        resolve(frames);
      });
    }));
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async next() {
      while (results.length === 0) await nextMacrotask();
      return results.shift()!;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('mixed small and large messages arrive whole and in order (raw len32 decoder on the other end)', async () => {
  // Large messages (>= 16 KiB) take the corked header+payload path, small ones the per-tick batch.
  const raw = await rawLen32Server();
  const size = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 3_000, max: 20_000 }), fc.integer({ min: 16 * 1024 - 8, max: 300_000 }));
  const step = fc.record({ bytes: size, yieldAfter: fc.boolean() });
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (plan) => {
      const payloads = plan.map(({ bytes }, i) => {
        const p = Buffer.alloc(bytes, i % 251);
        if (bytes >= 4) p.writeUInt32BE(i, 0);
        return p;
      });
      const conn = await connectTcp({ host: HOST, port: raw.port, framing: 'len32' });
      for (let i = 0; i < plan.length; i++) {
        if (!conn.send(payloads[i]!)) await conn.drained();
        if (plan[i]!.yieldAfter) await nextMacrotask();
      }
      await conn.end();
      const frames = await raw.next();
      for await (const _ of conn) assert.fail('the raw server sends nothing');
      assert.equal(frames.length, payloads.length);
      frames.forEach((f, i) => assert.ok(f.equals(payloads[i]!), `message ${i} (${payloads[i]!.length} bytes) differs`));
    }),
    { numRuns: 25 },
  );
  await raw.close();
});

test('a large message leaves with its header in one corked write, uncorked by the end of the tick', async () => {
  // What broke: header and payload were two write() calls, so with Nagle off the 4-byte header went
  // out as a packet (and a syscall) of its own.
  const raw = await rawLen32Server();
  const conn = await connectTcp({ host: HOST, port: raw.port, framing: 'len32' });
  const large = Buffer.alloc(100_000, 0x6c);
  conn.send('small first');
  conn.send(large);
  assert.ok(conn.socket.writableCorked > 0, 'the socket is corked while the tick sends');
  await nextMacrotask();
  assert.equal(conn.socket.writableCorked, 0, 'the tick flush uncorked the socket');
  // end() in the same tick as a large send must uncork too, or nothing would leave.
  conn.send(large);
  await conn.end();
  const frames = await raw.next();
  assert.deepEqual(frames.map((f) => f.length), ['small first'.length, large.length, large.length]);
  assert.ok(frames[1]!.equals(large) && frames[2]!.equals(large));
  for await (const _ of conn) assert.fail('the raw server sends nothing');
  await raw.close();
});
