// Golden byte fixtures: each framing's exact wire bytes, both ways (encode and decode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_FRAME_BYTES, getFraming, len16, len32, len32le, lines, raw, varint } from '../../src/framing/index.js';
import type { Framing } from '../../src/framing/types.js';
import { decodeChunks, encodeAll, hex, hexes } from './framing-helpers.js';

interface Golden {
  framing: Framing;
  frames: string[];
  wire: string;
}

const A258 = '61'.repeat(258);
const B300 = '62'.repeat(300);

const GOLDEN: Golden[] = [
  { framing: len32, frames: ['6869', '', A258], wire: `00000002 6869 00000000 00000102 ${A258}` },
  // Python: struct.pack('i', 258) == b'\x02\x01\x00\x00' (the seeds' protocol 1).
  { framing: len32le, frames: ['6869', '', A258], wire: `02000000 6869 00000000 02010000 ${A258}` },
  { framing: len16, frames: ['6869', '', A258], wire: `0002 6869 0000 0102 ${A258}` },
  // protobuf: 300 = ac 02, 127 = 7f, 128 = 80 01.
  { framing: varint, frames: ['6869', '', B300, '63'.repeat(127), '64'.repeat(128)], wire: `02 6869 00 ac02 ${B300} 7f ${'63'.repeat(127)} 8001 ${'64'.repeat(128)}` },
  { framing: lines, frames: ['6869', '', '6162'], wire: '68690a 0a 61620a' },
  { framing: raw, frames: ['68690a6162'], wire: '68690a6162' },
];

for (const { framing, frames, wire } of GOLDEN) {
  test(`${framing.name}: encode writes the golden bytes`, () => {
    assert.equal(encodeAll(framing, frames.map(hex)).toString('hex'), hex(wire).toString('hex'));
  });

  test(`${framing.name}: encodeInto writes the same bytes at an offset, and encodedLength predicts them`, () => {
    const total = frames.reduce((n, f) => n + framing.encodedLength(hex(f).length), 0);
    const target = Buffer.alloc(total + 3, 0xee);
    let offset = 3;
    for (const f of frames) offset += framing.encodeInto(target, offset, hex(f));
    assert.equal(offset, total + 3);
    assert.equal(target.subarray(0, 3).toString('hex'), 'eeeeee');
    assert.equal(target.subarray(3).toString('hex'), hex(wire).toString('hex'));
  });

  test(`${framing.name}: decoding the golden bytes in one chunk gives the frames`, () => {
    assert.deepEqual(hexes(decodeChunks(framing, [hex(wire)], DEFAULT_MAX_FRAME_BYTES)), frames);
  });

  test(`${framing.name}: getFraming finds it by name`, () => {
    assert.equal(getFraming(framing.name), framing);
  });
}

test("len32le: a protocol-1 client's messages glued in one sendall decode one by one", () => {
  // What seed 001's protocol-1 client writes for ['hello', 'world', '']: one sendall, glued frames.
  const wire = hex('05000000 68656c6c6f 05000000 776f726c64 00000000');
  assert.deepEqual(decodeChunks(len32le, [wire], 1024).map(String), ['hello', 'world', '']);
});

test('lines: encode returns the payload uncopied and a separate LF', () => {
  const payload = Buffer.from('abc');
  const pieces = lines.encode(payload);
  assert.equal(pieces.length, 2);
  assert.equal(pieces[0], payload);
  assert.equal(Buffer.from(pieces[1]!).toString('hex'), '0a');
});

test('length-prefixed encode returns the payload uncopied after the header', () => {
  const payload = Buffer.from('abc');
  for (const framing of [len32, len32le, len16, varint]) {
    const pieces = framing.encode(payload);
    assert.equal(pieces.length, 2, framing.name);
    assert.equal(pieces[1], payload, framing.name);
  }
});
