// sockit's services and file transfer over --rudp on loopback, directly and through `sockit impair`
// dropping 5% of the datagrams both ways: the built CLI as real processes.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from '../../src/io/rudp-connect.js';
import { killAll, sockit, sockitListener, type Proc } from '../cli/support/processes.js';

const HOST = '127.0.0.1';

after(killAll);

/** Starts `sockit impair` in front of `port`, losing `loss` of the datagrams; resolves with its port. */
async function impair(port: number, loss: string): Promise<{ proc: Proc; port: number }> {
  const proc = sockit(['impair', '--listen', `${HOST}:0`, '--to', `${HOST}:${port}`, '--loss', loss, '--seed', '5'], { killAfterMs: 60_000 });
  const m = await proc.waitForStderr(/impairing udp \S+:(\d+) -> /);
  return { proc, port: Number(m[1]) };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

for (const path of ['direct', 'impaired 5% loss'] as const) {
  describe(`sockit over --rudp, ${path}`, () => {
    test('listen --service upper / connect: every line comes back upper-cased', async () => {
      const server = await sockitListener(['0', '--host', HOST, '--service', 'upper', '--rudp'], { killAfterMs: 60_000 });
      const relay = path === 'direct' ? undefined : await impair(server.port, '5%');
      const lines = Array.from({ length: 200 }, (_, i) => `line ${i} of the seeds' uppercase server`);
      const client = sockit(['connect', HOST, String(relay?.port ?? server.port), '--rudp'], { stdin: lines.join('\n') + '\n', killAfterMs: 60_000 });
      const result = await client.result();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, lines.map((l) => l.toUpperCase()).join('\n') + '\n');
      await server.proc.stop();
      await relay?.proc.stop();
    });

    test('listen --service echo / connect: 256 KiB of binary comes back intact', async () => {
      const server = await sockitListener(['0', '--host', HOST, '--service', 'echo', '--framing', 'raw', '--rudp'], { killAfterMs: 60_000 });
      const relay = path === 'direct' ? undefined : await impair(server.port, '5%');
      const data = randomBytes(256 * 1024);
      const client = sockit(['connect', HOST, String(relay?.port ?? server.port), '--rudp'], { stdin: data, killAfterMs: 60_000 });
      const exit = await client.exited;
      assert.equal(exit.code, 0, client.stderr);
      assert.equal(sha256(client.stdoutBytes), sha256(data));
      await server.proc.stop();
      await relay?.proc.stop();
    });

    test('put to listen --service files: the file arrives byte for byte', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sockit-rudp-files-'));
      const src = mkdtempSync(join(tmpdir(), 'sockit-rudp-src-'));
      try {
        const data = randomBytes(1024 * 1024 + 17);
        writeFileSync(join(src, 'payload.bin'), data);
        const server = await sockitListener(['0', '--host', HOST, '--service', 'files', '--dir', dir, '--rudp'], { killAfterMs: 60_000 });
        const relay = path === 'direct' ? undefined : await impair(server.port, '5%');
        const put = sockit(['put', join(src, 'payload.bin'), HOST, String(relay?.port ?? server.port), '--rudp'], { killAfterMs: 60_000 });
        const result = await put.result();
        assert.equal(result.code, 0, result.stderr);
        assert.equal(sha256(readFileSync(join(dir, 'payload.bin'))), sha256(data));
        await server.proc.stop();
        await relay?.proc.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(src, { recursive: true, force: true });
      }
    });
  });
}

test('connect --rudp --trace prints the handshake and the four-way close on stderr', async () => {
  const server = await sockitListener(['0', '--host', HOST, '--service', 'echo', '--rudp'], { killAfterMs: 30_000 });
  const client = sockit(['connect', HOST, String(server.port), '--rudp', '--trace'], { stdin: 'traced\n', killAfterMs: 30_000 });
  const result = await client.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'traced\n');
  assert.match(result.stderr, /→ SYN seq=\d+ .*\[SYN_SENT\]/);
  assert.match(result.stderr, /← SYN\+ACK seq=\d+ ack=\d+ .*\[ESTABLISHED\]/);
  assert.match(result.stderr, /→ FIN\+ACK /);
  // The trace used to stop at TIME_WAIT: the process exited before 2·MSL passed, so the promised
  // TIME_WAIT → CLOSED line and the closing counters never appeared. With --trace it lingers.
  assert.match(result.stderr, /TIME_WAIT → CLOSED\n/);
  assert.match(result.stderr, /closed: sent 7 B in \d+ segments, received 7 B in \d+ segments, \d+ retransmissions?, rtt [\d.]+ ms, cwnd \d+ B\n$/);
  await server.proc.stop();
});

test('listen --rudp (nc mode): a client that resets is reported and the exit status is 1, as over TCP', async () => {
  // Regression: the listener's second close() (after the one that stops accepting) never
  // completed, so the command never returned: the process drained its event loop and exited 0
  // with no word of the reset.
  const server = await sockitListener(['0', '--host', HOST, '--rudp'], { stdin: 'open', killAfterMs: 30_000 });
  const client = connect({ port: server.port, host: HOST });
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.write('before the reset\n');
  await server.proc.waitForStdout(/before the reset\n/);
  client.destroy(new Error('reset on purpose'));
  const result = await server.proc.result();
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^sockit: rudp connection to 127\.0\.0\.1:\d+: .*reset by peer.*\(ERR_SOCKIT_CONNECTION_RESET\)$/m);
});
