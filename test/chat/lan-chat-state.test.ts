// LAN chat's pure state: dedup, gap detection with a reordering tolerance, late arrivals,
// trailing losses revealed by heartbeats, presence and timeouts, and the datagram format.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LanChatState, type LanEvent } from '../../src/chat/protocol/lan-chat-state.js';
import { decodeLanMessage, encodeLanMessage, type LanMessage } from '../../src/chat/protocol/lan-message.js';
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
    assert.throws(() => encodeLanMessage(msg(1, 'x'.repeat(2000))), { code: 'ERR_SOCKIT_BAD_LAN_MESSAGE' });
  });
});
