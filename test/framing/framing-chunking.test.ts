// The sticky-packet property: however the stream is cut into chunks, the same frames come out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { len16, len32, len32le, lines, raw, varint } from '../../src/framing/index.js';
import type { Framing } from '../../src/framing/types.js';
import { cutAt, decodeChunks, encodeAll, hex, hexes } from './framing-helpers.js';

const MAX = 1000;
const LENGTH_PREFIXED: Framing[] = [len32, len32le, len16, varint];

/** Frames that round-trip through `framing`: lines payloads carry no LF and do not end in CR. */
function payloadArb(framing: Framing): fc.Arbitrary<Uint8Array> {
  const bytes = fc.uint8Array({ maxLength: 300 });
  if (framing !== lines) return bytes;
  return bytes.map((b) => {
    const clean = b.map((x) => (x === 0x0a ? 0x20 : x));
    if (clean.length > 0 && clean[clean.length - 1] === 0x0d) clean[clean.length - 1] = 0x21;
    return clean;
  });
}

/** A fixed, varied sequence: empty frames, one-byte frames, a frame over 127 bytes (2-byte varint). */
const SAMPLE = ['', '41', '4243', '', '44'.repeat(200), '0d0d45', '46'.repeat(3)].map(hex);

for (const framing of [...LENGTH_PREFIXED, lines]) {
  test(`${framing.name}: a frame sequence split at every byte offset decodes to the same frames`, () => {
    const wire = encodeAll(framing, SAMPLE);
    for (let at = 0; at <= wire.length; at++) {
      assert.deepEqual(hexes(decodeChunks(framing, cutAt(wire, [at]), MAX)), hexes(SAMPLE), `split at ${at}`);
    }
  });

  test(`${framing.name}: the same sequence fed one byte at a time decodes to the same frames`, () => {
    const wire = encodeAll(framing, SAMPLE);
    const bytes = [...wire].map((b) => Buffer.of(b));
    assert.deepEqual(hexes(decodeChunks(framing, bytes, MAX)), hexes(SAMPLE));
  });

  test(`${framing.name}: random frames in random chunkings round-trip (fast-check)`, () => {
    fc.assert(
      fc.property(fc.array(payloadArb(framing), { maxLength: 20 }), fc.array(fc.nat(7000), { maxLength: 30 }), (frames, cuts) => {
        const wire = encodeAll(framing, frames);
        assert.deepEqual(hexes(decodeChunks(framing, cutAt(wire, cuts), MAX)), hexes(frames));
      }),
      { numRuns: 300 },
    );
  });

  test(`${framing.name}: encodeInto writes exactly what encode returns (fast-check)`, () => {
    fc.assert(
      fc.property(payloadArb(framing), fc.nat(16), (payload, offset) => {
        const target = new Uint8Array(offset + framing.encodedLength(payload.length));
        const written = framing.encodeInto(target, offset, payload);
        assert.equal(written, target.length - offset);
        assert.equal(Buffer.from(target.subarray(offset)).toString('hex'), encodeAll(framing, [payload]).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });
}

test('varint: every 32-bit length gets a minimal header that decodes to the same length (fast-check)', () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffff_ffff }), (length) => {
      // A stand-in for a payload of `length` bytes: encode reads only `.length` to build the header.
      const header = varint.encode({ length } as Uint8Array)[0]!;
      assert.equal(header.length, varint.encodedLength(length) - length);
      assert.equal(header.length, Math.max(1, Math.ceil(Math.log2(length + 1) / 7)), 'minimal: 7 bits per byte');
      // Decoding with a limit just below the length reports the declared length as `actual`.
      const decoder = varint.createDecoder({ maxFrameBytes: Math.max(0, length - 1) });
      if (length === 0) {
        const frames: Buffer[] = [];
        decoder.push(header, (f) => frames.push(f));
        assert.equal(frames.length, 1);
        return;
      }
      assert.throws(() => decoder.push(header, () => assert.fail('no frame expected')), (err: { actual?: number }) => err.actual === length);
    }),
    { numRuns: 500 },
  );
});

test('raw: any chunking hands the bytes on unchanged, in pieces no larger than the limit (fast-check)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 10 }), fc.integer({ min: 1, max: 500 }), (bytes, cuts, max) => {
      const frames = decodeChunks(raw, cutAt(bytes, cuts), max);
      assert.equal(Buffer.concat(frames).toString('hex'), Buffer.from(bytes).toString('hex'));
      for (const f of frames) assert.ok(f.length >= 1 && f.length <= max);
    }),
    { numRuns: 300 },
  );
});
