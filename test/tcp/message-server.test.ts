// MessageServer and connectTcp: dual-stack listening, graceful close, and the errors of
// refused connections and busy ports, on real loopback sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { listenTcp, type MessageServer } from '../../src/tcp/message-server.js';
import { connectTcp } from '../../src/tcp/connect-tcp.js';
import type { MessageConnection } from '../../src/tcp/message-connection.js';
import { ConnectionError, type SockitError } from '../../src/errors.js';

function echo(conn: MessageConnection): void {
  conn.on('message', (m: Buffer) => conn.send(m));
  conn.on('end', () => void conn.end());
}

async function waitForCount(server: MessageServer, n: number): Promise<void> {
  while (server.connectionCount !== n) await nextMacrotask();
}

test('a listener without host serves IPv4 and IPv6 clients (dual-stack)', async () => {
  const server = await listenTcp({ port: 0, framing: 'lines' }, echo);
  assert.equal(server.address.family, 'IPv6');
  const v4 = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'lines' });
  const v6 = await connectTcp({ host: '::1', port: server.address.port, framing: 'lines' });
  assert.equal((await v4.request('over ipv4')).toString(), 'over ipv4');
  assert.equal((await v6.request('over ipv6')).toString(), 'over ipv6');
  const remotes = [...server.connections].map((c) => c.remoteAddress).sort();
  assert.deepEqual(remotes, ['::1', '::ffff:127.0.0.1']);
  await Promise.all([v4.end(), v6.end()]);
  await server.close();
});

test('graceful close: stops accepting, lets open connections finish', async () => {
  const server = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'lines' }, echo);
  const port = server.address.port;
  const client = await connectTcp({ host: '127.0.0.1', port, framing: 'lines' });
  await waitForCount(server, 1);
  const closed = server.close(60_000);
  await assert.rejects(connectTcp({ host: '127.0.0.1', port, framing: 'lines' }), (err: SockitError) => err.code === 'ERR_SOCKIT_CONNECTION_REFUSED');
  // The open connection is still served while the server drains.
  assert.equal((await client.request('still here')).toString(), 'still here');
  await client.end();
  await closed;
  assert.equal(server.connectionCount, 0);
});

test('graceful close destroys connections still open when the grace period ends', async () => {
  const server = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'lines' }, echo);
  const client = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'lines' });
  await waitForCount(server, 1);
  await server.close(20);
  assert.equal(server.connectionCount, 0);
  // The client never ended; the server's close reached it all the same.
  for await (const _ of client) assert.fail('no message expected');
  client.destroy();
});

test('connecting to a closed port fails with ERR_SOCKIT_CONNECTION_REFUSED', async () => {
  const server = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'lines' }, echo);
  const port = server.address.port;
  await server.close();
  await assert.rejects(connectTcp({ host: '127.0.0.1', port, framing: 'lines' }), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'ERR_SOCKIT_CONNECTION_REFUSED');
    assert.equal(err.reason, 'refused');
    assert.match(err.message, /127\.0\.0\.1:\d+: connection refused/);
    return true;
  });
});

test('listening on a busy port fails with ERR_SOCKIT_ADDRESS_IN_USE', async () => {
  const first = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'lines' }, echo);
  await assert.rejects(listenTcp({ host: '127.0.0.1', port: first.address.port, framing: 'lines' }, echo), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'ERR_SOCKIT_ADDRESS_IN_USE');
    return true;
  });
  await first.close();
});

test('a handler that throws loses its own connection, not the server', async () => {
  let calls = 0;
  const server = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'lines' }, (conn) => {
    if (++calls === 1) throw new Error('handler bug');
    echo(conn);
  });
  const doomed = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'lines' });
  for await (const _ of doomed) assert.fail('no message expected');
  doomed.destroy();
  const fine = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'lines' });
  assert.equal((await fine.request('ok')).toString(), 'ok');
  await fine.end();
  await server.close();
});

test('bad connection options are refused before binding or connecting, not per connection', async () => {
  // Before: listenTcp bound anyway and then destroyed every accepted socket, reporting the error
  // only to 'error' listeners; connectTcp left the connected socket open when the options threw.
  const unknownFraming = (err: SockitError): boolean => err.code === 'ERR_SOCKIT_UNKNOWN_FRAMING';
  await assert.rejects(listenTcp({ host: '127.0.0.1', port: 0, framing: 'len64' as 'len32' }, echo), unknownFraming);
  const server = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'lines' }, echo);
  await assert.rejects(connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'lines', maxFrameBytes: -1 }), (err: SockitError) => err.code === 'ERR_SOCKIT_INVALID_ARGUMENT');
  await server.close();
});
