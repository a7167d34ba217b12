// The seeds' programs written with sockit, as runnable examples (the README quotes them).
// Each example is the whole program; the test around it only picks a free port and checks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenTcp, connectTcp, UdpEndpoint } from './seed-example-imports.js';

test('seed 002: the uppercase TCP server, and a client of it', async () => {
  // --- server: every client's bytes come back uppercased (seed 002's conn.sendall(data.upper())).
  const server = await listenTcp({ port: 0, framing: 'raw' }, (conn) => {
    conn.on('message', (data: Buffer) => conn.send(data.toString().toUpperCase()));
    conn.on('end', () => conn.end());
  });
  const port = server.address.port;

  // --- client: connect, send, read the answer, close.
  const client = await connectTcp({ host: 'localhost', port, framing: 'raw' });
  const response = await client.request('Hello, Server!');
  await client.end();

  assert.equal(response.toString(), 'HELLO, SERVER!');
  await server.close();
});

test('seed 001: the UDP server that answers "hi", and its client', async () => {
  // --- server: receive one datagram, print it, answer the sender, close.
  const received: string[] = [];
  const sk = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const served = (async () => {
    for await (const { message, rinfo } of sk) {
      received.push(message.toString());
      await sk.send('hi', rinfo.port, rinfo.address);
      break;
    }
    await sk.close();
  })();
  const port = sk.address.port;

  // --- client: send "hello", print the reply.
  const client = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  await client.send('hello', port, '127.0.0.1');
  for await (const { message } of client) {
    assert.equal(message.toString('utf8'), 'hi');
    break;
  }
  await client.close();

  await served;
  assert.deepEqual(received, ['hello']);
});
