// The pure chat core: line splitting, text rules, flood bucket, names, commands, and the hub's
// state machine driven with a virtual clock and a recording sink (no sockets).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, type SplitEvent } from '../../src/chat/protocol/line-splitter.js';
import { decodeUtf8, escapeControls, MAX_LINE_BYTES } from '../../src/chat/protocol/chat-text.js';
import { TokenBucket } from '../../src/chat/protocol/token-bucket.js';
import { nickProblem, roomProblem, normalizeRoomName } from '../../src/chat/protocol/names.js';
import { parseChatInput } from '../../src/chat/protocol/chat-command.js';
import { ChatHub, type ChatHubOptions, type ChatSink } from '../../src/chat/protocol/chat-hub.js';
import { errorLine, parseServerLine, registeredLine } from '../../src/chat/protocol/server-line.js';

function split(chunks: Uint8Array[], max = 16): string[] {
  const splitter = new LineSplitter(max);
  const out: string[] = [];
  const emit = (e: SplitEvent): void => void out.push(e.kind === 'line' ? `line:${Buffer.from(e.bytes).toString()}` : `too-long:${e.lineBytes}`);
  for (const c of chunks) splitter.push(c, emit);
  splitter.end(emit);
  return out;
}

describe('LineSplitter', () => {
  test('LF and CRLF lines, a final unterminated line, overlong lines reported and skipped', () => {
    const input = Buffer.from('hi\r\nthere\nthis line is far too long\nok\r\nlast');
    assert.deepEqual(split([input]), ['line:hi', 'line:there', 'too-long:25', 'line:ok', 'line:last']);
  });

  test('a line of exactly the limit passes, with or without CR; one byte more does not', () => {
    assert.deepEqual(split([Buffer.from('0123456789abcdef\r\n0123456789abcdef\n0123456789abcdefX\n')]), [
      'line:0123456789abcdef', 'line:0123456789abcdef', 'too-long:17',
    ]);
  });

  test('any chunking gives the same events as one chunk', () => {
    const text = Buffer.from('alpha\nbeta\r\n' + 'x'.repeat(40) + '\n\ngamma\r\ndelta');
    const whole = split([text]);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let at = 0;
      for (const p of points) {
        chunks.push(text.subarray(at, p));
        at = p;
      }
      chunks.push(text.subarray(at));
      assert.deepEqual(split(chunks), whole);
    }));
  });

  test('an overlong CRLF line is reported with the same length however it was cut', () => {
    // Broke: cut before its LF, the CR was counted ("601 bytes" for 600 bytes of text, "600" when
    // the line came in one read), so the error a person saw depended on TCP segmentation.
    const text = Buffer.from('y'.repeat(30) + '\r\nok\r\n' + 'z'.repeat(20) + '\r');
    const whole = split([text]);
    assert.deepEqual(whole, ['too-long:30', 'line:ok', 'too-long:20']);
    for (let a = 0; a <= text.length; a++) {
      for (let b = a; b <= text.length; b++) {
        assert.deepEqual(split([text.subarray(0, a), text.subarray(a, b), text.subarray(b)]), whole, `cut at ${a} and ${b}`);
      }
    }
  });

  test('memory stays bounded while an endless line streams in', () => {
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const events: SplitEvent[] = [];
    for (let i = 0; i < 1000; i++) {
      splitter.push(Buffer.alloc(1000, 0x61), (e) => events.push(e));
      assert.ok(splitter.bufferedBytes <= MAX_LINE_BYTES + 1);
    }
    splitter.push(Buffer.from('\n'), (e) => events.push(e));
    assert.deepEqual(events, [{ kind: 'too-long', lineBytes: 1_000_000 }]);
  });
});

describe('chat text', () => {
  test('strict UTF-8: valid text decodes, overlong forms and lone continuation bytes do not', () => {
    assert.equal(decodeUtf8(Buffer.from('héllo 你好 🎉')), 'héllo 你好 🎉');
    assert.equal(decodeUtf8(Buffer.from([0xc0, 0xaf])), undefined);
    assert.equal(decodeUtf8(Buffer.from([0x61, 0x80, 0x62])), undefined);
    assert.equal(decodeUtf8(Buffer.from([0xed, 0xa0, 0x80])), undefined);
  });

  test('control characters and bidi overrides become visible escapes; text is untouched', () => {
    assert.equal(escapeControls('red \x1b[31mtext\x07'), 'red \\x1b[31mtext\\x07');
    assert.equal(escapeControls('evil\u202eusername'), 'evil\\u202eusername');
    assert.equal(escapeControls('tab\there\x7f\x85'), 'tab\\x09here\\x7f\\x85');
    assert.equal(escapeControls('plain 你好 é'), 'plain 你好 é');
  });
});

describe('TokenBucket', () => {
  test('lets a burst through, then holds to the rate; rate 0 is unlimited', () => {
    const bucket = new TokenBucket(2, 3, 0);
    assert.deepEqual([0, 0, 0, 0].map(() => bucket.take(0)), [true, true, true, false]);
    assert.equal(bucket.take(499), false);
    assert.equal(bucket.take(500), true);
    assert.equal(bucket.take(10_000), true);
    const unlimited = new TokenBucket(0, 1, 0);
    for (let i = 0; i < 10_000; i++) assert.equal(unlimited.take(0), true);
  });
});

describe('names and commands', () => {
  test('nick rules follow RFC 2812 §2.3.1; rooms get their #', () => {
    for (const ok of ['alice', 'Bob_2', '[x]', 'a-b', '^caret']) assert.equal(nickProblem(ok), undefined, ok);
    for (const bad of ['', '2cool', 'has space', 'a'.repeat(17), 'ünï', 'x\x1b']) assert.notEqual(nickProblem(bad), undefined, bad);
    assert.equal(normalizeRoomName('dev'), '#dev');
    assert.equal(roomProblem('#dev.ops-1'), undefined);
    assert.notEqual(roomProblem('#has space'), undefined);
    assert.notEqual(roomProblem('#'), undefined);
  });

  test('parses text, //escaped slash, commands case-insensitively, unknown commands', () => {
    assert.deepEqual(parseChatInput('hello'), { kind: 'text', text: 'hello' });
    assert.deepEqual(parseChatInput('//etc/passwd is a path'), { kind: 'text', text: '/etc/passwd is a path' });
    assert.deepEqual(parseChatInput('/MSG bob  hi there '), { kind: 'command', name: 'msg', arg: 'bob  hi there' });
    assert.deepEqual(parseChatInput('/part'), { kind: 'command', name: 'part', arg: '' });
    assert.deepEqual(parseChatInput('/kick bob'), { kind: 'unknown-command', name: 'kick' });
  });
});

/** Records what the hub sends, per connection, and which connections it closed. */
class Recorder implements ChatSink<string> {
  readonly out = new Map<string, string[]>();
  readonly closed = new Map<string, string>();
  send(to: string, line: string): void {
    if (!this.out.has(to)) this.out.set(to, []);
    this.out.get(to)!.push(line);
  }
  broadcast(to: Iterable<string>, line: string): void {
    for (const c of to) this.send(c, line);
  }
  close(conn: string, reason: string): void {
    this.closed.set(conn, reason);
  }
  /** Lines sent to `conn` since the last call. */
  take(conn: string): string[] {
    const lines = this.out.get(conn) ?? [];
    this.out.set(conn, []);
    return lines;
  }
}

function hubWith(options: Partial<ChatHubOptions> = {}): { hub: ChatHub<string>; sink: Recorder; say: (conn: string, text: string, now?: number) => string[] } {
  const sink = new Recorder();
  const hub = new ChatHub(sink, { maxRateLinesPerS: 0, idleTimeoutMs: 0, ...options });
  const say = (conn: string, text: string, now = 0): string[] => {
    hub.receive(now, conn, { kind: 'text', text });
    return sink.take(conn);
  };
  return { hub, sink, say };
}

function registered(hub: ChatHub<string>, sink: Recorder, conn: string, nick: string): void {
  hub.connect(0, conn);
  hub.receive(0, conn, { kind: 'text', text: nick });
  sink.take(conn);
}

describe('ChatHub', () => {
  test('greets, takes a bare line as the nick, joins the default room', () => {
    const { hub, sink, say } = hubWith();
    hub.connect(0, 'c1');
    assert.match(sink.take('c1')[0]!, /^\* welcome .*Who are you\?/);
    assert.deepEqual(say('c1', '/who'), ['! choose a nick first: type a nick, or /nick NAME (ERR_SOCKIT_NOT_REGISTERED)']);
    assert.deepEqual(say('c1', 'alice'), ['* you are alice', '* alice joined #lobby', '* #lobby: nobody else here yet']);
    assert.equal(hub.nickOf('c1'), 'alice');
  });

  test('nicks are unique case-insensitively; renames are announced once per shared member', () => {
    const { hub, sink, say } = hubWith();
    registered(hub, sink, 'a', 'alice');
    hub.connect(0, 'b');
    sink.take('b');
    assert.deepEqual(say('b', 'ALICE'), ['! nick ALICE is in use; choose another (ERR_SOCKIT_NICK_IN_USE)']);
    assert.deepEqual(say('b', '/nick 9lives'), [`! bad nick '9lives': a nick starts with a letter or one of _[]\\\`^{|} and has only letters, digits and _-[]\\\`^{|} (ERR_SOCKIT_BAD_NICK)`]);
    say('b', '/nick bob');
    say('a', '/join #dev');
    say('b', '/join #dev');
    sink.take('a');
    assert.deepEqual(say('b', '/nick robert'), ['* you are now known as robert']);
    assert.deepEqual(sink.take('a'), ['* bob is now known as robert']);
    assert.deepEqual(say('a', '/nick Alice'), ['* you are now known as Alice']);
  });

  test('rooms: messages go to the room you talk in, /part falls back, /who and /rooms list', () => {
    const { hub, sink, say } = hubWith();
    registered(hub, sink, 'a', 'alice');
    registered(hub, sink, 'b', 'bob');
    sink.take('a');
    assert.deepEqual(say('a', '/join dev'), ['* alice joined #dev', '* #dev: nobody else here yet']);
    assert.deepEqual(say('a', 'in dev'), ['[#dev] <alice> in dev']);
    assert.deepEqual(sink.take('b'), []);
    assert.deepEqual(say('a', '/rooms'), ['* rooms: #dev (1), #lobby (2)']);
    assert.deepEqual(say('a', '/who #lobby'), ['* #lobby (2): alice, bob']);
    assert.deepEqual(say('a', '/part'), ['* alice left #dev', '* you now talk in #lobby']);
    assert.deepEqual(say('a', '/me waves'), ['[#lobby] * alice waves']);
    assert.deepEqual(sink.take('b'), ['[#lobby] * alice waves']);
    assert.deepEqual(say('a', '/part #lobby'), ['* alice left #lobby', '* you are in no room; /join #room to talk']);
    assert.deepEqual(sink.take('b'), ['* alice left #lobby']);
    assert.deepEqual(say('a', 'anyone?'), ['! you are not in a room; /join #room to talk (ERR_SOCKIT_NOT_IN_ROOM)']);
    assert.deepEqual(say('a', '/join #bad room'), [`! bad room '#bad room': a room name is # followed by letters, digits and _.- (ERR_SOCKIT_BAD_ROOM)`]);
  });

  test('/msg reaches only its target; unknown nick and unknown command are errors', () => {
    const { hub, sink, say } = hubWith();
    registered(hub, sink, 'a', 'alice');
    registered(hub, sink, 'b', 'bob');
    registered(hub, sink, 'c', 'carol');
    sink.take('a');
    sink.take('b');
    assert.deepEqual(say('a', '/msg bob psst \x1b[2J'), ['[pm to bob] <alice> psst \\x1b[2J']);
    assert.deepEqual(sink.take('b'), ['[pm] <alice> psst \\x1b[2J']);
    assert.deepEqual(sink.take('c'), []);
    assert.deepEqual(say('a', '/msg dave hi'), ['! no such nick: dave (ERR_SOCKIT_NO_SUCH_NICK)']);
    assert.deepEqual(say('a', '/kick bob'), ['! unknown command /kick; /help lists commands (ERR_SOCKIT_UNKNOWN_COMMAND)']);
  });

  test('flood: a burst passes, then lines are dropped with one notice until the client slows down', () => {
    const { hub, sink } = hubWith({ maxRateLinesPerS: 2, floodBurstLines: 5 });
    registered(hub, sink, 'a', 'alice');
    registered(hub, sink, 'b', 'bob');
    sink.take('a');
    for (let i = 0; i < 20; i++) hub.receive(1000, 'a', { kind: 'text', text: `line ${i}` });
    // The nick line took a token at t=0; 1 s at 2 lines/s refilled 2 (capped at the burst of 5).
    assert.deepEqual(sink.take('b'), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'].map((t) => `[#lobby] <alice> ${t}`));
    assert.deepEqual(sink.take('a').filter((l) => l.startsWith('!')), ['! flood: more than 2 lines/s; lines dropped until you slow down (ERR_SOCKIT_FLOOD)']);
    hub.receive(1500, 'a', { kind: 'text', text: 'calm again' });
    assert.deepEqual(sink.take('b'), ['[#lobby] <alice> calm again']);
  });

  test('invalid and overlong lines get an error and reach nobody', () => {
    const { hub, sink } = hubWith();
    registered(hub, sink, 'a', 'alice');
    registered(hub, sink, 'b', 'bob');
    sink.take('a');
    hub.receive(0, 'a', { kind: 'invalid-utf8' });
    hub.receive(0, 'a', { kind: 'too-long', lineBytes: 600, maxLineBytes: 510 });
    assert.deepEqual(sink.take('a'), [
      '! line is not valid UTF-8; not sent (ERR_SOCKIT_INVALID_UTF8)',
      '! line too long (600 bytes, at most 510); not sent (ERR_SOCKIT_CHAT_LINE_TOO_LONG)',
    ]);
    assert.deepEqual(sink.take('b'), []);
  });

  test('idle clients are pinged; any line answers; silence after the ping disconnects', () => {
    const { hub, sink } = hubWith({ idleTimeoutMs: 1000, pingTimeoutMs: 500 });
    registered(hub, sink, 'a', 'alice');
    registered(hub, sink, 'b', 'bob');
    sink.take('a');
    sink.take('b');
    hub.tick(999);
    assert.deepEqual(sink.take('a'), []);
    hub.tick(1000);
    assert.match(sink.take('a')[0]!, /^\* PING 1000 /);
    assert.match(sink.take('b')[0]!, /^\* PING 1000 /);
    hub.receive(1200, 'a', { kind: 'text', text: '/pong 1000' });
    hub.tick(1500);
    assert.equal(sink.closed.get('b'), 'ping timeout');
    assert.deepEqual(sink.take('a'), ['* bob was dropped from #lobby (ping timeout)']);
    assert.equal(sink.closed.has('a'), false);
    assert.equal(hub.clientCount, 1);
  });

  test('a full server refuses with a clear line; shutdown tells everyone and refuses newcomers', () => {
    const { hub, sink } = hubWith({ maxClients: 2 });
    registered(hub, sink, 'a', 'alice');
    hub.connect(0, 'b');
    hub.connect(0, 'c');
    assert.deepEqual(sink.take('c'), ['! server full: 2 clients connected; try again later (ERR_SOCKIT_SERVER_FULL)']);
    assert.equal(sink.closed.get('c'), 'server full');
    sink.take('a');
    hub.shutdown();
    assert.deepEqual(sink.take('a'), ['* the server is shutting down; bye']);
    assert.equal(sink.closed.get('a'), 'server shutdown');
    assert.equal(sink.closed.get('b'), 'server shutdown');
    hub.connect(0, 'd');
    assert.match(sink.take('d')[0]!, /ERR_SOCKIT_SERVER_SHUTDOWN/);
  });

  test('rooms above the quiet size do not announce joins and leaves (no O(n²) notices)', () => {
    const { hub, sink } = hubWith({ quietRoomMembers: 3 });
    for (const n of ['a', 'b', 'c']) registered(hub, sink, n, `user${n}`);
    sink.take('a');
    registered(hub, sink, 'd', 'userd');
    assert.deepEqual(sink.take('a'), []);
    hub.receive(0, 'd', { kind: 'text', text: 'still heard' });
    assert.deepEqual(sink.take('a'), ['[#lobby] <userd> still heard']);
    assert.deepEqual(hub.roomNicks('lobby'), ['usera', 'userb', 'userc', 'userd']);
  });
});

describe('server lines a client acts on', () => {
  test('registration, coded errors and pings are told apart from notices that look alike', () => {
    assert.deepEqual(parseServerLine(registeredLine('carol')), { kind: 'registered', nick: 'carol' });
    assert.deepEqual(parseServerLine(errorLine('nick carol is in use; choose another', 'ERR_SOCKIT_NICK_IN_USE')), {
      kind: 'error', message: 'nick carol is in use; choose another', code: 'ERR_SOCKIT_NICK_IN_USE',
    });
    assert.deepEqual(parseServerLine('! bad nick \'9x\' (really) (ERR_SOCKIT_BAD_NICK)'), { kind: 'error', message: 'bad nick \'9x\' (really)', code: 'ERR_SOCKIT_BAD_NICK' });
    assert.deepEqual(parseServerLine('* PING 1234 (idle: send any line)'), { kind: 'ping', token: '1234' });
    for (const line of ['* you are now known as dave', '* you are in no room; /join #room to talk', '[#lobby] <x> ! hi (ERR_SOCKIT_FLOOD)', '* welcome']) {
      assert.deepEqual(parseServerLine(line), { kind: 'other' }, line);
    }
  });
});
