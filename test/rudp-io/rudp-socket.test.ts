// RUDP over real UDP on 127.0.0.1: the net.Socket-shaped Duplex, the net.Server-shaped server and
// the StreamTransport, end to end through the UDP driver and the engine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from '../../src/io/rudp-connect.js';
import { createServer, type RudpServer, type RudpServerOptions } from '../../src/io/rudp-server.js';
import type { RudpSocket } from '../../src/io/rudp-socket.js';
import { RudpDriver } from '../../src/io/rudp-driver.js';
import { createRudpTransport } from '../../src/io/rudp-transport.js';
import { ConnectionError, TimeoutError, type SockitError } from '../../src/errors.js';
import { cubic } from '../../src/rudp/congestion/index.js';

const HOST = '127.0.0.1';

async function listening(options: RudpServerOptions, onConnection: (socket: RudpSocket) => void): Promise<{ server: RudpServer; port: number }> {
  const server = createServer(options, onConnection);
  server.listen(0, HOST);
  await once(server, 'listening');
  return { server, port: server.address()!.port };
}

async function closeServer(server: RudpServer): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Collects everything a socket receives until 'end'. */
async function readAll(socket: RudpSocket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** An echo server that half-closes back after the client's FIN. */
function echo(socket: RudpSocket): void {
  socket.pipe(socket);
}

describe('RUDP socket over real UDP', () => {
  test('echoes 2 MiB byte for byte, with net.Socket addresses and byte counts', async () => {
    const { server, port } = await listening({ allowHalfOpen: true }, echo);
    const data = randomBytes(2 * 1024 * 1024);
    const client = connect({ port, host: HOST, allowHalfOpen: true });
    // Registered now: 'close' follows 'end' within the same tick.
    const closed = once(client, 'close');
    await once(client, 'connect');
    assert.equal(client.remoteAddress, HOST);
    assert.equal(client.remotePort, port);
    assert.equal(client.localAddress, HOST);
    assert.ok(client.localPort! > 0);
    const received = readAll(client);
    client.end(data);
    const back = await received;
    assert.equal(back.length, data.length);
    assert.equal(sha256(back), sha256(data));
    assert.equal(client.bytesWritten, data.length);
    assert.equal(client.bytesRead, data.length);
    await closed;
    await closeServer(server);
  });

  test('runs with CUBIC as the congestion controller on both ends', async () => {
    const engine = { congestion: cubic };
    const { server, port } = await listening({ allowHalfOpen: true, engine }, echo);
    const data = randomBytes(512 * 1024);
    const client = connect({ port, host: HOST, allowHalfOpen: true, engine });
    const closed = once(client, 'close');
    await once(client, 'connect');
    const back = readAll(client);
    client.end(data);
    assert.equal(sha256(await back), sha256(data));
    await closed;
    await closeServer(server);
  });

  test('half-close: the server replies after the client has ended its side', async () => {
    const { server, port } = await listening({ allowHalfOpen: true }, (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => {
        // The client's FIN arrived; our side is still open for the reply.
        socket.end(`got ${Buffer.concat(chunks).toString()}`);
      });
    });
    const client = connect({ port, host: HOST, allowHalfOpen: true });
    // Registered now: 'close' follows 'end' within the same tick.
    const closed = once(client, 'close');
    await once(client, 'connect');
    const reply = readAll(client);
    client.end('question');
    await once(client, 'finish');
    assert.equal((await reply).toString(), 'got question');
    await closed;
    await closeServer(server);
  });

  test('without allowHalfOpen the socket ends its side when the peer ends (net default)', async () => {
    let serverSocket: RudpSocket | undefined;
    const { server, port } = await listening({}, (socket) => {
      serverSocket = socket;
      socket.resume();
    });
    const client = connect({ port, host: HOST, allowHalfOpen: true });
    // Registered now: 'close' follows 'end' within the same tick.
    const closed = once(client, 'close');
    await once(client, 'connect');
    client.resume();
    client.end('bye');
    await once(client, 'end');
    assert.ok(serverSocket!.writableEnded);
    await closed;
    await closeServer(server);
  });

  test('backpressure: a slow reader bounds what the writer has in flight', async () => {
    const bufferBytes = 64 * 1024;
    const engine = { sendBufferBytes: bufferBytes, receiveBufferBytes: bufferBytes };
    const accepted = withResolvers<RudpSocket>();
    const { server, port } = await listening({ engine, allowHalfOpen: true }, (s) => accepted.resolve(s));
    const client = connect({ port, host: HOST, engine });
    const closed = once(client, 'close');
    await once(client, 'connect');
    const serverSocket = await accepted.promise;

    const total = 2 * 1024 * 1024;
    const chunk = Buffer.alloc(16 * 1024, 7);
    let handedToWrite = 0;
    let drainWaits = 0;
    const writer = (async () => {
      while (handedToWrite < total) {
        handedToWrite += chunk.length;
        if (!client.write(chunk)) {
          drainWaits++;
          await once(client, 'drain');
        }
      }
      client.end();
    })();

    // Read slowly: one chunk per 'readable', checking the bound each time. Without backpressure the
    // writer would hand over all 2 MiB at once.
    const bound = 64 * 1024 /* client writable HWM */ + chunk.length + bufferBytes * 2 + 64 * 1024 /* server readable HWM */ + 64 * 1024;
    let read = 0;
    const ended = once(serverSocket, 'end');
    while (read < total) {
      const c = serverSocket.read() as Buffer | null;
      if (c === null) {
        await once(serverSocket, 'readable');
        continue;
      }
      read += c.length;
      assert.ok(handedToWrite - read <= bound, `writer is ${handedToWrite - read} bytes ahead of the reader (bound ${bound})`);
      await new Promise((r) => setImmediate(r));
    }
    await writer;
    serverSocket.read();
    await ended;
    assert.equal(read, total);
    assert.ok(drainWaits > 0, 'write() never returned false');
    serverSocket.end();
    client.resume();
    await closed;
    await closeServer(server);
  });

  test('serves 40 connections at once, each getting its own bytes back', async () => {
    const { server, port } = await listening({ allowHalfOpen: true }, echo);
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const data = Buffer.alloc(20_000 + i, i);
        const client = connect({ port, host: HOST, allowHalfOpen: true });
        const closed = once(client, 'close');
        await once(client, 'connect');
        const back = readAll(client);
        client.end(data);
        const got = await back;
        await closed;
        return got.equals(data);
      }),
    );
    assert.deepEqual(results, Array(40).fill(true));
    await closeServer(server);
    assert.equal(server.connectionCount, 0);
  });

  test('a port outside 0–65535 throws at once, as net does, instead of being wrapped by the UDP socket', () => {
    // Regression: listen(70000) quietly bound UDP port 4464, and connect(70000) or connect(0) ended
    // in a misleading 'connection refused' from a SYN sent to some other port.
    for (const port of [70_000, -1, 1.5, Number.NaN]) {
      assert.throws(() => createServer().listen(port), { code: 'ERR_SOCKIT_INVALID_ARGUMENT', message: new RegExp(`listen on rudp: a port is an integer from 0 to 65535, not ${port}`) });
    }
    for (const port of [70_000, 0, -1, 1.5, Number.NaN]) {
      assert.throws(() => connect({ port, host: HOST }), { code: 'ERR_SOCKIT_INVALID_ARGUMENT', message: new RegExp(`rudp connect to 127\\.0\\.0\\.1:.*: a port is an integer from 1 to 65535`) });
    }
    assert.throws(() => createServer().listen({ port: 65_536 }), { code: 'ERR_SOCKIT_INVALID_ARGUMENT' });
  });

  test('connect refused: nothing bound to the port → ICMP port unreachable → ECONNREFUSED', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, HOST, r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const client = connect({ port, host: HOST });
    const [err] = (await once(client, 'error')) as [ConnectionError];
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.reason, 'refused');
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });

  test('connect refused: a RUDP endpoint that is not listening answers the SYN with RST', async () => {
    const driver = await RudpDriver.bind({ type: 'udp4', host: HOST, port: 0 });
    const client = connect({ port: driver.address.port, host: HOST });
    const [err] = (await once(client, 'error')) as [ConnectionError];
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.reason, 'refused');
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    driver.destroy();
  });

  test('connect timeout: a peer that never answers → TimeoutError (phase connect)', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, HOST, r));
    const client = connect({ port: silent.address().port, host: HOST, timeoutMs: 300 });
    const [err] = (await once(client, 'error')) as [TimeoutError];
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(err.phase, 'connect');
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ETIMEDOUT');
    silent.close();
  });

  test('destroy(err) resets the peer: it sees ECONNRESET', async () => {
    const peerError = withResolvers<Error>();
    const { server, port } = await listening({ allowHalfOpen: true }, (socket) => {
      socket.on('error', (e) => peerError.resolve(e));
      socket.resume();
    });
    const client = connect({ port, host: HOST });
    await once(client, 'connect');
    client.write('partial');
    client.on('error', () => undefined);
    client.destroy(new Error('giving up'));
    const err = (await peerError.promise) as ConnectionError;
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.reason, 'reset');
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNRESET');
    await closeServer(server);
  });

  test('server.close() stops accepting at once but emits close only after the last connection', async () => {
    const accepted = withResolvers<RudpSocket>();
    const { server, port } = await listening({ allowHalfOpen: true }, (s) => accepted.resolve(s));
    const client = connect({ port, host: HOST, allowHalfOpen: true });
    const clientClosed = once(client, 'close');
    await once(client, 'connect');
    const serverSocket = await accepted.promise;
    let serverClosed = false;
    server.close(() => (serverClosed = true));
    assert.equal(server.listening, false);
    // A new client is refused (RST) while the accepted connection still works.
    const late = connect({ port, host: HOST });
    const [lateErr] = (await once(late, 'error')) as [ConnectionError];
    assert.equal(lateErr.reason, 'refused');
    const reply = readAll(client);
    serverSocket.end('still served');
    assert.equal((await reply).toString(), 'still served');
    assert.equal(serverClosed, false);
    serverSocket.resume();
    const serverEmittedClose = once(server, 'close');
    client.end();
    await clientClosed;
    await serverEmittedClose;
    assert.equal(serverClosed, true);
  });

  test('close() right after listen(), before the bind completes: the server never listens and frees the port', async () => {
    // Regression: the bind finished after close() and the server listened anyway, for good: the
    // UDP port stayed taken and the process could not exit.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, HOST, r));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const server = createServer();
    let listened = false;
    server.listen(port, HOST, () => (listened = true));
    await closeServer(server);
    // A safety margin for a bind still under way; the assertions hold however long it takes.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(listened, false);
    assert.equal(server.listening, false);
    assert.equal(server.address(), null);
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, HOST, resolve);
    });
    again.close();
  });

  test('close() on a server already closed calls back at once (net passes an error), and a listener closes twice', async () => {
    // Regression: a second close() after the server had closed never called back, so
    // `sockit listen --rudp`, which closes its listener twice, never returned.
    const { server } = await listening({}, () => undefined);
    await closeServer(server);
    const [err] = await new Promise<[Error | undefined]>((resolve) => server.close((e) => resolve([e])));
    assert.equal((err as SockitError | undefined)?.code, 'ERR_SOCKIT_INVALID_STATE');
    const listener = await createRudpTransport().listen({ host: HOST, port: 0 });
    await listener.close();
    await listener.close();
  });

  test('createRudpTransport: listen and connect as a StreamTransport, with a trace', async () => {
    const lines: string[] = [];
    const transport = createRudpTransport({ trace: (line) => lines.push(line) });
    assert.equal(transport.name, 'rudp');
    const listener = await transport.listen({ host: HOST, port: 0 });
    listener.on('connection', (socket: RudpSocket) => socket.pipe(socket));
    const socket = await transport.connect({ host: HOST, port: listener.address.port });
    const closed = once(socket, 'close');
    const back = readAll(socket as RudpSocket);
    socket.end('over rudp');
    assert.equal((await back).toString(), 'over rudp');
    await closed;
    await listener.close();
    assert.ok(lines.some((l) => l.includes('SYN') && l.includes('SYN_SENT')), lines.slice(0, 5).join('\n'));
    assert.ok(lines.some((l) => l.includes('ESTABLISHED')));
    assert.ok(lines.some((l) => l.includes('FIN')));
  });

  test('createRudpTransport: dual-stack listen by default accepts IPv4 and IPv6 clients', async () => {
    const transport = createRudpTransport();
    const listener = await transport.listen({ port: 0 });
    listener.on('connection', (socket: RudpSocket) => socket.pipe(socket));
    for (const host of ['127.0.0.1', '::1']) {
      const socket = await transport.connect({ host, port: listener.address.port });
      const closed = once(socket, 'close');
      const back = readAll(socket as RudpSocket);
      socket.end(host);
      assert.equal((await back).toString(), host);
      await closed;
    }
    await listener.close();
  });
});

interface PromiseWithResolversLike<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function withResolvers<T>(): PromiseWithResolversLike<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
