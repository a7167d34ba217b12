/**
 * The RUDP wire format: golden bytes (checksums computed independently in Python), round trips of
 * random segments (fast-check), corruption detection, malformed headers and options, wrap-aware
 * sequence arithmetic, SipHash-2-4 and RFC 6528 ISNs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeSegment, encodeSegmentToBytes, encodedLength } from '../../src/rudp/wire/segment-codec.js';
import { Flags, type Segment } from '../../src/rudp/wire/segment.js';
import { fromWire, seqAdd, seqDiff, seqGt, seqLt, toWire } from '../../src/rudp/wire/seq.js';
import { initialSequenceNumber, sipHash24 } from '../../src/rudp/isn.js';
import { isChecksumValid, segmentChecksum } from '../../src/rudp/wire/checksum.js';

const SYN_GOLDEN = '0fa01b580102030400000000a002ffffd5a00000020404b00402080a112233440000000001030307';
const DATA_GOLDEN = '0fa01b58fffffffe00000010b018040099fa00000101080a0000000a112233440101050aaabbccddaabbcd0068656c6c6f';

const synSegment: Segment = {
  srcPort: 4000,
  dstPort: 7000,
  seq: 0x01020304,
  ack: 0,
  flags: Flags.SYN,
  window: 65535,
  urgentPointer: 0,
  options: { mss: 1200, sackPermitted: true, timestamps: { value: 0x11223344, echo: 0 }, windowScale: 7 },
  payload: new Uint8Array(0),
};

const dataSegment: Segment = {
  srcPort: 4000,
  dstPort: 7000,
  seq: 0xfffffffe,
  ack: 0x10,
  flags: Flags.ACK | Flags.PSH,
  window: 1024,
  urgentPointer: 0,
  options: { timestamps: { value: 10, echo: 0x11223344 }, sack: [{ left: 0xaabbccdd, right: 0xaabbcd00 }] },
  payload: Buffer.from('hello'),
};

describe('golden bytes', () => {
  test('a SYN with MSS, SACK-permitted, timestamps and window scale', () => {
    assert.equal(Buffer.from(encodeSegmentToBytes(synSegment)).toString('hex'), SYN_GOLDEN);
    assert.equal(encodedLength(synSegment), 40);
    const back = decodeSegment(Buffer.from(SYN_GOLDEN, 'hex'));
    assert.deepEqual({ ...back, payload: [...back.payload] }, { ...synSegment, payload: [] });
  });

  test('a data segment with timestamps and a SACK block', () => {
    assert.equal(Buffer.from(encodeSegmentToBytes(dataSegment)).toString('hex'), DATA_GOLDEN);
    const back = decodeSegment(Buffer.from(DATA_GOLDEN, 'hex'));
    assert.equal(Buffer.from(back.payload).toString(), 'hello');
    assert.deepEqual(back.options, dataSegment.options);
  });
});

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const segmentArb = fc
  .record({
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 255 }),
    window: u16,
    urgentPointer: u16,
    mss: fc.option(u16, { nil: undefined }),
    windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
    sackPermitted: fc.option(fc.constant(true), { nil: undefined }),
    timestamps: fc.option(fc.record({ value: u32, echo: u32 }), { nil: undefined }),
    sackCount: fc.integer({ min: 0, max: 3 }),
    sackBlocks: fc.array(fc.record({ left: u32, right: u32 }), { minLength: 3, maxLength: 3 }),
    payload: fc.uint8Array({ maxLength: 1500 }),
  })
  .map((r): Segment => {
    const options: Segment['options'] = {};
    // At most 40 option bytes: SYN-style options or SACK blocks, as a real sender would.
    if (r.sackCount > 0) options.sack = r.sackBlocks.slice(0, r.sackCount).map((b) => ({ left: b.left, right: b.right }));
    else {
      if (r.mss !== undefined) options.mss = r.mss;
      if (r.windowScale !== undefined) options.windowScale = r.windowScale;
      if (r.sackPermitted !== undefined) options.sackPermitted = r.sackPermitted;
    }
    if (r.timestamps !== undefined) options.timestamps = { value: r.timestamps.value, echo: r.timestamps.echo };
    return { srcPort: r.srcPort, dstPort: r.dstPort, seq: r.seq, ack: r.ack, flags: r.flags, window: r.window, urgentPointer: r.urgentPointer, options, payload: r.payload };
  });

describe('round trips (fast-check)', () => {
  test('decode(encode(s)) equals s for any segment', () => {
    fc.assert(
      fc.property(segmentArb, (seg) => {
        const bytes = encodeSegmentToBytes(seg);
        assert.equal(bytes.length, encodedLength(seg));
        assert.equal(bytes.length % 4, seg.payload.length % 4, 'the header is a whole number of 32-bit words');
        const back = decodeSegment(bytes);
        assert.deepEqual({ ...back, payload: Buffer.from(back.payload) }, { ...seg, payload: Buffer.from(seg.payload) });
      }),
      { numRuns: 300 },
    );
  });

  test('flipping any single bit is caught by the checksum', () => {
    fc.assert(
      fc.property(segmentArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (seg, at, bit) => {
        const bytes = encodeSegmentToBytes(seg);
        bytes[at % bytes.length]! ^= 1 << bit;
        assert.throws(() => decodeSegment(bytes), (err: Error & { code?: string }) => err.code === 'ERR_SOCKIT_RUDP_BAD_CHECKSUM' || err.code === 'ERR_SOCKIT_RUDP_BAD_SEGMENT');
      }),
      { numRuns: 300 },
    );
  });
});

describe('checksum (RFC 1071)', () => {
  // The plain definition: big-endian 16-bit words, end-around carry, one's complement.
  function reference(bytes: Uint8Array): number {
    let sum = 6 + bytes.length;
    for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return ~sum & 0xffff;
  }

  test('equals the plain byte-by-byte definition at every length and buffer alignment', () => {
    // The fast path sums native 32-bit words of 4-aligned views; odd offsets take the byte loop.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.integer({ min: 0, max: 3 }), (data, offset) => {
        const backing = new Uint8Array(data.length + offset);
        backing.set(data, offset);
        const view = backing.subarray(offset);
        assert.equal(segmentChecksum(view), reference(data));
        if (view.length >= 18) {
          view[16] = 0;
          view[17] = 0;
          const c = segmentChecksum(view);
          view[16] = c >> 8;
          view[17] = c & 0xff;
          assert.ok(isChecksumValid(view));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('malformed segments', () => {
  const bad = (hex: string, verifyChecksum = false) => () => decodeSegment(Buffer.from(hex, 'hex'), { verifyChecksum });
  const BAD_SEGMENT = { name: 'ProtocolError', code: 'ERR_SOCKIT_RUDP_BAD_SEGMENT' };

  test('shorter than 20 bytes', () => {
    assert.throws(bad('0fa01b58'), { ...BAD_SEGMENT, message: /shorter than the 20-byte header/ });
  });

  test('data offset below 5 words or beyond the datagram', () => {
    assert.throws(bad('0fa01b58010203040000000040020000000000000000'), BAD_SEGMENT);
    assert.throws(bad('0fa01b5801020304000000006002000000000000'), BAD_SEGMENT);
  });

  test('an option whose length runs past the header, or a known option with the wrong length', () => {
    assert.throws(bad('0fa01b580102030400000000600200000000000002080000'), BAD_SEGMENT);
    assert.throws(bad('0fa01b580102030400000000600200000000000002030000'), { ...BAD_SEGMENT, message: /MSS option has length 3/ });
    assert.throws(bad('0fa01b580102030400000000600200000000000005030000'), BAD_SEGMENT);
  });

  test('unknown options are skipped, EOL ends the list, a window scale above 14 reads as 14', () => {
    const seg = decodeSegment(Buffer.from('0fa01b58010203040000000070020000000000002203000103030f00', 'hex'), { verifyChecksum: false });
    assert.deepEqual(seg.options, { windowScale: 14 });
  });

  test('a wrong checksum is ERR_SOCKIT_RUDP_BAD_CHECKSUM', () => {
    const bytes = Buffer.from(SYN_GOLDEN, 'hex');
    bytes[17] ^= 0xff;
    assert.throws(() => decodeSegment(bytes), { name: 'ProtocolError', code: 'ERR_SOCKIT_RUDP_BAD_CHECKSUM' });
  });
});

describe('sequence arithmetic (RFC 9293 §3.4)', () => {
  test('comparisons hold across the wrap', () => {
    assert.ok(seqLt(0xffff_fff0, 0x10));
    assert.ok(seqGt(0x10, 0xffff_fff0));
    assert.equal(seqDiff(0x10, 0xffff_fff0), 0x20);
    assert.equal(seqAdd(0xffff_ffff, 2), 1);
  });

  test('toWire/fromWire round-trip offsets near any reference', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), (isn, ref, delta) => {
        const offset = ref + delta;
        assert.equal(fromWire(isn, toWire(isn, offset), ref), offset);
      }),
    );
  });
});

describe('ISNs (RFC 6528)', () => {
  test('SipHash-2-4 matches the reference vector of the paper (key 00..0f, message 00..0e)', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const msg = Uint8Array.from({ length: 15 }, (_, i) => i);
    assert.equal(sipHash24(key, msg), 0xa129ca6149be45e5n);
    assert.equal(sipHash24(key, new Uint8Array(0)), 0x726fdb47dd0e0e31n);
  });

  test('the ISN depends on the key and the 4-tuple, and advances with a 4 µs clock', () => {
    const key = new Uint8Array(16).fill(7);
    const a = { host: '127.0.0.1', port: 1000 };
    const b = { host: '127.0.0.1', port: 2000 };
    const isn = initialSequenceNumber(key, 0, a, 1000, b, 2000);
    assert.notEqual(isn, initialSequenceNumber(key, 0, a, 1000, b, 2001));
    assert.notEqual(isn, initialSequenceNumber(new Uint8Array(16), 0, a, 1000, b, 2000));
    assert.equal(initialSequenceNumber(key, 1, a, 1000, b, 2000), (isn + 250) >>> 0);
  });
});
