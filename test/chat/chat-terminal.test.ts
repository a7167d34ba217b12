// The chat terminal on a (simulated) TTY: what it writes to erase a line once it has been typed, so
// the server's echo is the only copy left on screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ChatTerminal } from '../../src/chat/chat-terminal.js';

/**
 * A 20-column terminal: resolves with how many rows were erased after each line typed, key by key
 * as a person types, or `pasted` in one chunk with its Enter (as tmux send-keys or a paste does).
 */
async function typeLines(lines: string[], pasted = false): Promise<string[]> {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 20 });
  let screen = '';
  stdout.on('data', (c: Buffer) => (screen += c.toString()));
  const terminal = new ChatTerminal({ stdin, stdout, stderr: new PassThrough(), env: { NO_COLOR: '1' } }, { prompt: '> ' });
  const shown: string[] = [];
  try {
    for (const line of lines) {
      const typed = new Promise<string>((resolve) => terminal.once('line', resolve));
      screen = '';
      if (pasted) stdin.write(`${line}\r`);
      else {
        for (const key of line) {
          stdin.write(key);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        stdin.write('\r');
      }
      assert.equal(await typed, line);
      // The rows erased: ESC[nA (up n rows), CR, ESC[J (clear to the end of the screen).
      const erase = /\x1b\[(\d+)A\r\x1b\[J/.exec(screen);
      shown.push(erase ? erase[1]! : `no erase in ${JSON.stringify(screen)}`);
    }
  } finally {
    terminal.close();
  }
  return shown;
}

test('a typed line that wrapped onto several rows is erased whole, CJK counted two columns wide', async () => {
  // Broke: only the last row went (ESC[1A ESC[2K), so the rows above stayed on screen over the echo.
  const [short, long, exact, chinese] = await typeLines(['hi', 'x'.repeat(50), 'y'.repeat(38), '你好'.repeat(10)]);
  assert.equal(short, '1');
  // "> " + 50 characters = 52 columns: 3 rows of 20.
  assert.equal(long, '3');
  // 40 columns exactly fill 2 rows, and readline then starts a third (a space that forces the
  // wrap): 3 rows go.
  assert.equal(exact, '3');
  // "> " + 20 characters two columns wide = 42 columns: 3 rows.
  assert.equal(chinese, '3');
});

test('a line pasted with its Enter that exactly fills its rows: readline wrote it as it is, so no row more is erased', async () => {
  // Erasing one row more would wipe the last row of the message above it.
  const [short, exact, long] = await typeLines(['hi', 'y'.repeat(38), 'x'.repeat(50)], true);
  assert.deepEqual([short, exact, long], ['1', '2', '3']);
});
