// Issue 3: "a transfer killed halfway and resumed (hash equal)", done the way a person meets it:
// the `sockit put` process is killed with SIGKILL in the middle of an upload, the server keeps
// only NAME.part (nothing that looks complete), and running the same put again continues from
// where the first one stopped and lands a file whose SHA-256 equals the original.
//
// To stop "in the middle" without racing the clock, the upload goes through a relay that passes
// the client's bytes on at a few MB/s (a real TCP hop, like a slow link), and the test kills the
// client once the server's .part file has grown past a threshold. The kernel then closes the dead
// process's connection, the relay passes that on, and the server keeps the .part for a resume.
//
// Over --rudp a killed process cannot say goodbye: no kernel answers for it, and the server's
// session just goes silent (as TCP across a cut cable). The second test kills a `put --rudp` the
// same way (slowed by `sockit impair --rate`) and retries at once: the server sees a new upload of
// the file its silent session holds, ends that session once it has been silent for 2 s, and the
// retry resumes from the part.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { sockit, sockitListener, killAll } from '../cli/support/processes.js';

// Much larger than what loopback TCP buffers hold (a few MiB): bytes the killed client already
// handed to its kernel still arrive, so a smaller file would complete despite the kill.
const FILE_BYTES = 24 * 1024 * 1024;
const KILL_AFTER_PART_BYTES = 512 * 1024;

after(killAll);

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A TCP relay to `port` that forwards the client's bytes at about `bytesPerSecond`. */
async function slowRelay(port: number, bytesPerSecond: number): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    sockets.add(client).add(upstream);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      client.pause();
      upstream.write(chunk);
      setTimeout(() => client.resume(), (chunk.length / bytesPerSecond) * 1000);
    });
    client.on('end', () => upstream.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A temp folder with the file to upload (big.bin, random) and an empty shared/ for the server. */
function workspace(prefix: string): { work: string; shared: string; source: string; content: Buffer } {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const shared = join(work, 'shared');
  const source = join(work, 'big.bin');
  const content = randomBytes(FILE_BYTES);
  writeFileSync(source, content);
  mkdirSync(shared);
  return { work, shared, source, content };
}

/** The `file-done` event among a `--json` run's output lines. */
function fileDoneEvent(stdout: string): Record<string, unknown> | undefined {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['event'] === 'file-done');
}

async function waitUntil(condition: () => boolean, what: string, limitMs: number): Promise<void> {
  // A safety net only: the condition, not the clock, decides when the test goes on.
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('put killed halfway leaves only NAME.part; the same put again resumes and the hashes match', async () => {
  const { work, shared, source, content } = workspace('sockit-resume-');
  const cleanups: Array<() => void> = [];
  try {

    const server = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'files', '--dir', shared], { killAfterMs: 120_000 });
    const link = await slowRelay(server.port, 8 * 1024 * 1024);
    cleanups.push(() => link.close());

    // First attempt: killed once a good part of the file is on the server's disk.
    const part = join(shared, 'big.bin.part');
    const first = sockit(['put', source, '127.0.0.1', String(link.port), '--json'], { killAfterMs: 120_000 });
    await waitUntil(() => existsSync(part) && statSync(part).size >= KILL_AFTER_PART_BYTES, 'the .part file to grow', 60_000);
    await first.stop('SIGKILL');
    assert.equal(existsSync(join(shared, 'big.bin')), false, 'a killed upload must not look complete');

    // Once the relay has passed on what the kernel still held, the server sees the stream end
    // inside a message and says so; the partial data stays in big.bin.part.
    await server.proc.waitForStderr(/ERR_SOCKIT_(TRUNCATED_FRAME|SHORT_TRANSFER|CONNECTION_RESET)/);
    const kept = statSync(part).size;
    assert.ok(kept > 0 && kept < FILE_BYTES, `kept ${kept} bytes`);

    // Second attempt, straight to the server: it resumes after checking the prefix.
    const second = sockit(['put', source, '127.0.0.1', String(server.port), '--json'], { killAfterMs: 120_000 });
    const result = await second.result();
    assert.equal(result.code, 0, result.stderr);
    const done = fileDoneEvent(result.stdout);
    assert.ok(done, result.stdout);
    assert.equal(done['ok'], true);
    assert.equal(done['savedAs'], 'big.bin');
    assert.ok((done['resumedFrom'] as number) > 0, `expected a resume, got ${JSON.stringify(done)}`);

    assert.equal(sha256(readFileSync(join(shared, 'big.bin'))), sha256(content));
    assert.equal(existsSync(part), false, 'the .part file is gone once the file is complete');

    await server.proc.stop();
  } finally {
    for (const cleanup of cleanups.splice(0)) cleanup();
    rmSync(work, { recursive: true, force: true });
  }
});

test('put --rudp killed halfway (no RST can follow): an immediate retry ends the silent session and resumes', async () => {
  const { work, shared, source, content } = workspace('sockit-resume-rudp-');
  try {

    const server = await sockitListener(['0', '--host', '127.0.0.1', '--service', 'files', '--dir', shared, '--rudp'], { killAfterMs: 120_000 });
    const impair = sockit(['impair', '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${server.port}`, '--rate', '64mbit'], { killAfterMs: 120_000 });
    const linkPort = Number((await impair.waitForStderr(/impairing udp \S+:(\d+) -> /))[1]);

    const part = join(shared, 'big.bin.part');
    const first = sockit(['put', source, '127.0.0.1', String(linkPort), '--rudp', '--json'], { killAfterMs: 120_000 });
    await waitUntil(() => existsSync(part) && statSync(part).size >= KILL_AFTER_PART_BYTES, 'the .part file to grow', 60_000);
    await first.stop('SIGKILL');
    assert.equal(existsSync(join(shared, 'big.bin')), false, 'a killed upload must not look complete');

    // Retry at once, straight to the server (the dead session is still open there).
    const second = sockit(['put', source, '127.0.0.1', String(server.port), '--rudp', '--json'], { killAfterMs: 120_000 });
    const result = await second.result();
    assert.equal(result.code, 0, result.stderr);
    const done = fileDoneEvent(result.stdout);
    assert.ok(done, result.stdout);
    assert.equal(done['savedAs'], 'big.bin');
    assert.ok((done['resumedFrom'] as number) >= KILL_AFTER_PART_BYTES / 2, `expected a resume, got ${JSON.stringify(done)}`);
    assert.equal(sha256(readFileSync(join(shared, 'big.bin'))), sha256(content));
    assert.equal(existsSync(part), false, 'the .part file is gone once the file is complete');
    await server.proc.waitForStderr(/superseded: a new upload of the same file arrived while this one was silent/);

    await impair.stop();
    await server.proc.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
