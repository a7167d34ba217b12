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
  test('two clients chat; /msg; end of input quits; the server going away is reported', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0 });
    const port = chat.address.port;
    const alice = chatClient(port, '--nick', 'alice');
    let bob: SockitProcess | undefined;
    try {
      await alice.stdout.waitFor('* you are alice');
      bob = chatClient(port, '--nick', 'bob');
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
      assert.deepEqual(bob.stderr.lines, [`sockit: the server 127.0.0.1:${port} closed the connection (ERR_SOCKIT_CONNECTION_CLOSED)`]);
    } finally {
      alice.child.kill();
      bob?.child.kill();
      await chat.close();
    }
  });

  test('--encoding gbk: two clients of a GBK server see each other\'s Chinese text intact; --lan refuses it', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0, encoding: 'gbk' });
    const port = chat.address.port;
    const alice = chatClient(port, '--nick', 'alice', '--encoding', 'gbk');
    let bob: SockitProcess | undefined;
    try {
      await alice.stdout.waitFor('* you are alice');
      bob = chatClient(port, '--nick', 'bob', '--encoding', 'GBK');
      await bob.stdout.waitFor('* you are bob');
      alice.write('你好，世界');
      // The server decodes GBK: UTF-8 bytes from a client would reach bob as mojibake.
      await bob.stdout.waitFor('[#lobby] <alice> 你好，世界');
      bob.write('/me 收到');
      await alice.stdout.waitFor('[#lobby] * bob 收到');
    } finally {
      alice.child.kill();
      bob?.child.kill();
      await chat.close();
    }
    const lan = new SockitProcess(['chat', '--lan', '--encoding', 'gbk']);
    assert.equal(await lan.exit(), 2);
    assert.match(lan.stderr.lines.join('\n'), /--encoding is for a chat server; LAN chat is always UTF-8/);
  });

  test('scripted: a taken --nick fails with its code and exit 1; no line of stdin becomes the nick', async () => {
    // Regression: `printf 'x\n' | sockit chat ... --nick carol` with carol taken registered as x and exited 0.
    const chat = await listenChat({ host: '127.0.0.1', port: 0 });
    const port = chat.address.port;
    const carol = await LineClient.as(port, 'carol');
    const piped = chatClient(port, '--nick', 'carol');
    const open = chatClient(port, '--nick', 'Carol');
    try {
      // One script's input ends at once (printf | ...), the other's stays open: both fail the same.
      piped.write('x');
      piped.endInput();
      open.write('y');
      for (const [client, nick] of [[piped, 'carol'], [open, 'Carol']] as const) {
        assert.equal(await client.exit(), 1, client.stderr.lines.join('\n'));
        assert.deepEqual(client.stderr.lines, [`sockit: 127.0.0.1:${port} refused --nick ${nick}: nick ${nick} is in use; choose another (ERR_SOCKIT_NICK_IN_USE)`]);
        assert.equal(client.stdout.lines.some((l) => l.startsWith('* you are') || l.startsWith('!')), false, client.stdout.lines.join('\n'));
      }
      assert.equal(await carol.ask('/who', /^\* #lobby/), '* #lobby (1): carol');
    } finally {
      piped.child.kill();
      open.child.kill();
      await carol.close();
      await chat.close();
    }
  });

  test('scripted: lines typed before the server confirmed --nick are said after it, and end of input still quits', async () => {
    const chat = await listenChat({ host: '127.0.0.1', port: 0 });
    const port = chat.address.port;
    const carol = await LineClient.as(port, 'carol');
    const dave = chatClient(port, '--nick', 'dave');
    try {
      dave.write('hello');
      dave.write('/me waves');
      dave.endInput();
      await carol.log.waitFor('[#lobby] <dave> hello');
      await carol.log.waitFor('[#lobby] * dave waves');
      assert.equal(await dave.exit(), 0, dave.stderr.lines.join('\n'));
      await carol.log.waitFor('* dave left #lobby (quit)');
    } finally {
      dave.child.kill();
      await carol.close();
      await chat.close();
    }
  });

  test('scripted: the client exits 1 with a coded line as soon as the server stops, stdin still open', async () => {
    // Regression: with stdin not a terminal the end of the session waited for the end of stdin, and
    // the line said the server closed the connection without a code.
    const server = new SockitProcess(['listen', '0', '--host', '127.0.0.1', '--service', 'chat']);
    let client: SockitProcess | undefined;
    try {
      const ready = await server.stderr.waitFor(/^listening on tcp /);
      const port = Number(/:(\d+)$/.exec(ready)![1]);
      client = chatClient(port, '--nick', 'erin');
      await client.stdout.waitFor('* you are erin');
      server.child.kill('SIGINT');
      // stdin is never ended: exit() would give up (and report null) if the client waited for it.
      assert.equal(await client.exit(), 1);
      assert.deepEqual(client.stderr.lines, [`sockit: the server 127.0.0.1:${port} closed the connection (ERR_SOCKIT_CONNECTION_CLOSED)`]);
      assert.equal(await server.exit(), 0);
    } finally {
      client?.child.kill();
      server.child.kill();
    }
  });

  test('sockit listen --service chat: --max-clients refuses one more; SIGTERM tells clients and exits 0', async () => {
    const server = new SockitProcess(['listen', '0', '--host', '127.0.0.1', '--service', 'chat', '--max-clients', '1', '--max-rate', '0']);
    try {
      const ready = await server.stderr.waitFor(/^listening on tcp /);
      const port = Number(/:(\d+)$/.exec(ready)![1]);
      const first = await LineClient.as(port, 'first');
      const second = await LineClient.connect(port, /^!/);
      assert.equal(second.lines[0], '! server full: 1 client connected; try again later (ERR_SOCKIT_SERVER_FULL)');
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
