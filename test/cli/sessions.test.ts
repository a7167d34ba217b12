// nc-style sessions of `sockit connect` and `sockit listen`, against peers written here with
// node:net and node:dgram so each test controls exactly what the other end does: half-close in
// both directions, framed lines, GBK on the wire, UDP replies and the quiet-period exit,
// --keep-open, and a large transfer through two sockit processes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { randomBytes, createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { killAll, sockit, sockitListener } from './support/processes.js';

after(killAll);

/** A one-shot TCP server on 127.0.0.1:0 whose connection handler is `serve`. */
async function tcpPeer(serve: (socket: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** A client socket to 127.0.0.1:port; errors surface through what the test reads, not as a crash. */
function connectTo(port: number): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  return socket;
}

/** Reads a socket until the peer's FIN. */
function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

test('connect: at stdin EOF it half-closes and still prints the reply sent after that FIN', async () => {
  // The server answers only once the client's FIN arrives: a client that closed instead of
  // half-closing would lose the reply.
  const peer = await tcpPeer(async (socket) => {
    const request = await readAll(socket);
    socket.end(`got ${request.length} bytes: ${request.toString('utf8').toUpperCase()}`);
  });
  try {
    const r = await sockit(['connect', '127.0.0.1', String(peer.port)], { stdin: 'hello\nworld\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'got 12 bytes: HELLO\nWORLD\n');
  } finally {
    peer.close();
  }
});

test('connect: when the peer half-closes first, piped stdin still reaches it', async () => {
  let received: Promise<Buffer> | undefined;
  const peer = await tcpPeer((socket) => {
    socket.end('banner\n');
    received = readAll(socket);
  });
  try {
    const client = sockit(['connect', '127.0.0.1', String(peer.port)], { stdin: 'open' });
    await client.waitForStdout(/banner\n/);
    client.write('written after the peer FIN\n');
    client.endInput();
    const r = await client.result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await received!).toString('utf8'), 'written after the peer FIN\n');
  } finally {
    peer.close();
  }
});

test('listen: the client\'s bytes go to stdout and stdin goes to the client, then exit 0', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1'], { stdin: 'from the listener\n' });
  const client = connectTo(port);
  const reply = readAll(client);
  client.end('from the client\n');
  assert.equal((await reply).toString('utf8'), 'from the listener\n');
  client.destroy();
  const r = await proc.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from the client\n');
});

test('listen: plain nc mode serves one client; the next is refused', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1'], { stdin: 'open' });
  const first = connectTo(port);
  first.write('first\n');
  await proc.waitForStdout(/first\n/);
  const refused = await new Promise<string | undefined>((resolve) => {
    const second = net.connect(port, '127.0.0.1');
    second.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    second.on('connect', () => { second.destroy(); resolve('connected'); });
  });
  assert.equal(refused, 'ECONNREFUSED');
  first.end();
  proc.endInput();
  assert.equal((await proc.result()).code, 0);
  first.destroy();
});

test('listen --keep-open: one client after another, until SIGTERM', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--keep-open']);
  for (const word of ['one', 'two', 'three']) {
    const client = connectTo(port);
    const ended = readAll(client);
    client.end(`${word}\n`);
    await ended;
    await proc.waitForStdout(new RegExp(`${word}\\n$`));
    client.destroy();
  }
  assert.equal((await proc.stop('SIGTERM')).code, 0);
  assert.equal(proc.stdout, 'one\ntwo\nthree\n');
});

test('connect --framing len32le: each stdin line is one struct.pack(\'i\', n) frame on the wire', async () => {
  let wire: Promise<Buffer> | undefined;
  const peer = await tcpPeer((socket) => {
    wire = readAll(socket);
    // A whole frame glued to the next one's header, whose body follows in a later write.
    socket.write(Buffer.from('03000000616263' + '02000000', 'hex'));
    setTimeout(() => socket.end(Buffer.from('6465', 'hex')), 20);
  });
  try {
    const r = await sockit(['connect', '127.0.0.1', String(peer.port), '--framing', 'len32le'], { stdin: 'hi\n你好\r\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await wire!).toString('hex'), '02000000' + '6869' + '06000000' + 'e4bda0e5a5bd');
    assert.equal(r.stdout, 'abc\nde\n');
  } finally {
    peer.close();
  }
});

test('connect --framing len32le: a frame cut short by the peer\'s FIN is reported, exit 1', async () => {
  const peer = await tcpPeer((socket) => {
    socket.on('data', () => undefined);
    socket.end(Buffer.from('03000000616263' + '0500000068', 'hex'));
  });
  try {
    const r = await sockit(['connect', '127.0.0.1', String(peer.port), '--framing', 'len32le']).result();
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'abc\n');
    assert.match(r.stderr, /^sockit: .*\(ERR_SOCKIT_TRUNCATED_FRAME\)$/m);
  } finally {
    peer.close();
  }
});

test('connect --encoding gbk: UTF-8 at the terminal, GBK on the wire, in both directions', async () => {
  let wire: Promise<Buffer> | undefined;
  const peer = await tcpPeer((socket) => {
    wire = readAll(socket);
    // "谢谢" in GBK is d0 bb d0 bb; split inside the first character to check it is carried over.
    socket.write(Buffer.from('d0', 'hex'));
    setTimeout(() => socket.end(Buffer.from('bbd0bb0a', 'hex')), 20);
  });
  try {
    const r = await sockit(['connect', '127.0.0.1', String(peer.port), '--encoding', 'gbk'], { stdin: '你好\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await wire!).toString('hex'), 'c4e3bac30a');
    assert.equal(r.stdout, '谢谢\n');
  } finally {
    peer.close();
  }
});

test('connect --encoding gbk: a character GBK cannot carry goes out as ? and the first one is named once on stderr', async () => {
  for (const framing of ['raw', 'lines']) {
    let wire: Promise<Buffer> | undefined;
    const peer = await tcpPeer((socket) => {
      wire = readAll(socket);
      socket.end();
    });
    try {
      const r = await sockit(['connect', '127.0.0.1', String(peer.port), '--encoding', 'gbk', '--framing', framing], { stdin: 'a😀b ? 你 🎉\n' }).result();
      assert.equal(r.code, 0, r.stderr);
      const text = (await wire!).toString('latin1');
      assert.ok(text.startsWith('a?b ? '), `${framing}: ${text}`);
      assert.equal(r.stderr, `sockit: warning: "😀" (U+1F600) has no GBK form and was sent as '?' (later ones are not reported)\n`, framing);
    } finally {
      peer.close();
    }
  }
});

test('connect --udp: one datagram per line, replies printed, exit 0 after --timeout of quiet', async () => {
  const server = dgram.createSocket('udp4');
  const seen: string[] = [];
  server.on('message', (msg, rinfo) => {
    seen.push(msg.toString('utf8'));
    server.send(`re: ${msg.toString('utf8')}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  try {
    const r = await sockit(['connect', '--udp', '127.0.0.1', String(server.address().port), '--timeout', '300'], { stdin: 'one\ntwo\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen, ['one', 'two']);
    assert.equal(r.stdout, 're: one\nre: two\n');
  } finally {
    server.close();
  }
});

test('connect --udp hears only its peer: a datagram from another port is not printed (nc -u connects its socket)', async () => {
  const server = dgram.createSocket('udp4');
  const intruder = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => intruder.bind(0, '127.0.0.1', resolve));
  server.on('message', (msg, rinfo) => {
    // Someone else, on this host, learns the client's port and sends first.
    intruder.send('intruder\n', rinfo.port, rinfo.address, () => server.send(`re: ${msg.toString('utf8')}`, rinfo.port, rinfo.address));
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  try {
    const r = await sockit(['connect', '--udp', '127.0.0.1', String(server.address().port), '--timeout', '300'], { stdin: 'one\ntwo\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 're: one\nre: two\n');
  } finally {
    server.close();
    intruder.close();
  }
});

test('connect --udp --framing raw: each chunk read is one datagram; replies print byte for byte', async () => {
  const server = dgram.createSocket('udp4');
  const seen: string[] = [];
  server.on('message', (msg, rinfo) => {
    seen.push(msg.toString('utf8'));
    server.send('no newline', rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  try {
    const r = await sockit(['connect', '--udp', '127.0.0.1', String(server.address().port), '--framing', 'raw', '--timeout', '300'], { stdin: 'two\nlines\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen, ['two\nlines\n']);
    assert.equal(r.stdout, 'no newline');
  } finally {
    server.close();
  }
});

test('connect --udp to a silent port: exits 0 once --timeout passes with no reply', async () => {
  const server = dgram.createSocket('udp4');
  const got = new Promise<string>((resolve) => server.once('message', (m) => resolve(m.toString('utf8'))));
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  try {
    const r = await sockit(['connect', '--udp', '127.0.0.1', String(server.address().port), '--timeout', '200'], { stdin: 'anyone there?\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(await got, 'anyone there?');
  } finally {
    server.close();
  }
});

/** A UDP echo peer on 127.0.0.1 (or `host`) that records every datagram it gets. */
async function udpEchoPeer(host = '127.0.0.1'): Promise<{ port: number; seen: Buffer[]; close(): void }> {
  // A large receive buffer where the kernel allows it (net.core.rmem_max caps it).
  const server = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  const seen: Buffer[] = [];
  server.on('message', (msg, rinfo) => {
    seen.push(msg);
    server.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, host, resolve));
  return { port: server.address().port, seen, close: () => server.close() };
}

test('connect --udp: 1,000 piped lines to an echo peer all come back (the sender lets replies in between bursts)', async () => {
  const peer = await udpEchoPeer();
  try {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    const r = await sockit(['connect', '--udp', '127.0.0.1', String(peer.port), '--timeout', '500'], { stdin: lines.join('\n') + '\n' }).result();
    assert.equal(r.code, 0, r.stderr);
    // UDP may drop at the peer, which is not what is tested: every datagram the peer echoed must be
    // printed. Before the pacing, the client's own receive buffer overflowed after ≈ 256 replies.
    const echoed = peer.seen.map((d) => d.toString('utf8'));
    assert.ok(echoed.length > 600, `the peer got only ${echoed.length} of 1000 lines: too few for this test to mean anything`);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), echoed.sort());
  } finally {
    peer.close();
  }
});

test('connect --udp --framing raw: stdin read in chunks larger than a datagram is cut to fit, and arrives whole', async () => {
  const peer = await udpEchoPeer();
  try {
    // Node reads a pipe 64 KiB at a time; UDP over IPv4 carries at most 65,507 bytes. 150,000
    // bytes stay within even a default receive buffer, so nothing here may be lost.
    const data = randomBytes(150_000);
    const proc = sockit(['connect', '--udp', '127.0.0.1', String(peer.port), '--framing', 'raw', '--timeout', '300'], { stdin: data });
    const r = await proc.result();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(peer.seen.every((d) => d.length <= 65_507), `datagram sizes ${peer.seen.map((d) => d.length).join(' ')}`);
    assert.ok(peer.seen.length >= 3);
    assert.ok(Buffer.concat(peer.seen).equals(data), 'the datagrams, in order, are the input');
    assert.ok(proc.stdoutBytes.equals(data), 'the echoes, printed byte for byte, are the input');
  } finally {
    peer.close();
  }
});

test('connect --udp --broadcast reaches a listener through 127.255.255.255; without it, one line says to add it', async () => {
  const peer = await udpEchoPeer('0.0.0.0');
  try {
    const refused = await sockit(['connect', '--udp', '127.255.255.255', String(peer.port), '--timeout', '100'], { stdin: 'hello all\n' }).result();
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^sockit: send udp to 127\.255\.255\.255:\d+: permission denied .*\(ERR_SOCKIT_PERMISSION_DENIED\)\n  add --broadcast to send to a broadcast address\n$/);
    const sent = await sockit(['connect', '--udp', '--broadcast', '127.255.255.255', String(peer.port), '--timeout', '100'], { stdin: 'hello all\n' }).result();
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(peer.seen.map((d) => d.toString('utf8')), ['hello all']);
  } finally {
    peer.close();
  }
});

test('listen --udp: prints datagrams and answers the last sender with stdin lines', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--udp'], { stdin: 'hello back\n' });
  const client = dgram.createSocket('udp4');
  const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString('utf8'))));
  client.send('hello', port, '127.0.0.1');
  assert.equal(await reply, 'hello back');
  client.close();
  await proc.waitForStdout(/hello\n/);
  assert.equal((await proc.stop('SIGTERM')).code, 0);
  assert.equal(proc.stdout, 'hello\n');
});

test('listen --udp --framing raw on the dual-stack default: stdin larger than a datagram reaches an IPv4 client cut to IPv4 sizes', async () => {
  // Regression: the [::] socket cut stdin to the udp6 maximum (65,527 bytes), so the first reply to
  // an IPv4 client failed with ERR_SOCKIT_DATAGRAM_TOO_LARGE and the listener exited 1.
  const data = randomBytes(150_000);
  const { proc, port } = await sockitListener(['0', '--udp', '--framing', 'raw'], { stdin: data });
  const client = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  try {
    const seen: Buffer[] = [];
    let total = 0;
    const all = new Promise<void>((resolve) => client.on('message', (m) => {
      seen.push(m);
      total += m.length;
      if (total >= data.length) resolve();
    }));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    client.send('hi', port, '127.0.0.1');
    await Promise.race([all, proc.exited.then(() => assert.fail(`the listener exited early: ${proc.stderr}`))]);
    assert.ok(seen.every((d) => d.length <= 65_507), `datagram sizes ${seen.map((d) => d.length).join(' ')}`);
    assert.ok(Buffer.concat(seen).equals(data), 'the datagrams, in order, are the input');
    const exit = await proc.stop('SIGTERM');
    assert.equal(exit.code, 0, proc.stderr);
  } finally {
    client.close();
  }
});

test('4 MiB of random bytes from `sockit connect` to `sockit listen` arrive intact', async () => {
  const data = randomBytes(4 * 1024 * 1024);
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1']);
  const client = await sockit(['connect', '127.0.0.1', String(port)], { stdin: data }).result();
  const server = await proc.result();
  assert.equal(client.code, 0, client.stderr);
  assert.equal(server.code, 0, server.stderr);
  const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(proc.stdoutBytes.length, data.length);
  assert.equal(digest(proc.stdoutBytes), digest(data));
});

test('--rudp: connect and listen run the same session over TCP-over-UDP; --trace shows the handshake', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--rudp'], { stdin: 'open' });
  assert.match(proc.stderr, /^listening on rudp 127\.0\.0\.1:\d+\n/);
  const client = sockit(['connect', '127.0.0.1', String(port), '--rudp', '--trace'], { stdin: 'from the client\n' });
  // The listener answers after the client's data and FIN arrived: the reply travels on a
  // half-closed connection.
  await proc.waitForStdout(/from the client\n/);
  proc.write('from the listener\n');
  proc.endInput();
  const r = await client.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from the listener\n');
  assert.match(r.stderr, /SYN/);
  assert.match(r.stderr, /ESTABLISHED/);
  assert.match(r.stderr, /FIN/);
  const listener = await proc.result();
  assert.equal(listener.code, 0, listener.stderr);
  assert.equal(listener.stdout, 'from the client\n');
});

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));

test('IPv6: listen --host ::1 and connect ::1, over TCP and UDP', { skip: hasIpv6Loopback ? false : 'no ::1 on this machine' }, async () => {
  const tcp = await sockitListener(['0', '--host', '::1', '--service', 'echo']);
  const udp = await sockitListener(['0', '--host', '::1', '--udp', '--service', 'upper']);
  assert.match(tcp.proc.stderr, /^listening on tcp \[::1\]:\d+\n/);
  const [overTcp, overUdp, bracketed] = await Promise.all([
    sockit(['connect', '::1', String(tcp.port)], { stdin: 'over ipv6\n' }).result(),
    sockit(['connect', '--udp', '::1', String(udp.port), '--timeout', '300'], { stdin: 'udp over ipv6\n' }).result(),
    // The way sockit prints the address ([::1]:PORT) is accepted back as HOST.
    sockit(['connect', '[::1]', String(tcp.port)], { stdin: 'bracketed\n' }).result(),
  ]);
  assert.equal(bracketed.code, 0, bracketed.stderr);
  assert.equal(bracketed.stdout, 'bracketed\n');
  assert.equal(overTcp.code, 0, overTcp.stderr);
  assert.equal(overTcp.stdout, 'over ipv6\n');
  assert.equal(overUdp.code, 0, overUdp.stderr);
  assert.equal(overUdp.stdout, 'UDP OVER IPV6\n');
  assert.equal((await tcp.proc.stop()).code, 0);
  assert.equal((await udp.proc.stop()).code, 0);
});
