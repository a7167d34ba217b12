// The echo, upper and discard services over kernel TCP (several framings) and over UDP, in utf8
// and gbk, run by serveStream/serveDatagram on real loopback sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import iconv from 'iconv-lite';
import { serveStream, serveDatagram, type RunningServer } from '../../src/services/serve.js';
import { echoService } from '../../src/services/echo.js';
import { upperService } from '../../src/services/upper.js';
import { discardService } from '../../src/services/discard.js';
import { loadService, serviceNames } from '../../src/services/registry.js';
import { StreamingUpper } from '../../src/services/text-upper.js';
import type { CommonServiceOptions, Service, ServiceDefinition } from '../../src/services/types.js';
import type { FramingName } from '../../src/framing/types.js';
import type { TextEncodingName } from '../../src/services/text-encoding.js';
import { tcpTransport } from '../../src/io/tcp-transport.js';
import { connectTcp } from '../../src/tcp/connect-tcp.js';
import { UdpEndpoint } from '../../src/udp/udp-endpoint.js';

function options(framing: FramingName, encoding: TextEncodingName = 'utf8', log: string[] = []): CommonServiceOptions {
  return { framing, encoding, maxFrameBytes: 1 << 20, log: (line) => log.push(line) };
}

async function startStream(def: ServiceDefinition, opts: CommonServiceOptions): Promise<RunningServer> {
  const service = (await def.create(opts, {})) as Service;
  return serveStream(service, { transport: tcpTransport, host: '127.0.0.1', port: 0 });
}

async function startDatagram(def: ServiceDefinition, opts: CommonServiceOptions): Promise<RunningServer> {
  const service = (await def.create(opts, {})) as Service;
  return serveDatagram(service, { host: '127.0.0.1', port: 0 });
}

/** Sends `messages` over one framed TCP connection, half-closes, returns every reply as bytes. */
async function converse(server: RunningServer, framing: FramingName, messages: Uint8Array[]): Promise<Buffer[]> {
  const conn = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing });
  for (const m of messages) conn.send(m);
  void conn.end();
  const replies: Buffer[] = [];
  for await (const r of conn) replies.push(Buffer.from(r));
  return replies;
}

/** Sends one datagram and resolves with the reply. */
async function datagramRoundTrip(server: RunningServer, payload: Uint8Array): Promise<Buffer> {
  const client = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0 });
  try {
    const reply = once(client, 'message');
    await client.send(payload, server.address.port, '127.0.0.1');
    return ((await reply) as [Buffer])[0];
  } finally {
    await client.close();
  }
}

test('the registry lists echo, upper and discard', async () => {
  for (const name of ['echo', 'upper', 'discard']) {
    assert.ok(serviceNames().includes(name));
    assert.equal((await loadService(name))?.name, name);
  }
});

for (const framing of ['lines', 'len32', 'len32le', 'varint'] as const) {
  test(`echo over TCP with ${framing} returns every message unchanged`, async () => {
    const server = await startStream(echoService, options(framing));
    const sent = ['one', '', 'three', 'x'.repeat(50_000)].filter((m) => framing !== 'lines' || m !== '').map((m) => Buffer.from(m));
    assert.deepEqual(await converse(server, framing, sent), sent);
    await server.close();
  });
}

test('echo over UDP answers each datagram to its sender', async () => {
  const server = await startDatagram(echoService, options('raw'));
  assert.equal((await datagramRoundTrip(server, Buffer.from('ping'))).toString(), 'ping');
  await server.close();
});

test('upper over TCP uppercases each message (utf8)', async () => {
  const server = await startStream(upperService, options('lines'));
  const replies = await converse(server, 'lines', [Buffer.from('hello'), Buffer.from('straße ünd 中文')]);
  assert.deepEqual(replies.map(String), ['HELLO', 'STRASSE ÜND 中文']);
  await server.close();
});

test('upper over TCP with gbk decodes and re-encodes GBK (seed 003)', async () => {
  const server = await startStream(upperService, options('len32le', 'gbk'));
  const replies = await converse(server, 'len32le', [iconv.encode('abc 你好 def', 'gbk')]);
  assert.equal(replies.length, 1);
  assert.deepEqual(replies[0], iconv.encode('ABC 你好 DEF', 'gbk'));
  await server.close();
});

for (const encoding of ['utf8', 'gbk'] as const) {
  test(`upper over UDP in ${encoding}`, async () => {
    const server = await startDatagram(upperService, options('raw', encoding));
    const reply = await datagramRoundTrip(server, iconv.encode('hi 世界 ok', encoding));
    assert.deepEqual(reply, iconv.encode('HI 世界 OK', encoding));
    await server.close();
  });
}

test('upper with raw framing keeps a character split across two TCP segments whole', async () => {
  const server = await startStream(upperService, options('raw'));
  const socket = net.connect({ host: '127.0.0.1', port: server.address.port, allowHalfOpen: true, noDelay: true });
  await once(socket, 'connect');
  const bytes = Buffer.from('a中b', 'utf8'); // 61 e4 b8 ad 62
  socket.write(bytes.subarray(0, 2));
  // The reply "A" proves the server has read the first segment, which ended inside '中'.
  const [first] = (await once(socket, 'data')) as [Buffer];
  assert.equal(first.toString(), 'A');
  socket.end(bytes.subarray(2));
  const rest: Buffer[] = [];
  for await (const chunk of socket) rest.push(chunk as Buffer);
  assert.equal(Buffer.concat(rest).toString('utf8'), '中B');
  await server.close();
});

test('StreamingUpper gives the same text for every split of the input (utf8 and gbk)', () => {
  for (const encoding of ['utf8', 'gbk'] as const) {
    const input = iconv.encode('ab 中文 cd 汉字 e', encoding);
    const expected = iconv.encode('AB 中文 CD 汉字 E', encoding);
    for (let cut = 0; cut <= input.length; cut++) {
      const upper = new StreamingUpper(encoding);
      const out = Buffer.concat([upper.push(input.subarray(0, cut)), upper.push(input.subarray(cut)), upper.end()]);
      assert.deepEqual(out, expected, `${encoding} cut at ${cut}`);
    }
  }
});

test('discard reads everything, answers nothing and closes when the client does', async () => {
  const log: string[] = [];
  const server = await startStream(discardService, options('len32', 'utf8', log));
  const replies = await converse(server, 'len32', Array.from({ length: 100 }, (_, i) => Buffer.from(`message ${i}`)));
  assert.deepEqual(replies, []);
  await server.close();
  assert.ok(log.some((l) => /discard: tcp connection from 127\.0\.0\.1:\d+/.test(l)));
});

test('an oversized message closes only that client; the service keeps serving others', async () => {
  const log: string[] = [];
  const service = await echoService.create({ framing: 'len32', encoding: 'utf8', maxFrameBytes: 100, log: (l) => log.push(l) }, {});
  const server = await serveStream(service, { transport: tcpTransport, host: '127.0.0.1', port: 0 });
  const bad = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'len32' });
  bad.send(Buffer.alloc(101));
  for await (const _ of bad) assert.fail('no echo of an oversized message');
  bad.destroy();
  assert.deepEqual((await converse(server, 'len32', [Buffer.from('fine')])).map(String), ['fine']);
  await server.close();
  assert.ok(log.some((l) => l.includes('ERR_SOCKIT_FRAME_TOO_LARGE')), log.join('\n'));
});

test('closing a running service waits for open connections, then everything is closed', async () => {
  const server = await startStream(echoService, options('lines'));
  const conn = await connectTcp({ host: '127.0.0.1', port: server.address.port, framing: 'lines' });
  assert.equal((await conn.request('before close')).toString(), 'before close');
  assert.equal(server.connectionCount, 1);
  const closing = server.close(60_000);
  assert.equal((await conn.request('while closing')).toString(), 'while closing');
  await conn.end();
  for await (const _ of conn) assert.fail('nothing more');
  await closing;
  assert.equal(server.connectionCount, 0);
});
