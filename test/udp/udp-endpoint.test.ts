// UdpEndpoint on real loopback sockets: reply to sender, iteration, broadcast, multicast, the
// size check before sending, socket buffer sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { UdpEndpoint, MAX_UDP4_PAYLOAD_BYTES, MAX_UDP6_PAYLOAD_BYTES, type RemoteInfo } from '../../src/udp/udp-endpoint.js';
import { ConnectionError, InvalidStateError, LimitExceededError, SockitError } from '../../src/errors.js';

test('a server receives with the sender address and replies to the sender', async () => {
  const server = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  server.on('message', (msg: Buffer, rinfo: RemoteInfo) => void server.send(Buffer.concat([Buffer.from('re: '), msg]), rinfo.port, rinfo.address));
  const client = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const reply = once(client, 'message');
  await client.send('hello', server.address.port, '127.0.0.1');
  const [msg, rinfo] = (await reply) as [Buffer, RemoteInfo];
  assert.equal(msg.toString(), 're: hello');
  assert.equal(rinfo.port, server.address.port);
  assert.equal(rinfo.address, '127.0.0.1');
  await Promise.all([client.close(), server.close()]);
});

test('async iteration yields datagrams with their senders and ends at close', async () => {
  const server = await UdpEndpoint.bind({ host: '::1', port: 0 });
  assert.equal(server.type, 'udp6');
  const client = await UdpEndpoint.bind({ host: '::1', port: 0 });
  const got: Array<[string, number]> = [];
  const reading = (async () => {
    for await (const { message, rinfo } of server) {
      got.push([message.toString(), rinfo.port]);
      if (got.length === 3) break;
    }
  })();
  for (const s of ['a', 'b', 'c']) await client.send(s, server.address.port, '::1');
  await reading;
  assert.deepEqual(got, [['a', client.address.port], ['b', client.address.port], ['c', client.address.port]]);
  await Promise.all([client.close(), server.close()]);
});

test('a dual-stack endpoint (no host) receives from IPv4 senders and answers them', async () => {
  const server = await UdpEndpoint.bind({ port: 0 });
  server.on('message', (msg: Buffer, rinfo: RemoteInfo) => void server.send(msg, rinfo.port, rinfo.address));
  const client = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const reply = once(client, 'message');
  await client.send('v4', server.address.port, '127.0.0.1');
  assert.equal(((await reply) as [Buffer])[0].toString(), 'v4');
  await Promise.all([client.close(), server.close()]);
});

test('a dual-stack endpoint sends to IPv4 literals and names (mapped to ::ffff:a.b.c.d)', async () => {
  // Regression: a default (udp6) endpoint sending to 127.0.0.1 failed with EINVAL.
  const server = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const client = await UdpEndpoint.bind({ port: 0 });
  const got: string[] = [];
  server.on('message', (msg: Buffer) => got.push(msg.toString()));
  const first = once(server, 'message');
  await client.send('by literal', server.address.port, '127.0.0.1');
  await first;
  assert.deepEqual(got, ['by literal']);
  await Promise.all([client.close(), server.close()]);
});

test('oversized datagrams are refused before sending: 65,507 bytes over IPv4, 65,527 over IPv6', async () => {
  const v4 = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const v6 = await UdpEndpoint.bind({ host: '::1', port: 0 });
  await assert.rejects(v4.send(Buffer.alloc(MAX_UDP4_PAYLOAD_BYTES + 1), v4.address.port, '127.0.0.1'), (err: unknown) => {
    assert.ok(err instanceof LimitExceededError);
    assert.equal(err.code, 'ERR_SOCKIT_DATAGRAM_TOO_LARGE');
    assert.equal(err.limit, 65_507);
    assert.equal(err.actual, 65_508);
    return true;
  });
  await assert.rejects(v6.send(Buffer.alloc(MAX_UDP6_PAYLOAD_BYTES + 1), v6.address.port, '::1'), LimitExceededError);
  // The largest allowed sizes go through and arrive whole.
  const arrived4 = once(v4, 'message');
  await v4.send(Buffer.alloc(MAX_UDP4_PAYLOAD_BYTES, 1), v4.address.port, '127.0.0.1');
  assert.equal(((await arrived4) as [Buffer])[0].length, 65_507);
  const arrived6 = once(v6, 'message');
  await v6.send(Buffer.alloc(MAX_UDP6_PAYLOAD_BYTES, 1), v6.address.port, '::1');
  assert.equal(((await arrived6) as [Buffer])[0].length, 65_527);
  await Promise.all([v4.close(), v6.close()]);
});

test('broadcast needs setBroadcast(true); then 127.255.255.255 reaches a listener', async () => {
  const listener = await UdpEndpoint.bind({ host: '0.0.0.0', port: 0 });
  const sender = await UdpEndpoint.bind({ host: '0.0.0.0', port: 0 });
  await assert.rejects(sender.send('to all', listener.address.port, '127.255.255.255'), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'ERR_SOCKIT_PERMISSION_DENIED');
    assert.match(err.message, /setBroadcast/);
    return true;
  });
  sender.setBroadcast(true);
  const arrived = once(listener, 'message');
  await sender.send('to all', listener.address.port, '127.255.255.255');
  assert.equal(((await arrived) as [Buffer])[0].toString(), 'to all');
  await Promise.all([listener.close(), sender.close()]);
});

test('multicast: a member of 239.x on 127.0.0.1 receives; leaving works once', async () => {
  const GROUP = '239.255.77.77';
  const member = await UdpEndpoint.bind({ host: '0.0.0.0', port: 0, type: 'udp4', reuseAddr: true });
  member.joinGroup(GROUP, '127.0.0.1');
  const sender = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  sender.setMulticastInterface('127.0.0.1');
  sender.setMulticastTTL(1);
  sender.setMulticastLoopback(true);
  const arrived = once(member, 'message');
  await sender.send('to the group', member.address.port, GROUP);
  const [msg, rinfo] = (await arrived) as [Buffer, RemoteInfo];
  assert.equal(msg.toString(), 'to the group');
  assert.equal(rinfo.port, sender.address.port);
  member.leaveGroup(GROUP, '127.0.0.1');
  // Leaving a group we no longer belong to is an error the OS reports, mapped to a sockit error.
  assert.throws(() => member.leaveGroup(GROUP, '127.0.0.1'), (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKIT_ADDRESS_NOT_AVAILABLE' && /member/.test(err.message));
  await Promise.all([member.close(), sender.close()]);
});

test('socket buffer sizes are settable at bind and later', async () => {
  const ep = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0, recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
  // Linux doubles the value it is given (bookkeeping) and caps it at net.core.rmem_max (4 MiB
  // here); the default would be 208 KiB.
  assert.ok(ep.recvBufferSize >= 1 << 20, `SO_RCVBUF is ${ep.recvBufferSize}`);
  const before = ep.sendBufferSize;
  ep.setSendBufferSize(64 * 1024);
  assert.equal(ep.sendBufferSize, 128 * 1024);
  assert.notEqual(before, ep.sendBufferSize);
  await ep.close();
});

test('binding a busy UDP port fails with ERR_SOCKIT_ADDRESS_IN_USE', async () => {
  const first = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  await assert.rejects(UdpEndpoint.bind({ host: '127.0.0.1', port: first.address.port }), (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKIT_ADDRESS_IN_USE');
  await first.close();
});

test('a dual-stack endpoint holds IPv4 peers to IPv4\'s 65,507 bytes, literal or mapped', async () => {
  const dual = await UdpEndpoint.bind({ port: 0 });
  assert.equal(dual.type, 'udp6');
  for (const host of ['127.0.0.1', '::ffff:127.0.0.1']) {
    await assert.rejects(dual.send(Buffer.alloc(MAX_UDP4_PAYLOAD_BYTES + 1), 9, host), (err: unknown) => {
      assert.ok(err instanceof LimitExceededError, String(err));
      assert.equal(err.code, 'ERR_SOCKIT_DATAGRAM_TOO_LARGE');
      assert.equal(err.limit, 65_507);
      return true;
    });
  }
  await dual.close();
});

/** Asserts `err` is a SockitError (not Node's TypeError or RangeError) with `code`. */
function isSockit(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof SockitError, `expected a SockitError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

test('bad arguments are SockitErrors with ERR_SOCKIT_INVALID_ARGUMENT, and no port is silently wrapped', async () => {
  for (const port of [99_999, 65_536, -1, 1.5]) {
    await assert.rejects(UdpEndpoint.bind({ host: '127.0.0.1', port }), isSockit('ERR_SOCKIT_INVALID_ARGUMENT'), `port ${port}`);
  }
  await assert.rejects(UdpEndpoint.bind({ port: 0, type: 'udp5' as 'udp4' }), isSockit('ERR_SOCKIT_INVALID_ARGUMENT'));
  await assert.rejects(UdpEndpoint.bind({ port: 0, recvBufferSize: -1 }), isSockit('ERR_SOCKIT_INVALID_ARGUMENT'));
  const ep = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  await assert.rejects(ep.send('x', 0, '127.0.0.1'), isSockit('ERR_SOCKIT_INVALID_ARGUMENT'));
  await assert.rejects(ep.send(123 as unknown as string, 9, '127.0.0.1'), isSockit('ERR_SOCKIT_INVALID_ARGUMENT'));
  assert.throws(() => ep.setRecvBufferSize(-5), isSockit('ERR_SOCKIT_INVALID_ARGUMENT'));
  await ep.close();
});

test('a closed endpoint refuses socket calls with InvalidStateError', async () => {
  const ep = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  await ep.close();
  assert.throws(() => ep.setBroadcast(true), InvalidStateError);
  assert.throws(() => ep.recvBufferSize, InvalidStateError);
  assert.throws(() => ep.joinGroup('239.1.2.3', '127.0.0.1'), InvalidStateError);
  await assert.rejects(ep.send('x', 9, '127.0.0.1'), InvalidStateError);
});
