// Random garbage: decoders throw only their documented errors and never hold more than the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FramingCodes, LimitExceededError, ProtocolError } from '../../src/errors.js';
import { len16, len32, len32le, lines, raw, varint } from '../../src/framing/index.js';
import type { Framing } from '../../src/framing/types.js';
import { cutAt } from './framing-helpers.js';

interface Case {
  framing: Framing;
  /** Longest header (or terminator) that may be buffered beside a frame's body. */
  headerBytes: number;
  /** Codes the decoder may throw, and the class of each. */
  errors: Record<string, Function>;
}

const LIMIT_AND_TRUNCATION = {
  [FramingCodes.FRAME_TOO_LARGE]: LimitExceededError,
  [FramingCodes.TRUNCATED_FRAME]: ProtocolError,
};

const CASES: Case[] = [
  { framing: len32, headerBytes: 4, errors: LIMIT_AND_TRUNCATION },
  { framing: len32le, headerBytes: 4, errors: { ...LIMIT_AND_TRUNCATION, [FramingCodes.NEGATIVE_LENGTH]: ProtocolError } },
  { framing: len16, headerBytes: 2, errors: LIMIT_AND_TRUNCATION },
  { framing: varint, headerBytes: 5, errors: { ...LIMIT_AND_TRUNCATION, [FramingCodes.BAD_VARINT]: ProtocolError } },
  { framing: lines, headerBytes: 1, errors: { [FramingCodes.LINE_TOO_LONG]: LimitExceededError } },
  { framing: raw, headerBytes: 0, errors: {} },
];

// Small limits so that garbage often declares lengths that fit and the decoder goes deep.
const garbage = fc.record({
  bytes: fc.uint8Array({ maxLength: 2000 }),
  cuts: fc.array(fc.nat(2000), { maxLength: 40 }),
  maxFrameBytes: fc.integer({ min: 1, max: 300 }),
});

for (const { framing, headerBytes, errors } of CASES) {
  test(`${framing.name}: random garbage in random chunks throws only documented errors and holds at most header + limit`, () => {
    fc.assert(
      fc.property(garbage, ({ bytes, cuts, maxFrameBytes }) => {
        const decoder = framing.createDecoder({ maxFrameBytes });
        const onFrame = (frame: Buffer): void => {
          assert.ok(frame.length <= maxFrameBytes, `frame of ${frame.length} over limit ${maxFrameBytes}`);
        };
        try {
          for (const chunk of cutAt(bytes, cuts)) {
            decoder.push(chunk, onFrame);
            assert.ok(decoder.bufferedBytes <= headerBytes + maxFrameBytes, `holds ${decoder.bufferedBytes}`);
          }
          decoder.end(onFrame);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          const code = (err as { code?: string }).code ?? '';
          const cls = errors[code];
          assert.ok(cls !== undefined, `undocumented error from ${framing.name}: ${String(err)}`);
          assert.ok(err instanceof cls, `${code} should be a ${cls.name}`);
        }
      }),
      { numRuns: 400 },
    );
  });
}
