// sockit against netcat-openbsd (/usr/bin/nc from Debian), both directions, TCP and UDP: the
// bytes, the half-close and the datagrams must look to nc exactly like another nc.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { freePort, killAll, sockit, sockitListener, start, waitForBound } from '../cli/support/processes.js';

after(killAll);

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('sockit connect → nc -N -l: both directions, then both exit 0', async () => {
  const port = await freePort('tcp');
  const nc = start('nc', ['-N', '-l', '127.0.0.1', String(port)], { stdin: 'from nc\n' });
  await waitForBound(port, 'tcp', nc);
  const client = await sockit(['connect', '127.0.0.1', String(port)], { stdin: 'from sockit\n' }).result();
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, 'from nc\n');
  const server = await nc.result();
  assert.equal(server.code, 0, server.stderr);
  assert.equal(server.stdout, 'from sockit\n');
});

test('nc -N → sockit listen (nc mode): both directions, then both exit 0', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1'], { stdin: 'from sockit\n' });
  const nc = await start('nc', ['-N', '127.0.0.1', String(port)], { stdin: 'from nc\n' }).result();
  assert.equal(nc.code, 0, nc.stderr);
  assert.equal(nc.stdout, 'from sockit\n');
  const listener = await proc.result();
  assert.equal(listener.code, 0, listener.stderr);
  assert.equal(listener.stdout, 'from nc\n');
});

test('nc -N → sockit listen --service upper: the reply follows nc\'s half-close', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'upper']);
  const nc = await start('nc', ['-N', '127.0.0.1', String(port)], { stdin: 'shout this\n' }).result();
  assert.equal(nc.code, 0, nc.stderr);
  assert.equal(nc.stdout, 'SHOUT THIS\n');
  assert.equal((await proc.stop()).code, 0);
});

test('4 MiB of random bytes: sockit connect → nc -l, and nc → sockit listen', async () => {
  const data = randomBytes(4 * 1024 * 1024);
  const port = await freePort('tcp');
  const nc = start('nc', ['-l', '127.0.0.1', String(port)]);
  await waitForBound(port, 'tcp', nc);
  const client = await sockit(['connect', '127.0.0.1', String(port)], { stdin: data }).result();
  assert.equal(client.code, 0, client.stderr);
  await nc.result();
  assert.equal(digest(nc.stdoutBytes), digest(data));

  const { proc, port: listenPort } = await sockitListener(['0', '--host', '127.0.0.1']);
  const sender = await start('nc', ['-N', '127.0.0.1', String(listenPort)], { stdin: data }).result();
  assert.equal(sender.code, 0, sender.stderr);
  assert.equal((await proc.result()).code, 0);
  assert.equal(digest(proc.stdoutBytes), digest(data));
});

test('sockit connect --udp → nc -u -l: a datagram each way', async () => {
  const port = await freePort('udp');
  const nc = start('nc', ['-u', '-l', '127.0.0.1', String(port)], { stdin: 'reply from nc\n' });
  await waitForBound(port, 'udp', nc);
  const client = await sockit(['connect', '--udp', '127.0.0.1', String(port), '--timeout', '300'], { stdin: 'hello nc\n' }).result();
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, 'reply from nc\n');
  await nc.waitForStdout(/hello nc/);
  await nc.stop();
});

test('nc -u → sockit listen --udp --service echo', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--udp', '--service', 'echo']);
  const nc = start('nc', ['-u', '127.0.0.1', String(port)], { stdin: 'echo me\n' });
  await nc.waitForStdout(/^echo me\n$/);
  await nc.stop();
  assert.equal((await proc.stop()).code, 0);
});
