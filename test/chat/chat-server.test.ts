// The chat server over real loopback sockets, seen by plain-socket clients (what nc users get):
// rooms and every command, nick collisions, a slow reader dropped while others keep chatting,
// overlong lines and invalid UTF-8, garbage, resets, 1,000 connect/disconnect cycles, limits and
// graceful shutdown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listenChat, type RunningChatServer } from '../../src/chat/chat-server.js';
import { createRng } from '../../src/core/rng.js';
import { LineClient, SAFETY_MS, withSafety } from './chat-test-support.js';

async function until(what: string, check: () => boolean): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > SAFETY_MS) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('chat server: people chatting', () => {
  let chat: RunningChatServer;
  let port: number;
  before(async () => {
    chat = await listenChat({ host: '127.0.0.1', port: 0, maxRateLinesPerS: 0 });
    port = chat.address.port;
  });
  after(() => chat.close());

  test('rooms, every command and the notices, between three clients', async () => {
    const alice = await LineClient.as(port, 'alice');
    const bob = await LineClient.as(port, 'bob');
    await alice.log.waitFor('* bob joined #lobby');
    assert.equal(await alice.ask('hello bob', /^\[#lobby\]/), '[#lobby] <alice> hello bob');
    await bob.log.waitFor('[#lobby] <alice> hello bob');

    // An nc user who answers the greeting with a bare nick.
    const carol = await LineClient.connect(port);
    assert.equal(await carol.ask('carol', /^\* you are/), '* you are carol');
    await alice.log.waitFor('* carol joined #lobby');

    assert.equal(await carol.ask('/join #dev', /^\* carol joined/), '* carol joined #dev');
    assert.equal(await bob.ask('/join dev', /^\* bob joined/), '* bob joined #dev');
    await carol.log.waitFor('* bob joined #dev');
    assert.equal(await alice.ask('/rooms', /^\* rooms/), '* rooms: #dev (2), #lobby (3)');
    assert.equal(await bob.ask('/who', /^\* #dev/), '* #dev (2): bob, carol');
    assert.equal(await alice.ask('/who #lobby', /^\* #lobby/), '* #lobby (3): alice, bob, carol');

    const before = alice.lines.length;
    assert.equal(await bob.ask('dev talk', /^\[#dev\]/), '[#dev] <bob> dev talk');
    await carol.log.waitFor('[#dev] <bob> dev talk');
    assert.equal(await bob.ask('/me waves', /^\[#dev\] \*/), '[#dev] * bob waves');
    await carol.log.waitFor('[#dev] * bob waves');

    assert.equal(await alice.ask('/msg carol psst', /^\[pm/), '[pm to carol] <alice> psst');
    await carol.log.waitFor('[pm] <alice> psst');

    assert.equal(await bob.ask('/nick robert', /^\* you are now/), '* you are now known as robert');
    await alice.log.waitFor('* bob is now known as robert');
    await carol.log.waitFor('* bob is now known as robert');

    assert.equal(await robertPart(bob), '* robert left #dev');
    await carol.log.waitFor('* robert left #dev');
    assert.equal(await bob.ask('/frobnicate', /^!/), '! unknown command /frobnicate; /help lists commands (ERR_SOCKIT_UNKNOWN_COMMAND)');
    assert.equal(await bob.ask('/help', /^\*   \/quit/), '*   /quit [reason]    leave');

    // Alice is only in #lobby: nothing said in #dev reached her.
    assert.equal(alice.lines.slice(before).some((l) => l.startsWith('[#dev]')), false);

    assert.equal(await carol.ask('/quit gotta go', /^\* bye/), '* bye');
    await carol.closed;
    await alice.log.waitFor('* carol left #lobby (quit: gotta go)');
    // A reset is a lost connection, not a quit.
    alice.socket.resetAndDestroy();
    await bob.log.waitFor('* alice left #lobby (connection lost)');
    await bob.close();
    await until('all connections closed', () => chat.server.connectionCount === 0);
  });

  test('nick collisions: taken nicks (any case) are refused; the nick frees up when its holder leaves', async () => {
    const first = await LineClient.as(port, 'dana');
    const second = await LineClient.connect(port);
    assert.equal(await second.ask('/nick DANA', /^!/), '! nick DANA is in use; choose another (ERR_SOCKIT_NICK_IN_USE)');
    assert.equal(await second.ask('/nick dana', /^!/), '! nick dana is in use; choose another (ERR_SOCKIT_NICK_IN_USE)');
    await first.close();
    await until('dana gone', () => chat.server.connectionCount === 1);
    assert.equal(await second.ask('/nick dana', /^\* you are/), '* you are dana');
    await second.close();
  });

  test('an overlong line and invalid UTF-8 get an error; the connection and the room carry on', async () => {
    const eve = await LineClient.as(port, 'eve');
    const fred = await LineClient.as(port, 'fred');
    // The long line arrives in pieces, as TCP may deliver it.
    eve.send(Buffer.from('x'.repeat(300)));
    eve.send(Buffer.from('y'.repeat(300) + '\n'));
    await eve.log.waitFor('! line too long (600 bytes, at most 510); not sent (ERR_SOCKIT_CHAT_LINE_TOO_LONG)');
    eve.send(Buffer.concat([Buffer.from('bad '), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    await eve.log.waitFor('! line is not valid UTF-8; not sent (ERR_SOCKIT_INVALID_UTF8)');
    eve.send(Buffer.from('z'.repeat(510) + '\r\n'));
    await fred.log.waitFor(`[#lobby] <eve> ${'z'.repeat(510)}`);
    assert.equal(await eve.ask('still here 你好', /^\[#lobby\] <eve> still/), '[#lobby] <eve> still here 你好');
    assert.equal(fred.lines.some((l) => l.includes('xxx') || l.includes('bad ')), false);
    await Promise.all([eve.close(), fred.close()]);
  });

  test('half-close (nc ^D): the last unterminated line is delivered, then the client has quit', async () => {
    const gus = await LineClient.as(port, 'gus');
    const hal = await LineClient.as(port, 'hal');
    hal.socket.end('bye without newline');
    await gus.log.waitFor('[#lobby] <hal> bye without newline');
    await gus.log.waitFor('* hal left #lobby (quit)');
    await hal.closed;
    await gus.close();
  });
});

describe('chat server: --encoding gbk', () => {
  test('GBK clients (the seed 003 programs) chat in GBK', async () => {
    const { default: iconv } = await import('iconv-lite');
    const chat = await listenChat({ host: '127.0.0.1', port: 0, encoding: 'gbk' });
    try {
      const a = await LineClient.as(chat.address.port, 'gbkA');
      const b = await LineClient.as(chat.address.port, 'gbkB');
      const received = new Promise<Buffer>((resolve) => {
        b.socket.on('data', (chunk: Buffer) => {
          if (chunk.includes(iconv.encode('你好', 'gbk'))) resolve(chunk);
        });
      });
      a.send(Buffer.concat([iconv.encode('你好，世界', 'gbk'), Buffer.from('\n')]));
      assert.equal(iconv.decode(await withSafety(received, 'the GBK line'), 'gbk'), '[#lobby] <gbkA> 你好，世界\r\n');
      await Promise.all([a.close(), b.close()]);
    } finally {
      await chat.close();
    }
  });
});

describe('chat server: misbehaving and slow clients', () => {
  test('a client that stops reading is dropped with a notice; the others receive every line', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, maxRateLinesPerS: 0, maxSendQueueBytes: 64 * 1024 });
    try {
      const port = chat.address.port;
      const sender = await LineClient.as(port, 'sender');
      const fast = await LineClient.as(port, 'fast');
      const slow = await LineClient.as(port, 'slow');
      await fast.log.waitFor('* slow joined #lobby');
      slow.socket.pause();
      const text = 'p'.repeat(480);
      let sent = 0;
      // Keep talking until the slow client's kernel buffers and its send queue are full.
      while (!fast.lines.includes('* slow was dropped from #lobby (send queue exceeded)')) {
        assert.ok(sent < 100_000, 'the slow client was never dropped');
        for (let i = 0; i < 50; i++) sender.send(`${++sent} ${text}`);
        await fast.log.waitFor(`[#lobby] <sender> ${sent} ${text}`);
      }
      await sender.log.waitFor('* slow was dropped from #lobby (send queue exceeded)');
      // The server closed it: reading again, the slow client drains what was sent and sees the end.
      slow.socket.resume();
      await slow.closed;
      assert.equal(await sender.ask('after the drop', /^\[#lobby\] <sender> after/), '[#lobby] <sender> after the drop');
      await fast.log.waitFor('[#lobby] <sender> after the drop');
      const received = fast.lines.filter((l) => l.startsWith('[#lobby] <sender> ') && l.endsWith(text));
      assert.deepEqual(received.map((l) => Number(l.split(' ')[2])), Array.from({ length: sent }, (_, i) => i + 1));
      await Promise.all([sender.close(), fast.close()]);
    } finally {
      await chat.close();
    }
  });

  test('a burst larger than the send-queue bound reaches readers that keep up; nobody is dropped', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, maxRateLinesPerS: 0, maxSendQueueBytes: 64 * 1024 });
    try {
      const talker = await LineClient.as(chat.address.port, 'talker');
      const reader = await LineClient.as(chat.address.port, 'reader');
      const lines = Array.from({ length: 400 }, (_, i) => `${i} ${'b'.repeat(490)}`);
      // Regression: the bytes queued within one event-loop turn counted against the bound, so one
      // pasted burst (~200 KiB here, one write) dropped every healthy client in the room.
      talker.send(Buffer.from(lines.map((l) => l + '\n').join('')));
      await reader.log.waitFor(`[#lobby] <talker> ${lines.at(-1)}`);
      assert.equal(reader.lines.filter((l) => l.startsWith('[#lobby] <talker> ')).length, 400);
      assert.equal(chat.server.connectionCount, 2);
      await Promise.all([talker.close(), reader.close()]);
    } finally {
      await chat.close();
    }
  });

  test('garbage, resets and 1,000 connect/disconnect cycles leave the server serving', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, maxRateLinesPerS: 0 });
    try {
      const port = chat.address.port;
      const witness = await LineClient.as(port, 'witness');
      const rng = createRng(42);
      const garbage = await LineClient.connect(port);
      for (let i = 0; i < 50; i++) garbage.send(Buffer.from(rng.fill(new Uint8Array(rng.int(1, 2000)))));
      garbage.send('\n');
      const resetters = await Promise.all(Array.from({ length: 20 }, () => LineClient.connect(port)));
      for (const [i, c] of resetters.entries()) {
        c.send(i % 2 === 0 ? `r${i}` : 'half a line');
        c.socket.resetAndDestroy();
      }
      for (let round = 0; round < 100; round++) {
        await Promise.all(Array.from({ length: 10 }, async (_, i) => {
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.on('error', () => undefined);
          // Read (and discard) what the server says, or its FIN would never be seen.
          socket.resume();
          await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
          if (i % 3 === 0) socket.resetAndDestroy();
          else if (i % 3 === 1) socket.end(`cycle${round}x${i}\n/quit\n`);
          else socket.destroy();
          await new Promise<void>((resolve) => socket.once('close', () => resolve()));
        }));
      }
      await garbage.close();
      await until('only the witness left', () => chat.server.connectionCount === 1);
      assert.equal(await witness.ask('still serving', /^\[#lobby\] <witness>/), '[#lobby] <witness> still serving');
      const late = await LineClient.as(port, 'latecomer');
      assert.equal(await late.ask('/who', /^\* #lobby/), '* #lobby (2): latecomer, witness');
      await Promise.all([witness.close(), late.close()]);
    } finally {
      await chat.close();
    }
  });

  test('--max-clients: one more is refused with a clear line; graceful shutdown tells everyone', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, maxClients: 2 });
    const port = chat.address.port;
    const a = await LineClient.as(port, 'a1');
    const b = await LineClient.as(port, 'b1');
    const refused = await LineClient.connect(port, /^!/);
    assert.equal(refused.lines[0], '! server full: 2 clients connected; try again later (ERR_SOCKIT_SERVER_FULL)');
    await refused.closed;
    await chat.close();
    for (const c of [a, b]) {
      await c.log.waitFor('* the server is shutting down; bye');
      await c.closed;
    }
    assert.equal(chat.server.connectionCount, 0);
  });

  test('an idle client is pinged and, staying silent, dropped with a notice', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, idleTimeoutMs: 1, pingTimeoutMs: 1 });
    try {
      const quiet = await LineClient.as(chat.address.port, 'quiet');
      await quiet.log.waitFor(/^\* PING \d+ /);
      await quiet.log.waitFor(/^! ping timeout: .*\(ERR_SOCKIT_PING_TIMEOUT\)$/);
      await quiet.closed;
    } finally {
      await chat.close();
    }
  });
});

async function robertPart(bob: LineClient): Promise<string> {
  return bob.ask('/part', /^\* robert left/);
}
