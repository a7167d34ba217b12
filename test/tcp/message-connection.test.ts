// MessageConnection over real loopback TCP: messages, request/reply, half-close, backpressure,
// limits, idle timeout. Every socket is closed at the end of its test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { listenTcp, type MessageServer } from '../../src/tcp/message-server.js';
import { connectTcp } from '../../src/tcp/connect-tcp.js';
import { MessageConnection, DEFAULT_HIGH_WATER_MARK_BYTES, DEFAULT_READ_HIGH_WATER_MARK_BYTES } from '../../src/tcp/message-connection.js';
import { ConnectionError, InvalidStateError, LimitExceededError, ProtocolError, SockitError, TimeoutError } from '../../src/errors.js';

const HOST = '127.0.0.1';

/** An echo server speaking `framing`; every test closes it. */
function echoServer(framing: 'len32' | 'lines' | 'len32le' = 'len32', extra: { maxFrameBytes?: number; idleTimeoutMs?: number } = {}): Promise<MessageServer> {
  return listenTcp({ host: HOST, port: 0, framing, ...extra }, (conn) => {
    conn.on('message', (m: Buffer) => conn.send(m));
    conn.on('end', () => void conn.end());
  });
}

/** Resolves with the error (or undefined) a connection closes with. */
function closedWith(conn: MessageConnection): Promise<SockitError | undefined> {
  if (conn.closed) return Promise.resolve(conn.error);
  return new Promise((resolve) => conn.once('close', (err?: SockitError) => resolve(err)));
}

test('request/reply: replies are matched to requests in order', async () => {
  const server = await echoServer();
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'len32' });
  const replies = await Promise.all(['one', 'two', 'three'].map((s) => client.request(s)));
  assert.deepEqual(replies.map(String), ['one', 'two', 'three']);
  await client.end();
  await server.close();
});

test('many concurrent clients are all served', async () => {
  const server = await echoServer('lines');
  const clients = await Promise.all(Array.from({ length: 40 }, () => connectTcp({ host: HOST, port: server.address.port, framing: 'lines' })));
  // The server counts a connection once it accepted it, which may be after connect() resolved.
  while (server.connectionCount < 40) await nextMacrotask();
  assert.equal(server.connectionCount, 40);
  const results = await Promise.all(clients.map(async (c, i) => {
    const got: string[] = [];
    for (let k = 0; k < 25; k++) c.send(`client ${i} message ${k}`);
    void c.end();
    for await (const m of c) got.push(m.toString());
    return got;
  }));
  results.forEach((got, i) => assert.deepEqual(got, Array.from({ length: 25 }, (_, k) => `client ${i} message ${k}`)));
  await server.close();
  assert.equal(server.connectionCount, 0);
});

test('many messages sent in one tick arrive as separate messages (the sticky-packet fix)', async () => {
  const server = await echoServer('len32le');
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'len32le' });
  const sent = Array.from({ length: 1000 }, (_, i) => `message number ${i}`);
  for (const s of sent) client.send(s);
  void client.end();
  const got: string[] = [];
  for await (const m of client) got.push(m.toString());
  assert.deepEqual(got, sent);
  await server.close();
});

test('half-close: the server replies after the client FIN and the client receives it', async () => {
  const server = await listenTcp({ host: HOST, port: 0, framing: 'lines' }, async (conn) => {
    let count = 0;
    for await (const _ of conn) count++;
    // The peer's FIN has arrived: our side is still open for the reply.
    assert.equal(conn.peerEnded, true);
    conn.send(`got ${count} messages`);
    await conn.end();
  });
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  client.send('a');
  client.send('b');
  client.send('c');
  await client.end();
  assert.throws(() => client.send('too late'), InvalidStateError);
  const got: string[] = [];
  for await (const m of client) got.push(m.toString());
  assert.deepEqual(got, ['got 3 messages']);
  assert.equal(await closedWith(client), undefined);
  await server.close();
});

test('breaking out of iteration keeps the connection usable', async () => {
  const server = await echoServer('lines');
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  client.send('first');
  client.send('second');
  for await (const m of client) {
    assert.equal(m.toString(), 'first');
    break;
  }
  assert.equal(client.closed, false);
  client.send('third');
  void client.end();
  const rest: string[] = [];
  for await (const m of client) rest.push(m.toString());
  assert.deepEqual(rest, ['second', 'third']);
  await server.close();
});

test('messages that arrive before anyone listens wait for the first listener', async () => {
  const server = await echoServer('lines');
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  client.send('early');
  // Let the echo come back while nobody listens for it.
  while (client.inboxBytes === 0) await nextMacrotask();
  const [m] = (await once(client, 'message')) as [Buffer];
  assert.equal(m.toString(), 'early');
  await client.end();
  await server.close();
});

test('backpressure: a slow reader keeps both sides bounded', async () => {
  const MESSAGE = Buffer.alloc(4096, 0x61);
  const TOTAL_MESSAGES = 4096; // 16 MiB: far more than the socket buffers hold
  let maxSenderBuffered = 0;
  let sendReturnedFalse = 0;
  const server = await listenTcp({ host: HOST, port: 0, framing: 'len32' }, async (conn) => {
    for (let i = 0; i < TOTAL_MESSAGES; i++) {
      const ok = conn.send(MESSAGE);
      maxSenderBuffered = Math.max(maxSenderBuffered, conn.bufferedBytes);
      if (!ok) {
        sendReturnedFalse++;
        await conn.drained();
      }
    }
    await conn.end();
  });
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'len32' });
  let received = 0;
  let maxInbox = 0;
  for await (const m of client) {
    assert.equal(m.length, MESSAGE.length);
    received++;
    maxInbox = Math.max(maxInbox, client.inboxBytes);
    // A slow consumer: yield to the event loop after every message.
    await nextMacrotask();
  }
  assert.equal(received, TOTAL_MESSAGES);
  assert.ok(sendReturnedFalse > 0, 'the sender was told to wait');
  // Bounded by the high-water mark plus one batch (64 KiB) / one socket read (64 KiB).
  assert.ok(maxSenderBuffered <= DEFAULT_HIGH_WATER_MARK_BYTES + 64 * 1024 + MESSAGE.length, `sender buffered ${maxSenderBuffered}`);
  assert.ok(maxInbox <= DEFAULT_READ_HIGH_WATER_MARK_BYTES + 64 * 1024, `reader queued ${maxInbox}`);
  await client.end();
  await server.close();
});

test('an oversized frame closes only that connection; others keep being served', async () => {
  const serverErrors: Array<SockitError | undefined> = [];
  const server = await listenTcp({ host: HOST, port: 0, framing: 'len32', maxFrameBytes: 1024 }, (conn) => {
    conn.on('message', (m: Buffer) => conn.send(m));
    conn.on('end', () => void conn.end());
    conn.on('close', (err?: SockitError) => serverErrors.push(err));
  });
  const good = await connectTcp({ host: HOST, port: server.address.port, framing: 'len32' });
  assert.equal((await good.request('before')).toString(), 'before');

  const bad = net.connect({ host: HOST, port: server.address.port });
  await once(bad, 'connect');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(1_000_000);
  bad.write(header);
  bad.on('error', () => undefined);
  bad.resume();
  await once(bad, 'close');

  assert.equal((await good.request('after')).toString(), 'after');
  assert.equal(serverErrors.length, 1);
  assert.ok(serverErrors[0] instanceof LimitExceededError);
  assert.equal(serverErrors[0].code, 'ERR_SOCKIT_FRAME_TOO_LARGE');
  await good.end();
  await server.close();
});

test('replies to the messages before a bad frame in the same read still reach the peer', async () => {
  // Broke: the decoder error destroyed the socket before the tick's batch of replies was written,
  // so a client whose valid messages shared a segment with an oversized (or negative) header got
  // nothing back, while the same messages in separate segments were answered.
  for (const bad of [Buffer.from([0x00, 0x10, 0x00, 0x00]), Buffer.from([0xfb, 0xff, 0xff, 0xff])]) {
    const server = await echoServer('len32le', { maxFrameBytes: 1024 });
    const raw = net.connect({ host: HOST, port: server.address.port });
    await once(raw, 'connect');
    const frames = ['one', 'two', 'three'].map((m) => {
      const header = Buffer.alloc(4);
      header.writeInt32LE(m.length);
      return Buffer.concat([header, Buffer.from(m)]);
    });
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('error', () => undefined);
    raw.write(Buffer.concat([...frames, bad]));
    await once(raw, 'close');
    assert.deepEqual(Buffer.concat(chunks), Buffer.concat(frames), `after header ${bad.toString('hex')}`);
    await server.close();
  }
});

test('a frame cut short by EOF is reported as truncated', async () => {
  const server = await listenTcp({ host: HOST, port: 0, framing: 'len32' }, () => undefined);
  const conns: MessageConnection[] = [];
  server.on('connection', (c: MessageConnection) => conns.push(c));
  const raw = net.connect({ host: HOST, port: server.address.port });
  await once(raw, 'connect');
  raw.end(Buffer.from([0, 0, 0, 10, 1, 2, 3]));
  raw.resume();
  while (conns.length === 0) await nextMacrotask();
  const err = await closedWith(conns[0]!);
  assert.ok(err instanceof ProtocolError);
  assert.equal(err.code, 'ERR_SOCKIT_TRUNCATED_FRAME');
  raw.destroy();
  await server.close();
});

test('idle timeout destroys a silent connection with TimeoutError phase idle', async () => {
  const errors: Array<SockitError | undefined> = [];
  const server = await listenTcp({ host: HOST, port: 0, framing: 'lines', idleTimeoutMs: 50 }, (conn) => {
    conn.on('close', (err?: SockitError) => errors.push(err));
  });
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  for await (const _ of client) assert.fail('the server sends nothing');
  // The server closed its side; ours is half-open until we close it.
  client.destroy();
  while (errors.length === 0) await nextMacrotask();
  assert.ok(errors[0] instanceof TimeoutError);
  assert.equal(errors[0].phase, 'idle');
  await server.close();
});

test('a reply timeout rejects with TimeoutError phase reply and closes the connection', async () => {
  const server = await listenTcp({ host: HOST, port: 0, framing: 'lines' }, (conn) => {
    conn.on('message', () => undefined);
    conn.on('end', () => void conn.end());
  });
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  await assert.rejects(client.request('anyone?', { timeoutMs: 50 }), (err: unknown) => err instanceof TimeoutError && err.phase === 'reply');
  await closedWith(client);
  await server.close();
});

test('strings are encoded in the connection charset (gbk)', async () => {
  const server = await echoServer('lines');
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines', encoding: 'gbk' });
  const reply = await client.request('你好');
  assert.deepEqual([...reply], [0xc4, 0xe3, 0xba, 0xc3]);
  await client.end();
  await server.close();
});

test('len16 refuses a message it cannot carry, before sending anything', async () => {
  const server = await echoServer('len32');
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'len16' });
  assert.throws(() => client.send(Buffer.alloc(70_000)), LimitExceededError);
  assert.equal(client.closed, false);
  client.destroy();
  await closedWith(client);
  await server.close();
});

test('a peer reset surfaces as ConnectionError on the connection', async () => {
  const server = await listenTcp({ host: HOST, port: 0, framing: 'lines' }, (conn) => {
    conn.once('message', () => (conn.socket as unknown as net.Socket).resetAndDestroy());
  });
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  client.send('reset me');
  const iteration = (async () => {
    for await (const _ of client) assert.fail('no message expected');
  })();
  await assert.rejects(iteration, (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKIT_CONNECTION_RESET');
  await server.close();
});

test('a request pending when the peer half-closes is rejected, not left hanging', async () => {
  const server = await listenTcp({ host: HOST, port: 0, framing: 'lines' }, (conn) => {
    conn.once('message', () => void conn.end());
  });
  const client = await connectTcp({ host: HOST, port: server.address.port, framing: 'lines' });
  await assert.rejects(client.request('will you answer?'), (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKIT_CONNECTION_CLOSED');
  // A request made after the FIN has no reply to wait for either: it is refused at once.
  assert.equal(client.peerEnded, true);
  await assert.rejects(client.request('and now?'), (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKIT_CONNECTION_CLOSED');
  await client.end();
  await server.close();
});

test('destroy() inside a message handler stops delivery at once, even of frames from the same read', async () => {
  const seen: string[] = [];
  let closedAt = -1;
  const server = await listenTcp({ host: HOST, port: 0, framing: 'lines' }, (conn) => {
    conn.on('message', (m: Buffer) => {
      seen.push(m.toString());
      if (m.toString() === '1') conn.destroy();
    });
    conn.on('close', () => (closedAt = seen.length));
  });
  const raw = net.connect(server.address.port, HOST);
  raw.on('error', () => undefined);
  await once(raw, 'connect');
  raw.write('0\n1\n2\n3\n4\n'); // one write: one read on the other end, five frames
  await once(raw, 'close');
  assert.deepEqual(seen, ['0', '1']);
  assert.equal(closedAt, 2);
  await server.close();
});

test('a port out of range is ERR_SOCKIT_INVALID_ARGUMENT from connect and listen, over TCP and RUDP', async () => {
  const { createRudpTransport } = await import('../../src/io/rudp-transport.js');
  for (const transport of [undefined, createRudpTransport()]) {
    for (const port of [70_000, -1, 1.5]) {
      await assert.rejects(connectTcp({ host: HOST, port, framing: 'lines', ...(transport ? { transport } : {}) }), (err: unknown) => err instanceof SockitError && err.code === 'ERR_SOCKIT_INVALID_ARGUMENT', `connect ${port}`);
      await assert.rejects(listenTcp({ host: HOST, port, framing: 'lines', ...(transport ? { transport } : {}) }, () => undefined), (err: unknown) => err instanceof SockitError && err.code === 'ERR_SOCKIT_INVALID_ARGUMENT', `listen ${port}`);
    }
  }
});
