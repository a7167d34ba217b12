// LAN chat's pure state: dedup, gap detection with a reordering tolerance, late arrivals,
// trailing losses revealed by heartbeats, presence and timeouts, and the datagram format.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LanChatState, type LanEvent } from '../../src/chat/protocol/lan-chat-state.js';
import { decodeLanMessage, encodeLanMessage, LAN_PROTOCOL, type LanMessage } from '../../src/chat/protocol/lan-message.js';
import { formatLanEvent } from '../../src/chat/protocol/lan-event-text.js';
import { createRng } from '../../src/core/rng.js';

const timing = { lossDelayMs: 100, peerTimeoutMs: 1000 };

function msg(seq: number, text = `m${seq}`): LanMessage {
  return { kind: 'msg', from: 'a11ce', nick: 'alice', room: '#lobby', seq, text };
}

function beat(seq: number, room = '#lobby', nick = 'alice'): LanMessage {
  return { kind: 'beat', from: 'a11ce', nick, room, seq };
}

function texts(events: LanEvent[]): string[] {
  return events.map((e) => formatLanEvent(e, '#lobby') ?? `(${e.kind} elsewhere)`);
}

describe('LanChatState', () => {
  test('first contact joins; duplicates are suppressed', () => {
    const s = new LanChatState('b0b', 'bob', '#lobby', timing);
    assert.deepEqual(texts(s.receive(0, msg(7))), ['* alice joined #lobby', '[#lobby] <alice> m7']);
    assert.deepEqual(s.receive(1, msg(7)), []);
    assert.deepEqual(texts(s.receive(2, msg(8))), ['[#lobby] <alice> m8']);
    assert.deepEqual(s.receive(3, msg(7)), []);
  });

  test('a reordered message within the tolerance is not reported lost', () => {
    const s = new LanChatState('b0b', 'bob', '#lobby', timing);
    s.receive(0, msg(1));
    assert.deepEqual(texts(s.receive(10, msg(3))), ['[#lobby] <alice> m3']);
    assert.equal(s.nextDeadline(), 110);
    assert.deepEqual(texts(s.receive(50, msg(2))), ['[#lobby] <alice> m2']);
    assert.deepEqual(s.tick(500), []);
  });

  test('a gap that stays open is reported once; a later arrival is shown as late', () => {
    const s = new LanChatState('b0b', 'bob', '#lobby', timing);
    s.receive(0, msg(1));
    s.receive(10, msg(4));
    assert.deepEqual(s.tick(109), []);
    assert.deepEqual(texts(s.tick(110)), ['* 2 messages from alice were lost']);
    assert.deepEqual(s.tick(1000 - 1), []);
    assert.deepEqual(texts(s.receive(200, msg(3))), ['[#lobby] <alice> m3 (late)']);
    assert.deepEqual(s.receive(201, msg(3)), []);
  });

  test('a heartbeat reveals trailing losses; a bye reports what is still missing', () => {
    const s = new LanChatState('b0b', 'bob', '#lobby', timing);
    s.receive(0, msg(1));
    s.receive(5, beat(3));
    assert.deepEqual(texts(s.tick(105)), ['* 2 messages from alice were lost']);
    s.receive(200, beat(4));
    assert.deepEqual(texts(s.receive(210, { kind: 'bye', from: 'a11ce', nick: 'alice', room: '#lobby', seq: 4 })), [
      '* 1 message from alice was lost', '* alice left #lobby',
    ]);
    assert.deepEqual(s.peers(), []);
  });

  test('presence: renames and room moves are events; silent peers time out; own datagrams are ignored', () => {
    const s = new LanChatState('b0b', 'bob', '#lobby', timing);
    s.receive(0, beat(0));
    assert.deepEqual(s.peers('#lobby').map((p) => p.nick), ['alice']);
    assert.deepEqual(texts(s.receive(100, beat(0, '#lobby', 'alicia'))), ['* alice is now known as alicia']);
    assert.deepEqual(texts(s.receive(200, beat(0, '#dev', 'alicia'))), ['* alicia left #lobby (moved to another room)', '(joined elsewhere)']);
    assert.deepEqual(s.peers('#lobby'), []);
    assert.deepEqual(texts(s.tick(1200)), ['(left elsewhere)']);
    assert.deepEqual(s.receive(1300, { ...beat(0), from: 'b0b' }), []);
    assert.deepEqual(s.peers(), []);
  });

  test('seeded random loss, duplication and reordering: every message shown once or counted lost', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = createRng(seed);
      const s = new LanChatState('b0b', 'bob', '#lobby', timing);
      const wire: LanMessage[] = [];
      for (let seq = 1; seq <= 200; seq++) {
        if (rng.chance(0.1)) continue;
        wire.push(msg(seq));
        if (rng.chance(0.05)) wire.push(msg(seq));
      }
      wire.push(beat(200));
      // Swap neighbours now and then: reordering within the tolerance.
      for (let i = 1; i < wire.length; i++) if (rng.chance(0.1)) [wire[i - 1], wire[i]] = [wire[i]!, wire[i - 1]!];
      const shown = new Set<string>();
      let lost = 0;
      let now = 0;
      const consume = (events: LanEvent[]): void => {
        for (const e of events) {
          if (e.kind === 'message') {
            assert.ok(!shown.has(e.text), `seed ${seed}: ${e.text} shown twice`);
            shown.add(e.text);
          }
          if (e.kind === 'lost') lost += e.count;
        }
      };
      consume(s.receive(now, msg(1)));
      for (const m of wire) consume(s.receive(++now, m));
      consume(s.tick(now + timing.lossDelayMs));
      assert.equal(shown.size + lost, 200, `seed ${seed}`);
    }
  });
});

describe('LAN datagram format', () => {
  test('round-trips; ignores foreign traffic; rejects a broken sockit datagram with its code', () => {
    const m = msg(5, 'hi 你好');
    assert.deepEqual(decodeLanMessage(encodeLanMessage(m)), m);
    assert.equal(decodeLanMessage(Buffer.from('not json')), undefined);
    assert.equal(decodeLanMessage(Buffer.from('{"hello":1}')), undefined);
    const broken = Buffer.from(JSON.stringify({ p: 'sockit-chat/1', k: 'msg', f: 'a11ce', n: 'has space', r: '#lobby', s: 1, t: 'x' }));
    assert.throws(() => decodeLanMessage(broken), { name: 'ProtocolError', code: 'ERR_SOCKIT_BAD_LAN_MESSAGE' });
    // 510 bytes of control characters are a valid line but 3,060 bytes once JSON-escaped.
    assert.throws(() => encodeLanMessage(msg(1, '\x01'.repeat(510))), { name: 'ProtocolError', code: 'ERR_SOCKIT_BAD_LAN_MESSAGE' });
  });

  // What one side rejects, the other refuses: a message the decoder would reject, built by hand.
  const refused: Array<{ what: string; m: LanMessage; error: Record<string, unknown> }> = [
    { what: 'a 511-byte line', m: msg(1, 'x'.repeat(511)), error: { name: 'LimitExceededError', code: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG', limit: 510, actual: 511, message: 'line too long (511 bytes, at most 510); not sent' } },
    { what: '256 two-byte characters', m: msg(1, 'é'.repeat(256)), error: { code: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG', actual: 512 } },
    { what: 'an empty line', m: msg(1, ''), error: { code: 'ERR_SOCKIT_INVALID_ARGUMENT' } },
    { what: 'a nick with a space', m: { ...msg(1), nick: 'bad nick!' }, error: { code: 'ERR_SOCKIT_BAD_NICK', message: /^bad nick 'bad nick!': a nick starts with/ } },
    { what: 'a 17-character nick', m: beat(0, '#lobby', 'n'.repeat(17)), error: { code: 'ERR_SOCKIT_BAD_NICK' } },
    { what: 'a room with a space', m: beat(0, '#no room'), error: { code: 'ERR_SOCKIT_BAD_ROOM', message: /^bad room '#no room': / } },
    { what: 'a room without #', m: beat(0, 'lobby'), error: { code: 'ERR_SOCKIT_BAD_ROOM' } },
    { what: 'an upper-case sender id', m: { ...beat(0), from: 'A11CE' }, error: { code: 'ERR_SOCKIT_INVALID_ARGUMENT' } },
    { what: 'message number 0', m: msg(0), error: { code: 'ERR_SOCKIT_INVALID_ARGUMENT' } },
    { what: 'a negative number', m: beat(-1), error: { code: 'ERR_SOCKIT_INVALID_ARGUMENT' } },
  ];
  for (const { what, m, error } of refused) {
    test(`${what}: the decoder rejects it, the encoder refuses it with its own code`, () => {
      // Before: encodeLanMessage sent all of these, and every receiver rejected them.
      assert.throws(() => decodeLanMessage(wire(m)), { name: 'ProtocolError', code: 'ERR_SOCKIT_BAD_LAN_MESSAGE' });
      assert.throws(() => encodeLanMessage(m), error);
    });
  }

  test('the limits themselves pass both ways: 510 bytes of text, a 16-character nick, a 32-character room', () => {
    for (const m of [msg(1, 'x'.repeat(510)), msg(1, 'é'.repeat(255)), { ...msg(1), nick: 'n'.repeat(16), room: `#${'r'.repeat(31)}` }]) {
      assert.deepEqual(decodeLanMessage(encodeLanMessage(m)), m);
      assert.deepEqual(decodeLanMessage(wire(m)), m);
    }
  });

  test('seeded sweep: whatever the encoder accepts decodes to itself; whatever it refuses, the decoder does not accept', () => {
    const pieces = ['x', 'é', '你', '😀', '\x01', '"', ' ', '!'];
    const nicks = ['alice', 'bad nick!', '9lives', 'n'.repeat(16), 'n'.repeat(17), '', '[bot]'];
    const rooms = ['#lobby', '#no room', 'lobby', `#${'r'.repeat(31)}`, `#${'r'.repeat(32)}`];
    const outcomes = { accepted: 0, refused: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const rng = createRng(seed);
      let text = '';
      const length = rng.int(0, 520);
      while (text.length < length) text += pieces[rng.int(0, pieces.length - 1)]!;
      // Mostly valid fields, so that both outcomes are common.
      const nick = rng.chance(0.6) ? 'alice' : nicks[rng.int(0, nicks.length - 1)]!;
      const room = rng.chance(0.6) ? '#lobby' : rooms[rng.int(0, rooms.length - 1)]!;
      const m: LanMessage = { ...msg(rng.int(0, 3), text), nick, room };
      let bytes: Uint8Array | undefined;
      try {
        bytes = encodeLanMessage(m);
      } catch (err) {
        assert.ok(err instanceof Error && 'code' in err, `seed ${seed}: a SockitError`);
      }
      if (bytes) {
        outcomes.accepted++;
        assert.deepEqual(decodeLanMessage(bytes), m, `seed ${seed}`);
      } else {
        outcomes.refused++;
        // Rejected with an error, or (over 1400 bytes) not taken for sockit traffic at all.
        let decoded: LanMessage | undefined;
        try {
          decoded = decodeLanMessage(wire(m));
        } catch {
          decoded = undefined;
        }
        assert.equal(decoded, undefined, `seed ${seed}: the decoder accepted what the encoder refused`);
      }
    }
    assert.ok(outcomes.accepted >= 50 && outcomes.refused >= 50, `both outcomes are exercised: ${JSON.stringify(outcomes)}`);
  });
});

describe('LanChatState: a message the others would reject uses up no number', () => {
  // Before: the number was taken before the message was refused, so receivers reported a loss.
  test('a refused line leaves the next message number and the heartbeat unchanged', () => {
    const s = new LanChatState('e1', 'erin', '#lobby', timing);
    assert.throws(() => s.compose('msg', 'x'.repeat(511)), { code: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG' });
    assert.throws(() => s.composeDatagram('me', 'x'.repeat(511)), { code: 'ERR_SOCKIT_CHAT_LINE_TOO_LONG' });
    assert.throws(() => s.composeDatagram('msg', '\x01'.repeat(300)), { code: 'ERR_SOCKIT_BAD_LAN_MESSAGE' });
    assert.equal(decodeLanMessage(s.composeDatagram('beat'))?.seq, 0);
    assert.equal(s.compose('msg', 'first').seq, 1);
    assert.deepEqual(decodeLanMessage(s.composeDatagram('msg', 'second')), { kind: 'msg', from: 'e1', nick: 'erin', room: '#lobby', seq: 2, text: 'second' });
  });
});

/** A datagram written by hand, as a sender that skips the checks would write it. */
function wire(m: LanMessage): Buffer {
  return Buffer.from(JSON.stringify({ p: LAN_PROTOCOL, k: m.kind, f: m.from, n: m.nick, r: m.room, s: m.seq, t: m.text }));
}
