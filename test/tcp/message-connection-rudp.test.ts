// MessageConnection runs over any StreamTransport: the same request/reply and half-close over
// sockit's RUDP (TCP's mechanisms over UDP) on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenTcp } from '../../src/tcp/message-server.js';
import { connectTcp } from '../../src/tcp/connect-tcp.js';
import { createRudpTransport } from '../../src/io/rudp-transport.js';

test('messages, request/reply and half-close over RUDP', async () => {
  const transport = createRudpTransport();
  const server = await listenTcp({ transport, host: '127.0.0.1', port: 0, framing: 'len32' }, async (conn) => {
    let count = 0;
    for await (const m of conn) {
      count++;
      if (m.toString() === 'ping') conn.send('pong');
    }
    conn.send(`${count} messages`);
    await conn.end();
  });
  const client = await connectTcp({ transport, host: '127.0.0.1', port: server.address.port, framing: 'len32' });
  assert.equal((await client.request('ping')).toString(), 'pong');
  for (let i = 0; i < 500; i++) client.send(`message ${i}`);
  await client.end();
  const after: string[] = [];
  for await (const m of client) after.push(m.toString());
  assert.deepEqual(after, ['501 messages']);
  await server.close(5000);
});
