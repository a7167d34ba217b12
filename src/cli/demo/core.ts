/**
 * The demo chapters of sockit's core, on loopback: a TCP server and client (seeds 001 and 002), the
 * sticky-packet problem and its length-prefix fix (seed 001's protocol 1), UDP datagrams answered
 * to their sender (seeds 001 and 004), and broadcast (seed 000). Each one checks that what it shows
 * really happened and rejects otherwise.
 */
import { NetCodes, isSockitError } from '../../errors.js';
import { getFraming } from '../../framing/index.js';
import { listenTcp, type MessageServer } from '../../tcp/message-server.js';
import { connectTcp } from '../../tcp/connect-tcp.js';
import type { MessageConnection } from '../../tcp/message-connection.js';
import { UdpEndpoint } from '../../udp/udp-endpoint.js';
import { check, hex, type DemoChapter } from './chapter.js';

const LOOPBACK = '127.0.0.1';

/** Resolves with every message of `conn` once the peer half-closes. */
async function allMessages(conn: MessageConnection): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const m of conn) out.push(Buffer.from(m));
  return out;
}

/** Chapter: seed 002's uppercase server and a client, with request/reply and the four-way close. */
export const tcpChapter: DemoChapter = {
  title: 'TCP: a server and a client (seeds 001, 002)',
  async run(ctx) {
    ctx.say('The server binds, listens and accepts; the client connects (the three-way handshake:\nSYN, SYN+ACK, ACK). This is seed 002\'s uppercase server, in sockit:');
    ctx.show('code', "listenTcp({ port: 0, framing: 'lines' }, (conn) =>\n  conn.on('message', (m) => conn.send(m.toString().toUpperCase())))");
    let server: MessageServer | undefined;
    let client: MessageConnection | undefined;
    try {
      server = await listenTcp({ host: LOOPBACK, port: 0, framing: 'lines' }, (conn) => {
        conn.on('message', (m: Buffer) => conn.send(m.toString('utf8').toUpperCase()));
        // The client's FIN ends only its direction: answer what came before it, then close ours.
        conn.on('end', () => void conn.end());
      });
      ctx.say(`Server listening on ${LOOPBACK}:${server.address.port}; the client connects and sends lines:`);
      client = await connectTcp({ host: LOOPBACK, port: server.address.port, framing: 'lines' });
      for (const text of ['hello, server!', '你好, sockit']) {
        ctx.show('client →', text);
        const reply = (await client.request(text, { timeoutMs: 5000 })).toString('utf8');
        ctx.show('server →', reply);
        check(reply === text.toUpperCase(), `expected ${JSON.stringify(text.toUpperCase())}, got ${JSON.stringify(reply)}`);
      }
      ctx.say('The client sends one last line and half-closes (FIN: "no more data, but you may still\nsend"). The server still answers it, then closes its side: the four-way close.');
      ctx.show('client →', 'bye (then FIN)');
      client.send('bye');
      await client.end();
      const rest = await allMessages(client);
      for (const m of rest) ctx.show('server →', m.toString('utf8'));
      check(rest.length === 1 && rest[0]!.toString('utf8') === 'BYE', 'the reply sent after the client\'s FIN did not arrive');
      ctx.say('Both sides closed; the reply written after the FIN arrived intact.');
    } finally {
      client?.destroy();
      await server?.close(0);
    }
  },
};

/** Chapter: ten sends glued into fewer reads with raw framing, separated again with len32le. */
export const stickyPacketChapter: DemoChapter = {
  title: 'Sticky packets (粘包) and the fix: a length before each message (seed 001)',
  async run(ctx) {
    const messages = Array.from({ length: 10 }, (_, i) => `message ${i}`);
    ctx.say('TCP carries a byte stream, not messages. The client sends ten short messages back to back:');
    ctx.show('client →', messages.map((m) => JSON.stringify(m)).join(' '));

    const rawReads = await exchange('raw', messages);
    ctx.say(`With raw framing the server sees reads, not messages: ${rawReads.length} read${rawReads.length === 1 ? '' : 's'} for 10 sends.`);
    for (const r of rawReads.slice(0, 3)) ctx.show('server read', JSON.stringify(r.toString('utf8')));
    check(Buffer.concat(rawReads).toString('utf8') === messages.join(''), 'the raw bytes did not arrive in order');

    const header = getFraming('len32le').encode(Buffer.from(messages[0]!));
    ctx.say('Seed 001\'s protocol 1 sends struct.pack(\'i\', n) first: 4 bytes, little-endian, the message length.');
    ctx.show('on the wire', `${hex(header[0]!)} | ${hex(header[1]!)}   (= ${messages[0]!.length}, then "${messages[0]}")`);
    const framed = await exchange('len32le', messages);
    ctx.say(`With len32le framing the server gets ${framed.length} messages, exactly as sent:`);
    ctx.show('server ←', framed.map((m) => JSON.stringify(m.toString('utf8'))).join(' '));
    check(framed.length === messages.length && framed.every((m, i) => m.toString('utf8') === messages[i]), 'len32le did not restore the ten messages');
  },
};

/** Sends `messages` in one tick over `framing` and returns what the server's decoder delivered. */
async function exchange(framing: 'raw' | 'len32le', messages: string[]): Promise<Buffer[]> {
  let received: Promise<Buffer[]> | undefined;
  let client: MessageConnection | undefined;
  const server = await listenTcp({ host: LOOPBACK, port: 0, framing }, (conn) => {
    received = allMessages(conn).finally(() => void conn.end());
  });
  try {
    client = await connectTcp({ host: LOOPBACK, port: server.address.port, framing });
    for (const m of messages) client.send(m);
    await client.end();
    await allMessages(client);
    check(received !== undefined, 'the server saw no connection');
    return await received!;
  } finally {
    client?.destroy();
    await server.close(0);
  }
}

/** Chapter: datagrams to a UDP server that answers each sender (seeds 001, 004). */
export const udpChapter: DemoChapter = {
  title: 'UDP: datagrams, and a reply to the sender (seeds 001, 004)',
  async run(ctx) {
    ctx.say('No connection: the server binds and waits; each datagram arrives whole, with the\nsender\'s address, and the reply goes back to that address (recvfrom / sendto).');
    const server = await UdpEndpoint.bind({ host: LOOPBACK, port: 0 });
    const client = await UdpEndpoint.bind({ host: LOOPBACK, port: 0 });
    try {
      server.on('message', (msg: Buffer, rinfo) => {
        ctx.show('server ←', `${JSON.stringify(msg.toString('utf8'))} from ${rinfo.address}:${rinfo.port}`);
        void server.send(`hi, ${msg.toString('utf8')}`, rinfo.port, rinfo.address).catch(() => undefined);
      });
      const words = ['hello', 'ni hao server', 'bye'];
      const replies: string[] = [];
      const iterator = client[Symbol.asyncIterator]();
      for (const word of words) {
        ctx.show('client →', JSON.stringify(word));
        await client.send(word, server.address.port, LOOPBACK);
        const next = await iterator.next();
        if (next.done) break;
        replies.push(next.value.message.toString('utf8'));
        ctx.show('client ←', `${JSON.stringify(replies[replies.length - 1])} from ${next.value.rinfo.address}:${next.value.rinfo.port}`);
      }
      await iterator.return?.();
      check(replies.length === words.length && replies.every((r, i) => r === `hi, ${words[i]}`), 'a reply went missing');
      ctx.say('On loopback nothing is lost; on a real network any datagram may be, and the\napplication must acknowledge and retransmit itself (which is what RUDP does).');
    } finally {
      await client.close();
      await server.close();
    }
  },
};

/** Chapter: one datagram to the loopback broadcast address reaches two listeners (seed 000). */
export const broadcastChapter: DemoChapter = {
  title: 'UDP broadcast: one datagram, every listener (seed 000)',
  async run(ctx) {
    // 127.255.255.255 is the broadcast address of 127.0.0.0/8, so the demo never leaves this machine.
    const broadcast = '127.255.255.255';
    ctx.say(`Two listeners share one port (SO_REUSEADDR) on ${broadcast}, the loopback network's\nbroadcast address; a sender addresses the datagram to the whole network.`);
    const first = await bindBroadcastListener(broadcast, 0);
    const second = await bindBroadcastListener(broadcast, first.address.port);
    const sender = await UdpEndpoint.bind({ host: LOOPBACK, port: 0 });
    try {
      const port = first.address.port;
      try {
        await sender.send('hello?', port, broadcast);
        check(false, 'a broadcast without SO_BROADCAST was allowed');
      } catch (err) {
        check(isSockitError(err, NetCodes.PERMISSION_DENIED), `expected ${NetCodes.PERMISSION_DENIED}, got ${String(err)}`);
        ctx.say('Without setBroadcast(true) the kernel refuses (EACCES), as a safety catch:');
        ctx.show('sender ✗', `${(err as Error).message} (${(err as { code: string }).code})`);
      }
      sender.setBroadcast(true);
      const heard = [first, second].map(async (listener) => {
        for await (const { message } of listener) return message.toString('utf8');
        return undefined;
      });
      ctx.show('sender →', `"hello, everyone" to ${broadcast}:${port}`);
      await sender.send('hello, everyone', port, broadcast);
      const [a, b] = await Promise.all(heard);
      ctx.show('listener 1 ←', JSON.stringify(a));
      ctx.show('listener 2 ←', JSON.stringify(b));
      check(a === 'hello, everyone' && b === 'hello, everyone', 'a listener missed the broadcast');
    } finally {
      await Promise.all([first.close(), second.close(), sender.close()]);
    }
  },
};

/** Binds a listener for broadcasts; machines that refuse binding the broadcast address get 0.0.0.0. */
async function bindBroadcastListener(broadcast: string, port: number): Promise<UdpEndpoint> {
  try {
    return await UdpEndpoint.bind({ host: broadcast, port, reuseAddr: true });
  } catch (err) {
    if (!isSockitError(err, NetCodes.ADDRESS_NOT_AVAILABLE)) throw err;
    return UdpEndpoint.bind({ host: '0.0.0.0', port, reuseAddr: true });
  }
}
