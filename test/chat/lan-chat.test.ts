// Serverless LAN chat over real UDP multicast on loopback: three in-process instances plus one
// spawned `sockit chat --lan`, a lossy path simulated by a seeded drop filter on one receiver,
// a duplicate put on the wire by hand, presence via heartbeats, and goodbyes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LanChatNode } from '../../src/chat/lan-chat.js';
import type { LanEvent } from '../../src/chat/protocol/lan-chat-state.js';
import { decodeLanMessage } from '../../src/chat/protocol/lan-message.js';
import { createRng } from '../../src/core/rng.js';
import { UdpEndpoint } from '../../src/udp/udp-endpoint.js';
import { SockitProcess, withSafety } from './chat-test-support.js';
import { PassThrough } from 'node:stream';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { ChatTerminal } from '../../src/chat/chat-terminal.js';
import { lanPrompt, runLanChatSession } from '../../src/chat/lan-chat-session.js';

/** Events of one node, and a way to wait for the one a test expects. */
class EventLog {
  readonly events: LanEvent[] = [];
  #waiters: Array<() => void> = [];
  constructor(node: LanChatNode) {
    node.on('event', (e: LanEvent) => {
      this.events.push(e);
      for (const w of this.#waiters) w();
    });
  }
  /** Waits until `check` holds, re-checking on every event and (for conditions no event marks) every 20 ms. */
  async waitFor(what: string, check: (events: LanEvent[]) => boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await withSafety(new Promise<void>((resolve) => {
        const poll = (): void => {
          if (!check(this.events)) return;
          clearInterval(timer);
          this.#waiters = this.#waiters.filter((w) => w !== poll);
          resolve();
        };
        timer = setInterval(poll, 20);
        this.#waiters.push(poll);
        poll();
      }), what);
    } finally {
      clearInterval(timer);
    }
  }
  texts(nick: string): string[] {
    return this.events.flatMap((e) => (e.kind === 'message' && e.nick === nick ? [e.text] : []));
  }
  lostFrom(nick: string): number {
    return this.events.reduce((n, e) => n + (e.kind === 'lost' && e.nick === nick ? e.count : 0), 0);
  }
}

async function freeUdpPort(): Promise<number> {
  const probe = await UdpEndpoint.bind({ host: '0.0.0.0', port: 0, type: 'udp4' });
  const port = probe.address.port;
  await probe.close();
  return port;
}

describe('LAN chat over multicast on loopback', () => {
  // A group of its own per run, so parallel test runs on the machine do not hear each other.
  const group = { address: `239.255.${process.pid % 250}.${(process.pid >> 8) % 250 + 1}`, port: 0 };
  const timing = { iface: '127.0.0.1', heartbeatMs: 100, lossDelayMs: 50, peerTimeoutMs: 5000 };
  let alice: LanChatNode;
  let bob: LanChatNode;
  let carol: LanChatNode;
  let bobLog: EventLog;
  let carolLog: EventLog;
  const carolRaw: Buffer[] = [];
  const rng = createRng(2024);
  // Alice will send 10 messages; bob's path loses two random ones and always the last one (which
  // only a heartbeat can reveal).
  const dropped = new Set<number>([10]);
  while (dropped.size < 3) dropped.add(rng.int(2, 9));

  before(async () => {
    group.port = await freeUdpPort();
    alice = await LanChatNode.start({ nick: 'alice', group, ...timing });
    bob = await LanChatNode.start({
      nick: 'bob', group, ...timing,
      receiveFilter: (datagram) => {
        // Malformed datagrams pass: deciding about them is the node's job, not the lossy path's.
        let m;
        try {
          m = decodeLanMessage(datagram);
        } catch {
          return true;
        }
        return !(m?.kind === 'msg' && m.nick === 'alice' && dropped.has(m.seq));
      },
    });
    carol = await LanChatNode.start({ nick: 'carol', group, ...timing, receiveFilter: (d) => (carolRaw.push(Buffer.from(d)), true) });
    bobLog = new EventLog(bob);
    carolLog = new EventLog(carol);
  });
  after(() => Promise.all([alice.close(), bob.close(), carol.close()]));

  test('presence: everyone appears in /who through heartbeats', async () => {
    const nicks = (n: LanChatNode): string[] => n.who().map((p) => p.nick);
    await bobLog.waitFor('bob sees alice and carol', () => nicks(bob).join() === 'alice,carol');
    await carolLog.waitFor('carol sees alice and bob', () => nicks(carol).join() === 'alice,bob');
    assert.equal(alice.mode, 'multicast');
  });

  test('messages reach everyone; a lossy path shows the gap count, never a wrong message', async () => {
    const sent = Array.from({ length: 10 }, (_, i) => `message ${i + 1}`);
    for (const text of sent) await alice.say(text);
    await carolLog.waitFor('carol has all 10', () => carolLog.texts('alice').length === 10);
    assert.deepEqual(carolLog.texts('alice'), sent);
    assert.equal(carolLog.lostFrom('alice'), 0);
    await bobLog.waitFor('bob counted the 3 lost', () => bobLog.lostFrom('alice') === dropped.size);
    assert.deepEqual(bobLog.texts('alice'), sent.filter((_, i) => !dropped.has(i + 1)));
  });

  test('a duplicated datagram is shown once', async () => {
    const original = carolRaw.find((d) => decodeLanMessage(d)?.kind === 'msg');
    assert.ok(original, 'carol captured a message datagram');
    const replayer = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0, type: 'udp4' });
    try {
      replayer.setMulticastInterface('127.0.0.1');
      const copies = (): number => carolRaw.filter((d) => d.equals(original)).length;
      await replayer.send(original, group.port, group.address);
      await carolLog.waitFor('the copy arrived', () => copies() === 2);
      assert.equal(carolLog.texts('alice').filter((t) => t === decodeLanMessage(original)?.text).length, 1);
    } finally {
      await replayer.close();
    }
  });

  test('a malformed sockit datagram costs nothing, even to nodes nobody watches for errors', async () => {
    // Before: the node emitted 'error' with no listener, which threw out of the socket's
    // 'message' handler and crashed the process.
    const bogus = Buffer.from(JSON.stringify({ p: 'sockit-chat/1', k: 'bogus' }));
    const sender = await UdpEndpoint.bind({ host: '127.0.0.1', port: 0, type: 'udp4' });
    try {
      sender.setMulticastInterface('127.0.0.1');
      await sender.send(bogus, group.port, group.address);
      await carolLog.waitFor('the bogus datagram arrived', () => carolRaw.some((d) => d.equals(bogus)));
      await alice.say('still here');
      await carolLog.waitFor('carol still hears alice', () => carolLog.texts('alice').includes('still here'));
    } finally {
      await sender.close();
    }
  });

  test('sockit chat --lan talks with the others; rooms separate; goodbyes are announced', async () => {
    const dave = new SockitProcess(['chat', '--lan', '--nick', 'dave', '--iface', '127.0.0.1', '--group', `${group.address}:${group.port}`]);
    try {
      await dave.stdout.waitFor(/^\* LAN chat on multicast /);
      await carolLog.waitFor('carol sees dave', () => carol.who().some((p) => p.nick === 'dave'));
      dave.write('hello from the CLI');
      await carolLog.waitFor('dave spoke', () => carolLog.texts('dave').includes('hello from the CLI'));
      await alice.say('hi dave');
      await dave.stdout.waitFor('[#lobby] <alice> hi dave');
      // Presence arrives with each instance's heartbeat: wait until dave has heard everyone.
      for (const nick of ['alice', 'bob', 'carol']) await dave.stdout.waitFor(`* ${nick} joined #lobby`);
      dave.write('/who');
      await dave.stdout.waitFor('* #lobby (4): alice, bob, carol, dave');
      dave.write('/join #quiet');
      await dave.stdout.waitFor('* you now talk in #quiet');
      await carolLog.waitFor('dave moved', () => carol.who('#quiet').some((p) => p.nick === 'dave'));
      await alice.say('lobby only');
      dave.write('/me is alone');
      await dave.stdout.waitFor('[#quiet] * dave is alone');
      await carolLog.waitFor('carol got the action event', () => carolLog.events.some((e) => e.kind === 'message' && e.action && e.room === '#quiet'));
      dave.write('/quit');
      assert.equal(await dave.exit(), 0);
      await carolLog.waitFor('dave said bye', () => carolLog.events.some((e) => e.kind === 'left' && e.nick === 'dave' && e.reason === 'bye'));
      assert.equal(dave.stdout.lines.some((l) => l.includes('lobby only')), false);
    } finally {
      dave.child.kill();
    }
  });
});

describe('LAN chat over broadcast (the fallback)', () => {
  test('two instances on the loopback broadcast address hear each other', async () => {
    const group = { address: '239.255.0.1', port: await freeUdpPort() };
    const one = await LanChatNode.start({ nick: 'one', group, broadcastAddress: '127.255.255.255', heartbeatMs: 100 });
    const two = await LanChatNode.start({ nick: 'two', group, broadcastAddress: '127.255.255.255', heartbeatMs: 100 });
    try {
      const twoLog = new EventLog(two);
      assert.equal(one.mode, 'broadcast');
      await twoLog.waitFor('two hears one', () => two.who().some((p) => p.nick === 'one'));
      await one.say('over broadcast');
      await twoLog.waitFor('the message', () => twoLog.texts('one').includes('over broadcast'));
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('sockit chat --lan --broadcast names the broadcast address it sends to, not the group', async () => {
    // Regression: the first line said `LAN chat on broadcast 239.255.77.77:PORT` (the unused group).
    const port = await freeUdpPort();
    const one = await LanChatNode.start({ nick: 'one', group: { address: '239.255.0.1', port }, broadcastAddress: '127.255.255.255', heartbeatMs: 100 });
    const cli = new SockitProcess(['chat', '--lan', '--nick', 'cli', '--broadcast', '127.255.255.255', '--group', `239.255.0.1:${port}`]);
    try {
      assert.deepEqual(one.destination, { address: '127.255.255.255', port });
      await cli.stdout.waitFor(`* LAN chat on broadcast 127.255.255.255:${port} as cli in #lobby; /help lists commands`);
      cli.write('/quit');
      assert.equal(await cli.exit(), 0);
    } finally {
      cli.child.kill();
      await one.close();
    }
  });
});

describe('LAN chat refuses at the sender what its receivers would reject', () => {
  // Before: say() of 511 bytes and setNick('bad nick!') resolved and sent datagrams every other
  // node rejected (ERR_SOCKIT_BAD_LAN_MESSAGE), which then reported the sender's messages as lost
  // or kept listing a node whose every datagram it dropped.
  const group = { address: `239.255.${process.pid % 250}.${(process.pid >> 8) % 250 + 1}`, port: 0 };
  const timing = { iface: '127.0.0.1', heartbeatMs: 100, lossDelayMs: 50, peerTimeoutMs: 5000 };
  let erin: LanChatNode;
  let finn: LanChatNode;
  let finnLog: EventLog;
  const finnRaw: Buffer[] = [];
  const finnErrors: Error[] = [];
  /** The raw fields of every datagram from erin that reached finn, well-formed or not. */
  const fromErin = (): Array<Record<string, unknown>> =>
    finnRaw.map((d) => JSON.parse(d.toString()) as Record<string, unknown>).filter((w) => w['f'] === erin.id);
  /** Waits for two more heartbeats from erin: they carry her last message number, so a number used up by a refused message would show as lost by then. */
  const twoMoreBeats = async (): Promise<void> => {
    const seen = fromErin().length;
    await finnLog.waitFor('two more heartbeats from erin', () => fromErin().slice(seen).filter((w) => w['k'] === 'beat').length >= 2);
  };

  before(async () => {
    group.port = await freeUdpPort();
    erin = await LanChatNode.start({ nick: 'erin', group, ...timing });
    finn = await LanChatNode.start({ nick: 'finn', group, ...timing, receiveFilter: (d) => (finnRaw.push(Buffer.from(d)), true) });
    finn.on('error', (err: Error) => finnErrors.push(err));
    finnLog = new EventLog(finn);
    await finnLog.waitFor('finn sees erin', () => finn.who().some((p) => p.nick === 'erin'));
  });
  after(() => Promise.all([erin.close(), finn.close()]));

  test('a line over 510 bytes is refused with ERR_SOCKIT_CHAT_LINE_TOO_LONG; nothing is sent, no number is used', async () => {
    await assert.rejects(erin.say('x'.repeat(511)), { name: 'LimitExceededError', code: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG', limit: 510, actual: 511 });
    await assert.rejects(erin.act('é'.repeat(256)), { code: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG', actual: 512 });
    await assert.rejects(erin.say(''), { code: 'ERR_SOCKIT_INVALID_ARGUMENT' });
    // Within 510 bytes, but 1,800 bytes once JSON-escaped: more than one datagram holds.
    await assert.rejects(erin.say('\x01'.repeat(300)), { code: 'ERR_SOCKIT_BAD_LAN_MESSAGE' });
    await erin.say('x'.repeat(510));
    await finnLog.waitFor('the 510-byte line', () => finnLog.texts('erin').includes('x'.repeat(510)));
    await twoMoreBeats();
    assert.deepEqual(finnLog.texts('erin'), ['x'.repeat(510)]);
    assert.equal(finnLog.lostFrom('erin'), 0);
    assert.deepEqual(fromErin().filter((w) => w['k'] === 'msg' || w['k'] === 'me').map((w) => w['s']), [1]);
    assert.deepEqual(finnErrors, []);
  });

  test('an invalid nick is refused with ERR_SOCKIT_BAD_NICK and the old nick is kept', async () => {
    await assert.rejects(erin.setNick('bad nick!'), { code: 'ERR_SOCKIT_BAD_NICK', message: /^bad nick 'bad nick!': a nick starts with a letter/ });
    await assert.rejects(erin.setNick('n'.repeat(17)), { code: 'ERR_SOCKIT_BAD_NICK', message: /at most 16 characters/ });
    assert.equal(erin.nick, 'erin');
    await erin.setNick('erin2');
    await erin.say('after the rename');
    await finnLog.waitFor('the renamed line', () => finnLog.texts('erin2').includes('after the rename'));
    assert.ok(finnLog.events.some((e) => e.kind === 'renamed' && e.from === 'erin' && e.to === 'erin2'));
    await erin.setNick('erin');
    await twoMoreBeats();
    assert.equal(fromErin().some((w) => w['n'] !== 'erin' && w['n'] !== 'erin2'), false);
    assert.deepEqual(finnErrors, []);
  });

  test('an invalid room is refused with ERR_SOCKIT_BAD_ROOM and the old room is kept', async () => {
    await assert.rejects(erin.join('#no room'), { code: 'ERR_SOCKIT_BAD_ROOM', message: /^bad room '#no room': / });
    await assert.rejects(erin.join('lobby'), { code: 'ERR_SOCKIT_BAD_ROOM' });
    assert.equal(erin.room, '#lobby');
    await twoMoreBeats();
    assert.deepEqual(finn.who().map((p) => [p.nick, p.room]), [['erin', '#lobby']]);
    assert.deepEqual(finnErrors, []);
  });

  test('start refuses a nick, room or id the others would reject, before binding anything', async () => {
    const refused = async (options: Partial<Parameters<typeof LanChatNode.start>[0]>, error: Record<string, unknown>): Promise<void> => {
      await assert.rejects(async () => {
        const node = await LanChatNode.start({ nick: 'ok', group, ...timing, ...options });
        await node.close();
      }, error);
    };
    await refused({ nick: 'bad nick!' }, { code: 'ERR_SOCKIT_BAD_NICK' });
    await refused({ nick: '' }, { code: 'ERR_SOCKIT_BAD_NICK' });
    await refused({ room: 'lobby' }, { code: 'ERR_SOCKIT_BAD_ROOM' });
    await refused({ id: 'NOT-HEX' }, { code: 'ERR_SOCKIT_INVALID_ARGUMENT' });
    await twoMoreBeats();
    assert.deepEqual(finn.peers().map((p) => p.nick), ['erin']);
    assert.deepEqual(finnErrors, []);
  });

  test('after close() every send rejects with InvalidStateError; close() again is a no-op', async () => {
    const gail = await LanChatNode.start({ nick: 'gail', group, ...timing });
    await gail.close();
    for (const attempt of [() => gail.say('too late'), () => gail.act('waves'), () => gail.setNick('gail2'), () => gail.join('#elsewhere')]) {
      await assert.rejects(attempt(), { name: 'InvalidStateError', code: 'ERR_SOCKIT_INVALID_STATE', message: /closed/ });
    }
    await gail.close();
    assert.equal(gail.nick, 'gail');
  });

  test('sockit chat --lan shows a refused line or nick as one ! line and carries on', async () => {
    const hal = new SockitProcess(['chat', '--lan', '--nick', 'hal', '--iface', '127.0.0.1', '--group', `${group.address}:${group.port}`]);
    try {
      await hal.stdout.waitFor(/^\* LAN chat on multicast /);
      hal.write('y'.repeat(511));
      await hal.stdout.waitFor('! line too long (511 bytes, at most 510); not sent (ERR_SOCKIT_CHAT_LINE_TOO_LONG)');
      hal.write('\x01'.repeat(300));
      await hal.stdout.waitFor(/^! LAN chat message of \d+ bytes .*not sent \(ERR_SOCKIT_BAD_LAN_MESSAGE\)$/);
      hal.write('/nick bad nick!');
      await hal.stdout.waitFor(/^! bad nick 'bad nick!': a nick starts with .* \(ERR_SOCKIT_BAD_NICK\)$/);
      hal.write('/join #no room');
      await hal.stdout.waitFor(/^! bad room '#no room': .* \(ERR_SOCKIT_BAD_ROOM\)$/);
      hal.write('still here');
      await finnLog.waitFor('hal spoke', () => finnLog.texts('hal').includes('still here'));
      await hal.stdout.waitFor('[#lobby] <hal> still here');
      hal.write('/quit');
      assert.equal(await hal.exit(), 0);
      assert.deepEqual(finnLog.texts('hal'), ['still here']);
      assert.equal(finnLog.lostFrom('hal'), 0);
      // Nothing was echoed as if sent, and nothing went to stderr.
      assert.equal(hal.stdout.lines.some((l) => l.startsWith('[#lobby] <hal> y') || l.startsWith('[#lobby] <hal> \\x01')), false);
      assert.deepEqual(hal.stderr.lines, []);
      assert.deepEqual(finnErrors, []);
    } finally {
      hal.child.kill();
    }
  });
});

describe('LAN chat on a terminal', () => {
  test('the prompt names the room you talk in, also after /join', async () => {
    // Broke: the prompt was fixed at start (`#lobby> `), so after `/join #dev` a person kept typing
    // at `#lobby> ` while every line went to #dev.
    const group = { address: `239.255.${process.pid % 250}.${(process.pid >> 8) % 250 + 1}`, port: await freeUdpPort() };
    const node = await LanChatNode.start({ nick: 'ivy', group, iface: '127.0.0.1', heartbeatMs: 100 });
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    let screen = '';
    stdout.on('data', (c: Buffer) => (screen += c.toString()));
    const terminal = new ChatTerminal({ stdin, stdout, stderr: new PassThrough(), env: { NO_COLOR: '1' } }, { prompt: lanPrompt('#lobby') });
    const session = runLanChatSession(node, terminal);
    try {
      assert.ok(screen.includes('#lobby> '), JSON.stringify(screen));
      stdin.write('/join #dev\r');
      await withSafety((async () => {
        while (!screen.includes('* you now talk in #dev')) await nextMacrotask();
      })(), 'the /join answer');
      const after = screen.slice(screen.indexOf('* you now talk in #dev'));
      assert.ok(after.includes('#dev> '), JSON.stringify(after));
      assert.ok(!after.includes('#lobby> '), JSON.stringify(after));
    } finally {
      stdin.end();
      await session;
    }
  });
});
