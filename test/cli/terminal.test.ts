// sockit at a terminal (a pseudo-terminal here): typing works like the seeds' input() programs, and
// colours appear only on a terminal, never with NO_COLOR.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, killAll, python, repoRoot, start, waitForBound } from './support/processes.js';

after(killAll);

/** Runs `sockit ARGS` on a pseudo-terminal, typing `lines`; resolves with what the terminal showed. */
async function inTerminal(lines: string[], args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ shown: string; exit: number }> {
  const helper = join(repoRoot(), 'test', 'cli', 'support', 'in_terminal.py');
  const r = await start('python3', [helper, ...lines, '--', process.execPath, join(repoRoot(), 'bin', 'sockit.js'), ...args], { env }).result();
  assert.equal(r.code, 0, r.stderr);
  const m = /\nexit=(\d+)\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return { shown: r.stdout.slice(0, m.index), exit: Number(m[1]) };
}

test('a line typed at `sockit connect` goes out on Enter; it exits when the server closes', async () => {
  // At a terminal nobody types Ctrl-D after the answer, so the server's close must end the session
  // (with a pipe, stdin would keep flowing to a peer that only half-closed).
  const port = await freePort('tcp');
  const server = python('seed002_upper_server.py', ['127.0.0.1', String(port)]);
  await waitForBound(port, 'tcp', server);
  const { shown, exit } = await inTerminal(['typed at a terminal'], ['connect', '127.0.0.1', String(port)]);
  assert.equal(exit, 0, shown);
  assert.match(shown, /TYPED AT A TERMINAL\r?\n/);
  await server.stop();
});

test('sockit demo colours its headings on a terminal', async () => {
  const { shown, exit } = await inTerminal([], ['demo', '1'], { NO_COLOR: '' });
  assert.equal(exit, 0, shown);
  assert.match(shown, /\x1b\[[\d;]*m1\. TCP/);
});

test('sockit demo prints no colour on a terminal when NO_COLOR is set', async () => {
  const { shown, exit } = await inTerminal([], ['demo', '1'], { NO_COLOR: '1' });
  assert.equal(exit, 0, shown);
  assert.match(shown, /\n1\. TCP/);
  assert.doesNotMatch(shown, /\x1b\[/);
});
