import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, waitFor } from './udp-helpers.js';

const SOCKIT = join(repoRoot(), 'bin', 'sockit.js');

/** Spawns `sockit ARGS` collecting its output; `exited` resolves with the exit code. */
function sockit(args: string[]) {
  const child = spawn(process.execPath, [SOCKIT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

function stop(p: { child: ChildProcess }): void {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

test('sockit connect --rudp through sockit impair at 5% loss gets every byte of the upper service back', async () => {
  const server = sockit(['listen', '0', '--host', '127.0.0.1', '--rudp', '--service', 'upper']);
  let impair: ReturnType<typeof sockit> | undefined;
  let client: ReturnType<typeof sockit> | undefined;
  try {
    await waitFor(() => /listening on rudp/.test(server.out.stderr) || server.child.exitCode !== null, 'the RUDP listener');
    const serverPort = /listening on rudp 127\.0\.0\.1:(\d+)/.exec(server.out.stderr)?.[1];
    assert.ok(serverPort, server.out.stderr);
    impair = sockit(['impair', '--listen', '0', '--to', `127.0.0.1:${serverPort}`, '--loss', '5%', '--delay', '2ms', '--seed', '11']);
    await waitFor(() => /^seed \d+$/m.test(impair!.out.stderr) || impair!.child.exitCode !== null, 'the relay');
    const relayPort = /impairing udp 127\.0\.0\.1:(\d+)/.exec(impair.out.stderr)?.[1];
    assert.ok(relayPort, impair.out.stderr);

    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} of a lossy conversation, seed 002 would shout it back`);
    const input = lines.join('\n') + '\n';
    client = sockit(['connect', '127.0.0.1', relayPort, '--rudp']);
    client.child.stdin!.end(input);
    assert.equal(await client.exited, 0, client.out.stderr);
    assert.equal(client.out.stdout, input.toUpperCase());

    impair.child.kill('SIGTERM');
    assert.equal(await impair.exited, 0, impair.out.stderr);
    const dropped = /client -> target: sent \d+, delivered \d+, dropped (\d+)/.exec(impair.out.stderr)?.[1];
    assert.ok(Number(dropped) > 0, `the relay dropped nothing: ${impair.out.stderr}`);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.out.stderr);
  } finally {
    if (client) stop(client);
    if (impair) stop(impair);
    stop(server);
  }
});
