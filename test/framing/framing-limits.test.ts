// Limits and malformed input: the right class, code and message, raised as early as possible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingCodes, InvalidStateError, LimitExceededError, NetCodes, ProtocolError, SockitError } from '../../src/errors.js';
import { getFraming, isFramingName, len16, len32, len32le, raw, varint, DEFAULT_MAX_FRAME_BYTES } from '../../src/framing/index.js';
import type { FramingName } from '../../src/framing/types.js';
import { hex } from './framing-helpers.js';

/** An error matcher for assert.throws: class, code and pieces of the message. */
function expectError(cls: Function, code: string, ...inMessage: string[]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal((err as SockitError).code, code);
    for (const piece of inMessage) assert.ok((err as Error).message.includes(piece), `message lacks '${piece}': ${(err as Error).message}`);
    return true;
  };
}

const noFrame = (): void => assert.fail('no frame expected');

test('DEFAULT_MAX_FRAME_BYTES is 16 MiB', () => {
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 16 * 1024 * 1024);
});

test('len32: a declared length over the limit throws the moment the header is complete, before any body byte', () => {
  const decoder = len32.createDecoder({ maxFrameBytes: 100 });
  decoder.push(hex('0000'), noFrame);
  assert.throws(
    () => decoder.push(hex('0065'), noFrame),
    expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE, 'len32', '101 bytes', 'limit of 100 bytes', 'maxFrameBytes'),
  );
});

test('len32: the error carries limit and actual', () => {
  const decoder = len32.createDecoder({ maxFrameBytes: 10 });
  assert.throws(
    () => decoder.push(hex('ffffffff'), noFrame),
    (err: unknown) => err instanceof LimitExceededError && err.limit === 10 && err.actual === 0xffff_ffff,
  );
});

test('every length-prefixed framing accepts a frame of exactly maxFrameBytes and rejects one byte more', () => {
  for (const framing of [len32, len32le, len16, varint]) {
    const ok: Buffer[] = [];
    framing.createDecoder({ maxFrameBytes: 300 }).push(Buffer.concat(framing.encode(Buffer.alloc(300, 7))), (f) => ok.push(f));
    assert.equal(ok.length, 1, framing.name);
    assert.equal(ok[0]!.length, 300, framing.name);
    const header = framing.encode(Buffer.alloc(301))[0]!;
    assert.throws(
      () => framing.createDecoder({ maxFrameBytes: 300 }).push(header, noFrame),
      expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE, framing.name, '301', '300'),
    );
  }
});

test('len32le: a negative length is a ProtocolError, not a huge unsigned size', () => {
  for (const header of ['ffffffff', '00000080', 'feffffff']) {
    assert.throws(
      () => len32le.createDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }).push(hex(header), noFrame),
      expectError(ProtocolError, FramingCodes.NEGATIVE_LENGTH, 'negative length', String(hex(header).readInt32LE(0))),
    );
  }
});

test('len32le: the largest positive int32 is a length (checked against the limit), not an error of sign', () => {
  assert.throws(
    () => len32le.createDecoder({ maxFrameBytes: 1 }).push(hex('ffffff7f'), noFrame),
    expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE, '2147483647'),
  );
});

test('len16: encoding more than 65535 bytes throws LimitExceededError', () => {
  assert.throws(() => len16.encode(Buffer.alloc(65536)), expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE, 'len16', '65536', '65535'));
  assert.throws(() => len16.encodedLength(65536), expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE));
  assert.throws(() => len16.encodeInto(new Uint8Array(70000), 0, Buffer.alloc(65536)), expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE));
  assert.equal(len16.encode(Buffer.alloc(65535))[0]!.length, 2);
});

test('len32le: a payload above 2^31 - 1 bytes cannot be encoded (pack("i") would go negative)', () => {
  assert.throws(() => len32le.encodedLength(2 ** 31), expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE, 'len32le', '2147483647'));
});

test('varint: a header of 5 bytes that all continue is BAD_VARINT as soon as the 5th byte arrives', () => {
  const decoder = varint.createDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
  decoder.push(hex('80808080'), noFrame);
  assert.throws(() => decoder.push(hex('80'), noFrame), expectError(ProtocolError, FramingCodes.BAD_VARINT, '5 bytes'));
});

test('varint: a 5th byte with bits above bit 31 is BAD_VARINT', () => {
  assert.throws(
    () => varint.createDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }).push(hex('ffffffff10'), noFrame),
    expectError(ProtocolError, FramingCodes.BAD_VARINT, '32 bits'),
  );
});

test('varint: 2^32 - 1 is a valid header, then over the limit', () => {
  assert.throws(
    () => varint.createDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }).push(hex('ffffffff0f'), noFrame),
    expectError(LimitExceededError, FramingCodes.FRAME_TOO_LARGE, '4294967295'),
  );
});

test('varint: non-minimal encodings are accepted, as protobuf parsers accept them', () => {
  const frames: string[] = [];
  const decoder = varint.createDecoder({ maxFrameBytes: 10 });
  decoder.push(hex('8000 828000 6869'), (f) => frames.push(f.toString('hex')));
  decoder.end(noFrame);
  assert.deepEqual(frames, ['', '6869']);
});

test('a stream ending inside a length header reports the bytes of which frame were left', () => {
  const decoder = len32.createDecoder({ maxFrameBytes: 100 });
  decoder.push(hex('00000001 41 0000'), () => {});
  assert.equal(decoder.bufferedBytes, 2);
  assert.throws(() => decoder.end(noFrame), expectError(ProtocolError, FramingCodes.TRUNCATED_FRAME, 'len32', 'frame #1', '2 byte(s) of its length header'));
});

test('a stream ending inside a body reports how many body bytes arrived and how many are missing', () => {
  const decoder = len32le.createDecoder({ maxFrameBytes: 100 });
  decoder.push(hex('0a000000 414243'), noFrame);
  assert.equal(decoder.bufferedBytes, 4 + 3);
  assert.throws(() => decoder.end(noFrame), expectError(ProtocolError, FramingCodes.TRUNCATED_FRAME, 'len32le', 'frame #0', '3 of 10 body bytes', '7 missing'));
});

test('a decoder that threw refuses further input instead of decoding garbage', () => {
  const decoder = len32le.createDecoder({ maxFrameBytes: 100 });
  assert.throws(() => decoder.push(hex('ffffffff'), noFrame), ProtocolError);
  assert.throws(() => decoder.push(hex('01000000 41'), noFrame), InvalidStateError);
});

test('so does every other framing, lines included: after a throw, the next push is INVALID_STATE', () => {
  for (const name of ['lines', 'len32', 'len16', 'varint'] as const) {
    const decoder = getFraming(name).createDecoder({ maxFrameBytes: 10 });
    const tooBig = name === 'lines' ? Buffer.from('A'.repeat(50) + '\n') : Buffer.concat(getFraming(name).encode(Buffer.alloc(11)));
    assert.throws(() => decoder.push(tooBig, noFrame), SockitError, name);
    const good = Buffer.concat(getFraming(name).encode(Buffer.from('xy')));
    assert.throws(() => decoder.push(good, noFrame), expectError(InvalidStateError, NetCodes.INVALID_STATE), name);
  }
});

test('maxFrameBytes must be a non-negative safe integer (raw needs at least 1)', () => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => len32.createDecoder({ maxFrameBytes: bad }), expectError(SockitError, NetCodes.INVALID_ARGUMENT, 'maxFrameBytes'));
  }
  assert.throws(() => raw.createDecoder({ maxFrameBytes: 0 }), expectError(SockitError, NetCodes.INVALID_ARGUMENT));
  const frames: Buffer[] = [];
  len32.createDecoder({ maxFrameBytes: 0 }).push(hex('00000000'), (f) => frames.push(f));
  assert.equal(frames.length, 1, 'a zero limit still admits empty frames');
});

test('getFraming rejects unknown names with ERR_SOCKIT_UNKNOWN_FRAMING listing the known ones', () => {
  assert.throws(() => getFraming('len64' as FramingName), expectError(SockitError, FramingCodes.UNKNOWN_FRAMING, "'len64'", 'len32le', 'varint'));
  assert.equal(isFramingName('len64'), false);
  assert.equal(isFramingName('len32le'), true);
  assert.equal(isFramingName('toString'), false);
});

test('a frame inside one chunk is a zero-copy slice of that chunk', () => {
  const chunk = hex('00000003 414243 00000001 44');
  const frames: Buffer[] = [];
  len32.createDecoder({ maxFrameBytes: 100 }).push(chunk, (f) => frames.push(f));
  assert.equal(frames.length, 2);
  for (const f of frames) assert.equal(f.buffer, chunk.buffer);
  assert.equal(frames[0]!.byteOffset, chunk.byteOffset + 4);
});

test('a large frame spanning chunks is assembled into one exactly-sized buffer, held bytes never above header + body', () => {
  const size = 200_000;
  const wire = Buffer.concat(len32.encode(Buffer.alloc(size, 9)));
  const decoder = len32.createDecoder({ maxFrameBytes: size });
  const frames: Buffer[] = [];
  for (let pos = 0; pos < wire.length; pos += 65_536) {
    decoder.push(wire.subarray(pos, pos + 65_536), (f) => frames.push(f));
    assert.ok(decoder.bufferedBytes <= 4 + size);
  }
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.length, size);
  assert.equal(frames[0]!.buffer.byteLength, size, 'allocated once at the exact size');
  assert.equal(decoder.bufferedBytes, 0);
});
