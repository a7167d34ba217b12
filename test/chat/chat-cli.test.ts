// `sockit chat` and `sockit listen --service chat` as spawned processes (non-TTY mode: lines in,
// lines out): two clients chatting, a nick collision, the server going away, the listen-side
// options, --rudp, and usage errors with their exit codes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listenChat } from '../../src/chat/chat-server.js';
import { createRudpTransport } from '../../src/io/rudp-transport.js';
import { LineClient, SockitProcess } from './chat-test-support.js';

function chatClient(port: number, ...args: string[]): SockitProcess {
  return new SockitProcess(['chat', '127.0.0.1', String(port), ...args]);
}

describe('sockit chat (spawned clients)', () => {
  test('two clients chat; /msg; a taken nick; end of input quits; the server going away is reported', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0 });
    const port = chat.address.port;
    const alice = chatClient(port, '--nick', 'alice');
    let bob: SockitProcess | undefined;
    try {
      await alice.stdout.waitFor('* you are alice');
      bob = chatClient(port, '--nick', 'alice');
      await bob.stdout.waitFor('! nick alice is in use; choose another (ERR_SOCKIT_NICK_IN_USE)');
      bob.write('/nick bob');
      await bob.stdout.waitFor('* you are bob');
      await alice.stdout.waitFor('* bob joined #lobby');

      alice.write('hi bob');
      await bob.stdout.waitFor('[#lobby] <alice> hi bob');
      await alice.stdout.waitFor('[#lobby] <alice> hi bob');
      bob.write('/msg alice just between us');
      await alice.stdout.waitFor('[pm] <bob> just between us');
      await bob.stdout.waitFor('[pm to alice] <bob> just between us');

      // End of input: the client says /quit and exits 0 once the server closed.
      alice.endInput();
      assert.equal(await alice.exit(), 0);
      await bob.stdout.waitFor('* alice left #lobby (quit)');

      await chat.close();
      await bob.stdout.waitFor('* the server is shutting down; bye');
      // Regression: closing the terminal when the server left counted as the user's /quit (exit 0).
      assert.equal(await bob.exit(), 1);
      assert.ok(bob.stderr.lines.includes(`sockit: the server 127.0.0.1:${port} closed the connection`), bob.stderr.lines.join('\n'));
    } finally {
      alice.child.kill();
      bob?.child.kill();
      await chat.close();
    }
  });

  test('sockit listen --service chat: --max-clients refuses one more; SIGTERM tells clients and exits 0', async () => {
    const server = new SockitProcess(['listen', '0', '--host', '127.0.0.1', '--service', 'chat', '--max-clients', '1', '--max-rate', '0']);
    try {
      const ready = await server.stderr.waitFor(/^listening on tcp /);
      const port = Number(/:(\d+)$/.exec(ready)![1]);
      const first = await LineClient.as(port, 'first');
      const second = await LineClient.connect(port, /^!/);
      assert.equal(second.lines[0], '! server full: 1 clients connected; try again later (ERR_SOCKIT_SERVER_FULL)');
      await second.closed;
      server.child.kill('SIGTERM');
      await first.log.waitFor('* the server is shutting down; bye');
      await first.closed;
      assert.equal(await server.exit(), 0);
    } finally {
      server.child.kill();
    }
  });

  test('--rudp: the client talks to a chat server running over RUDP', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, transport: createRudpTransport({ noDelay: true }) });
    const client = chatClient(chat.address.port, '--rudp', '--nick', 'udpuser');
    try {
      await client.stdout.waitFor('* you are udpuser');
      client.write('over udp');
      await client.stdout.waitFor('[#lobby] <udpuser> over udp');
      client.endInput();
      assert.equal(await client.exit(), 0);
    } finally {
      client.child.kill();
      await chat.close();
    }
  });

  test('usage errors exit 2; a refused connection exits 1 with its code', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['chat'], /missing HOST and PORT/],
      [['chat', '--lan', '127.0.0.1', '9'], /--lan needs no HOST PORT/],
      [['chat', '127.0.0.1', '9', '--nick', '9lives'], /--nick '9lives'/],
      [['chat', '127.0.0.1', '9', '--room', 'x'], /--room is for --lan/],
      [['chat', '--lan', '--group', 'nonsense'], /--group must be ADDR:PORT/],
    ];
    for (const [args, message] of cases) {
      const p = new SockitProcess(args);
      assert.equal(await p.exit(), 2, `${args.join(' ')}: ${p.stderr.lines.join('\n')}`);
      assert.match(p.stderr.lines.join('\n'), message);
      assert.match(p.stderr.lines[0]!, /\(ERR_SOCKIT_USAGE\)$/);
    }
    const closed = await listenChat({ host: '127.0.0.1', port: 0 });
    const port = closed.address.port;
    await closed.close();
    const refused = chatClient(port);
    assert.equal(await refused.exit(), 1);
    assert.match(refused.stderr.lines[0]!, /\(ERR_SOCKIT_CONNECTION_REFUSED\)$/);
  });
});
