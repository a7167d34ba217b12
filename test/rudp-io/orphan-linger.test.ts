// A RUDP connection destroyed gracefully keeps the process alive only to deliver its last bytes and
// FIN, and only for orphanLingerMs: a peer that died never acknowledges, and the process must not
// hang for the minutes retransmission would take to give up (the kernel lets a process exit with
// orphan TCP connections too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./support/orphan-child.js', import.meta.url));

for (const traced of [false, true]) {
  // Regression (traced): a trace keeps the process alive through TIME_WAIT, and that also held it
  // for an orphan past its linger time: `listen --rudp --trace` took minutes to exit on SIGTERM.
  test(`an orphan whose peer died lets the process exit after its linger time${traced ? ', with a trace too' : ''}`, async () => {
    const started = performance.now();
    const child = spawn(process.execPath, [CHILD, '500', ...(traced ? ['trace'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    const tookMs = performance.now() - started;
    assert.equal(code, 0, `the process was killed after ${tookMs.toFixed(0)} ms: it did not exit by itself`);
    assert.match(out, /^orphaned \d+\n$/);
    // Start-up, handshake and 500 ms of linger; far below the minutes of retransmissions.
    assert.ok(tookMs < 8000, `exited after ${tookMs.toFixed(0)} ms`);
  });
}
