import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ImpairProxy } from '../../src/io/impair-proxy.js';
import type { LinkImpairments } from '../../src/sim/impairments.js';
import { collector, numbered, sendTo, waitFor } from './udp-helpers.js';

/** A target (optionally echoing), a client, and the proxy between them; all closed when the test ends. */
async function setup(t: TestContext, upstream: LinkImpairments, downstream?: LinkImpairments, echo = false) {
  const target = await collector(echo);
  t.after(() => target.close());
  const client = await collector();
  t.after(() => client.close());
  const proxy = await ImpairProxy.start({ listen: { port: 0 }, target: { host: '127.0.0.1', port: target.port }, upstream, ...(downstream ? { downstream } : {}), seed: 1 });
  t.after(() => proxy.close());
  return { target, client, proxy };
}

async function sendAll(socket: import('node:dgram').Socket, port: number, count: number, sizeBytes = 32): Promise<void> {
  for (let i = 0; i < count; i++) await sendTo(socket, port, numbered(i, sizeBytes));
}

test('with 100% loss nothing reaches the target, and every datagram is counted as lost', async (t) => {
  const { target, client, proxy } = await setup(t, { loss: 1 });
  await sendAll(client.socket, proxy.address.port, 20);
  await waitFor(() => proxy.upstream.counters.sent === 20, 'the proxy to see 20 datagrams');
  // Drops are decided when a datagram arrives, so after 20 offers nothing can still be on its way.
  assert.equal(proxy.upstream.counters.dropped.loss, 20);
  assert.equal(target.received.length, 0);
});

test('with 100% duplication every datagram arrives twice', async (t) => {
  const { target, client, proxy } = await setup(t, { duplicate: 1 });
  await sendAll(client.socket, proxy.address.port, 10);
  await waitFor(() => target.received.length === 20, '20 arrivals');
  const counts = new Map<number, number>();
  for (const r of target.received) counts.set(r.bytes.readUInt32BE(0), (counts.get(r.bytes.readUInt32BE(0)) ?? 0) + 1);
  assert.deepEqual([...counts.entries()].sort((a, b) => a[0] - b[0]), Array.from({ length: 10 }, (_, i) => [i, 2]));
  assert.equal(proxy.upstream.counters.delivered, 20);
});

test('a delay keeps the order, both ways, and replies reach the client that sent', async (t) => {
  const { client, proxy } = await setup(t, { delayMs: 15 }, { delayMs: 5 }, true);
  await sendAll(client.socket, proxy.address.port, 50);
  await waitFor(() => client.received.length === 50, '50 echoes');
  assert.deepEqual(client.received.map((r) => r.bytes.readUInt32BE(0)), Array.from({ length: 50 }, (_, i) => i));
  assert.ok(client.received.every((r) => r.port === proxy.address.port), 'replies come from the proxy');
});

test('each client gets its own upstream port and only its own replies', async (t) => {
  const { proxy } = await setup(t, {}, {}, true);
  const a = await collector();
  t.after(() => a.close());
  const b = await collector();
  t.after(() => b.close());
  for (let i = 0; i < 5; i++) {
    await sendTo(a.socket, proxy.address.port, Buffer.from(`a${i}`));
    await sendTo(b.socket, proxy.address.port, Buffer.from(`b${i}`));
  }
  await waitFor(() => a.received.length === 5 && b.received.length === 5, 'five echoes each');
  assert.deepEqual(a.received.map((r) => r.bytes.toString()), ['a0', 'a1', 'a2', 'a3', 'a4']);
  assert.deepEqual(b.received.map((r) => r.bytes.toString()), ['b0', 'b1', 'b2', 'b3', 'b4']);
  assert.equal(proxy.sessions, 2);
});

test('dropNth drops exactly the chosen datagrams', async (t) => {
  const { target, client, proxy } = await setup(t, { dropNth: [2, 5] });
  await sendAll(client.socket, proxy.address.port, 6);
  await waitFor(() => target.received.length === 4, 'four arrivals');
  await waitFor(() => proxy.upstream.counters.sent === 6, 'six offers');
  assert.deepEqual(target.received.map((r) => r.bytes.readUInt32BE(0)), [0, 2, 3, 5]);
});

test('corruption flips one bit of what arrives', async (t) => {
  const { target, client, proxy } = await setup(t, { corrupt: 1 });
  const sent = Buffer.alloc(100, 0xa5);
  for (let i = 0; i < 10; i++) await sendTo(client.socket, proxy.address.port, sent);
  await waitFor(() => target.received.length === 10, 'ten arrivals');
  for (const r of target.received) {
    let bits = 0;
    for (let j = 0; j < 100; j++) for (let x = r.bytes[j]! ^ 0xa5; x; x >>= 1) bits += x & 1;
    assert.equal(bits, 1);
  }
});

test('a rate limit with a small queue drops the tail of a burst and counts it', async (t) => {
  // At 200 kbit/s a 1000-byte datagram takes 40 ms and an 8 KiB queue holds about eight of them, so a
  // burst of 100 sent at once overflows it even on a slow, busy machine.
  const { target, client, proxy } = await setup(t, { rateBitsPerSec: 200_000, queueBytes: 8192 });
  await Promise.all(Array.from({ length: 100 }, (_, i) => sendTo(client.socket, proxy.address.port, numbered(i, 1000))));
  await waitFor(() => proxy.upstream.counters.sent === 100, '100 offers');
  const c = proxy.upstream.counters;
  await waitFor(() => target.received.length === 100 - c.dropped.queue, 'the accepted datagrams to arrive');
  assert.ok(c.dropped.queue > 0, 'the queue overflowed');
  assert.equal(c.delivered + c.dropped.queue, 100);
  const order = target.received.map((r) => r.bytes.readUInt32BE(0));
  assert.deepEqual(order, [...order].sort((x, y) => x - y), 'a FIFO queue keeps order');
});

test('clients on ::1 are relayed to an IPv4 target and get their replies', async (t) => {
  const dgram = await import('node:dgram');
  const target = await collector(true);
  t.after(() => target.close());
  const proxy = await ImpairProxy.start({ listen: { host: '::1', port: 0 }, target: { host: '127.0.0.1', port: target.port }, upstream: { delayMs: 1 }, seed: 3 });
  t.after(() => proxy.close());
  const client = dgram.createSocket('udp6');
  t.after(() => new Promise<void>((resolve) => client.close(() => resolve())));
  const replies: string[] = [];
  client.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((resolve) => client.bind(0, '::1', () => resolve()));
  for (const word of ['one', 'two', 'three']) await new Promise<void>((resolve, reject) => client.send(word, proxy.address.port, '::1', (err) => (err ? reject(err) : resolve())));
  await waitFor(() => replies.length === 3, 'three replies');
  assert.deepEqual(replies, ['one', 'two', 'three']);
  assert.equal(proxy.address.family, 'IPv6');
});
