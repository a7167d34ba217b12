// The lines framing: LF ends a line, CRLF tolerated, long lines refused early, the last line kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingCodes, LimitExceededError, ProtocolError } from '../../src/errors.js';
import { lines } from '../../src/framing/index.js';
import { cutAt, decodeChunks } from './framing-helpers.js';

const text = (chunks: string[], max = 100): string[] => decodeChunks(lines, chunks.map((c) => Buffer.from(c)), max).map(String);

test('CRLF and LF both end a line; the CR is stripped', () => {
  assert.deepEqual(text(['one\r\ntwo\nthree\r\n']), ['one', 'two', 'three']);
});

test('a CRLF split between chunks is still one terminator', () => {
  assert.deepEqual(text(['one\r', '\ntwo\r', '\n']), ['one', 'two']);
});

test('a CR not followed by LF stays in the line', () => {
  assert.deepEqual(text(['a\rb\n\r\r\n']), ['a\rb', '\r']);
});

test('empty lines are empty messages', () => {
  assert.deepEqual(text(['\n\r\n\n']), ['', '', '']);
});

test('a final line without a newline is delivered at end of input', () => {
  assert.deepEqual(text(['first\nlast wo', 'rds']), ['first', 'last words']);
  assert.deepEqual(text(['cut\r']), ['cut'], 'a trailing CR at EOF is stripped as if LF followed');
  assert.deepEqual(text(['done\n']), ['done'], 'no phantom empty line after a final LF');
});

test('a line longer than the limit throws as soon as that many bytes are buffered without a newline', () => {
  const decoder = lines.createDecoder({ maxFrameBytes: 8 });
  decoder.push(Buffer.from('12345'), () => assert.fail('no line yet'));
  decoder.push(Buffer.from('678'), () => assert.fail('no line yet'));
  assert.equal(decoder.bufferedBytes, 8);
  assert.throws(
    () => decoder.push(Buffer.from('9'), () => assert.fail('no line')),
    (err: unknown) =>
      err instanceof LimitExceededError &&
      err.code === FramingCodes.LINE_TOO_LONG &&
      err.limit === 8 &&
      err.actual === 9 &&
      err.message.includes('without a newline') &&
      err.message.includes('8 bytes'),
  );
});

test('a too-long line inside one chunk throws too', () => {
  assert.throws(() => text(['ok\n123456789\n'], 8), (err: unknown) => err instanceof LimitExceededError && err.code === FramingCodes.LINE_TOO_LONG);
});

test('a line of exactly the limit fits, with LF or CRLF, however it is split', () => {
  const wire = Buffer.from('12345678\r\nabcdefgh\n');
  for (let at = 0; at <= wire.length; at++) {
    assert.deepEqual(decodeChunks(lines, cutAt(wire, [at]), 8).map(String), ['12345678', 'abcdefgh'], `split at ${at}`);
  }
});

test('limit + 1 bytes are tolerated only while the extra byte is a CR awaiting its LF', () => {
  const decoder = lines.createDecoder({ maxFrameBytes: 4 });
  decoder.push(Buffer.from('abcd\r'), () => assert.fail('no line yet'));
  assert.throws(() => decoder.push(Buffer.from('x'), () => assert.fail('no line')), (err: unknown) => err instanceof LimitExceededError && err.actual === 6);
});

test('encoding a message that contains LF is refused', () => {
  assert.throws(
    () => lines.encode(Buffer.from('two\nlines')),
    (err: unknown) => err instanceof ProtocolError && err.code === FramingCodes.NEWLINE_IN_PAYLOAD && err.message.includes('byte 3'),
  );
  assert.throws(() => lines.encodeInto(new Uint8Array(20), 0, Buffer.from('\n')), ProtocolError);
});

test('a line spanning many chunks comes out whole and is not overwritten by the next line', () => {
  const decoder = lines.createDecoder({ maxFrameBytes: 10_000 });
  const got: Buffer[] = [];
  const long = 'x'.repeat(5000);
  for (let i = 0; i < long.length; i += 300) decoder.push(Buffer.from(long.slice(i, i + 300)), (f) => got.push(f));
  decoder.push(Buffer.from('\nyy'), (f) => got.push(f));
  decoder.push(Buffer.from('y\n'), (f) => got.push(f));
  assert.deepEqual(got.map(String), [long, 'yyy']);
});
