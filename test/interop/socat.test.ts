// sockit against socat (Debian's /usr/bin/socat), both directions, TCP and UDP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, killAll, sockit, sockitListener, start, waitForBound } from '../cli/support/processes.js';

after(killAll);

test('sockit connect → socat TCP-LISTEN: both directions, then both exit 0', async () => {
  const port = await freePort('tcp');
  const socat = start('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, '-'], { stdin: 'from socat\n' });
  await waitForBound(port, 'tcp', socat);
  const client = await sockit(['connect', '127.0.0.1', String(port)], { stdin: 'from sockit\n' }).result();
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, 'from socat\n');
  const server = await socat.result();
  assert.equal(server.code, 0, server.stderr);
  assert.equal(server.stdout, 'from sockit\n');
});

test('socat TCP → sockit listen --framing len32le --service echo: frames come back byte for byte', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--framing', 'len32le', '--service', 'echo']);
  // Three struct.pack('i', n) frames in one write, as seed 001's protocol 1 sends them.
  const frames = Buffer.from('05000000' + '68656c6c6f' + '00000000' + '03000000' + '616263', 'hex');
  const socat = start('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], { stdin: frames });
  const r = await socat.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(socat.stdoutBytes.toString('hex'), frames.toString('hex'));
  assert.equal((await proc.stop()).code, 0);
});

test('socat TCP → sockit listen (nc mode): both directions', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1'], { stdin: 'from sockit\n' });
  const socat = await start('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], { stdin: 'from socat\n' }).result();
  assert.equal(socat.code, 0, socat.stderr);
  assert.equal(socat.stdout, 'from sockit\n');
  const listener = await proc.result();
  assert.equal(listener.code, 0, listener.stderr);
  assert.equal(listener.stdout, 'from socat\n');
});

test('sockit connect --udp → socat UDP-RECVFROM with an uppercasing program', async () => {
  const port = await freePort('udp');
  const socat = start('socat', [`UDP-RECVFROM:${port},bind=127.0.0.1`, 'SYSTEM:tr a-z A-Z']);
  await waitForBound(port, 'udp', socat);
  const client = await sockit(['connect', '--udp', '127.0.0.1', String(port), '--timeout', '500'], { stdin: 'hello socat\n' }).result();
  assert.equal(client.code, 0, client.stderr);
  assert.equal(client.stdout, 'HELLO SOCAT\n');
  await socat.stop();
});

test('socat UDP → sockit listen --udp --service upper', async () => {
  const { proc, port } = await sockitListener(['0', '--host', '127.0.0.1', '--udp', '--service', 'upper']);
  const socat = start('socat', ['-t', '5', '-', `UDP:127.0.0.1:${port}`], { stdin: 'hello sockit\n' });
  await socat.waitForStdout(/^HELLO SOCKIT\n$/);
  await socat.stop();
  assert.equal((await proc.stop()).code, 0);
});
