// Every failure is one line on stderr, `sockit: <what happened> (<code>)`, and exit status 1:
// refused, port in use, timeout, oversized frame, oversized datagram. A service survives a bad client.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { freePort, killAll, repoRoot, sockit, sockitListener, start } from './support/processes.js';

after(killAll);

/** Asserts a runtime failure: exit 1, and exactly one `sockit: ... (CODE)` line on stderr. */
function assertFailure(r: { code: number | null; stderr: string }, code: string, what: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const errorLines = r.stderr.split('\n').filter((line) => line.startsWith('sockit: '));
  assert.equal(errorLines.length, 1, r.stderr);
  assert.match(errorLines[0]!, new RegExp(`^sockit: .*\\(${code}\\)$`));
  assert.match(r.stderr, what);
}

function frameHeader32(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

test('connect to a closed port: refused, exit 1, with a hint', async () => {
  const port = await freePort('tcp');
  const r = await sockit(['connect', '127.0.0.1', String(port)]).result();
  assertFailure(r, 'ERR_SOCKIT_CONNECTION_REFUSED', new RegExp(`connect to 127\\.0\\.0\\.1:${port}: connection refused`));
  assert.match(r.stderr, /is a server listening on that port\?/);
});

test('listen on a TCP port in use: exit 1, address in use', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    const r = await sockit(['listen', String(port), '--host', '127.0.0.1']).result();
    assertFailure(r, 'ERR_SOCKIT_ADDRESS_IN_USE', /address already in use/);
  } finally {
    holder.close();
  }
});

test('listen on a UDP port in use (also with --service): exit 1, address in use', async () => {
  const holder = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  const port = holder.address().port;
  try {
    const [plain, service] = await Promise.all([
      sockit(['listen', String(port), '--host', '127.0.0.1', '--udp']).result(),
      sockit(['listen', String(port), '--host', '127.0.0.1', '--udp', '--service', 'echo']).result(),
    ]);
    assertFailure(plain, 'ERR_SOCKIT_ADDRESS_IN_USE', /address already in use/);
    assertFailure(service, 'ERR_SOCKIT_ADDRESS_IN_USE', /address already in use/);
  } finally {
    holder.close();
  }
});

test('listen on a privileged port without privileges: permission denied', async (t) => {
  // As root, drop to the conventional unprivileged user `nobody` so the kernel says no.
  const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  if (user && (await sockit(['--version'], { user }).result()).code !== 0) {
    t.skip('running as root and user nobody cannot read this checkout');
    return;
  }
  const r = await sockit(['listen', '1', '--host', '127.0.0.1'], user ? { user } : {}).result();
  assertFailure(r, 'ERR_SOCKIT_PERMISSION_DENIED', /listen on tcp 127\.0\.0\.1:1: permission denied/);
  assert.match(r.stderr, /ports below 1024 need privileges/);
});

test('connect --timeout to a server that never answers: exit 1, timeout', async () => {
  const server = start('python3', ['-u', join(repoRoot(), 'test', 'cli', 'support', 'unaccepting_server.py')]);
  try {
    const port = (await server.waitForStdout(/^(\d+)\n/))[1]!;
    const r = await sockit(['connect', '127.0.0.1', port, '--timeout', '300']).result();
    assertFailure(r, 'ERR_SOCKIT_TIMEOUT', new RegExp(`connect to 127\\.0\\.0\\.1:${port}: no answer within 300 ms`));
  } finally {
    await server.stop('SIGKILL');
  }
});

test('listen --framing len32: an oversized frame header ends the session with exit 1', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--framing', 'len32', '--max-frame', '16']);
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  client.end(Buffer.concat([frameHeader32(1000), Buffer.alloc(20)]));
  const r = await proc.result();
  client.destroy();
  assertFailure(r, 'ERR_SOCKIT_FRAME_TOO_LARGE', /1000/);
});

test('connect --framing len32: an oversized frame from the server ends with exit 1', async () => {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.end(Buffer.concat([frameHeader32(4), Buffer.from('fine'), frameHeader32(1 << 20)]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const r = await sockit(['connect', '127.0.0.1', String(port), '--framing', 'len32', '--max-frame', '1k'], { stdin: 'open' }).result();
    assert.equal(r.stdout, 'fine\n');
    assertFailure(r, 'ERR_SOCKIT_FRAME_TOO_LARGE', /1048576/);
  } finally {
    server.close();
  }
});

test('a service closes only the connection that sent an oversized frame and keeps serving', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'echo', '--framing', 'len32', '--max-frame', '16']);
  const bad = net.connect(port, '127.0.0.1');
  bad.on('error', () => undefined);
  const badClosed = new Promise<void>((resolve) => bad.on('close', () => resolve()));
  bad.write(frameHeader32(17));
  await badClosed;

  const r = await sockit(['connect', '127.0.0.1', String(port), '--framing', 'len32'], { stdin: 'still here\n' }).result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'still here\n');

  const exit = await proc.stop('SIGTERM');
  assert.equal(exit.code, 0);
  assert.match(proc.stderr, /ERR_SOCKIT_FRAME_TOO_LARGE/);
});

test('connect --udp: a line too long for one datagram is refused before sending, exit 1', async () => {
  const port = await freePort('udp');
  const r = await sockit(['connect', '--udp', '127.0.0.1', String(port)], { stdin: 'x'.repeat(70_000) + '\n' }).result();
  assertFailure(r, 'ERR_SOCKIT_DATAGRAM_TOO_LARGE', /70000-byte datagram exceeds the 65507-byte/);
});

test('a stdin line over len16\'s 65,535-byte header is refused without a --max-frame hint (no --max-frame can raise it)', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'discard', '--framing', 'len16']);
  const r = await sockit(['connect', '127.0.0.1', String(port), '--framing', 'len16'], { stdin: 'x'.repeat(70_000) + '\n' }).result();
  assertFailure(r, 'ERR_SOCKIT_FRAME_TOO_LARGE', /70000-byte message in len16 framing: its header holds at most 65535 bytes/);
  assert.doesNotMatch(r.stderr, /--max-frame/);
  await proc.stop('SIGTERM');
});

test('a stdin line longer than --max-frame is refused, exit 1', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'discard', '--framing', 'lines']);
  const r = await sockit(['connect', '127.0.0.1', String(port), '--framing', 'lines', '--max-frame', '8'], { stdin: 'short\nthis line is too long\n' }).result();
  assertFailure(r, 'ERR_SOCKIT_LINE_TOO_LONG', /8/);
  await proc.stop('SIGTERM');
});
