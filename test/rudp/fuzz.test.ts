/**
 * Misbehaving peers are not exceptions: random segments (any flags, sequence and acknowledgement
 * numbers near and far from the window, options, payloads) fed to connections in every state and to
 * a listening endpoint never throw, never make a connection send without bound, and never leave a
 * CLOSED connection with a timer (fast-check).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closeWait, closing, established, finWait1, finWait2, lastAck, listening, synReceived, synSent, timeWait, type Script, type Template } from './scenario-kit.js';
import { createRng } from '../../src/core/rng.js';
import { RudpEndpoint } from '../../src/rudp/endpoint.js';
import { encodeSegmentToBytes } from '../../src/rudp/wire/segment-codec.js';

const near = fc.oneof(fc.integer({ min: -3000, max: 70_000 }), fc.integer({ min: 0, max: 0xffff_ffff }));
const template: fc.Arbitrary<Template & { dt: number }> = fc.record({
  dt: fc.integer({ min: 0, max: 3000 }),
  flags: fc.integer({ min: 0, max: 63 }),
  seq: near,
  ack: near,
  window: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.integer({ min: 0, max: 1500 }),
  options: fc.record(
    {
      sack: fc.array(fc.record({ left: fc.integer({ min: 0, max: 0xffff_ffff }), right: fc.integer({ min: 0, max: 0xffff_ffff }) }), { maxLength: 3 }),
      timestamps: fc.record({ value: fc.integer({ min: 0, max: 0xffff_ffff }), echo: fc.integer({ min: 0, max: 0xffff_ffff }) }),
      mss: fc.integer({ min: 0, max: 0xffff }),
      windowScale: fc.integer({ min: 0, max: 14 }),
    },
    { requiredKeys: [] },
  ),
});

const STARTS: Array<[string, () => Script]> = [
  ['LISTEN', () => listening()],
  ['SYN_SENT', () => synSent({ timestamps: true })],
  ['SYN_RECEIVED', () => synReceived()],
  ['ESTABLISHED', () => established({ timestamps: true, windowScaling: true })],
  ['FIN_WAIT_1', () => finWait1()],
  ['FIN_WAIT_2', () => finWait2()],
  ['CLOSE_WAIT', () => closeWait()],
  ['CLOSING', () => closing()],
  ['LAST_ACK', () => lastAck()],
  ['TIME_WAIT', () => timeWait()],
];

describe('random segments', () => {
  for (const [name, start] of STARTS) {
    test(`in ${name}: no throw, bounded output, no timer once CLOSED`, () => {
      fc.assert(
        fc.property(fc.array(template, { minLength: 1, maxLength: 25 }), fc.boolean(), (steps, write) => {
          const s = start();
          if (write && s.conn.writableBytes > 0) s.conn.write(new Uint8Array(3000));
          for (const step of steps) {
            s.at(s.now + step.dt).peer(step);
            let sent = 0;
            while (s.conn.pollTransmit(s.now) !== undefined) assert.ok(++sent < 200, 'a single segment cannot make us send without bound');
            s.readAll();
          }
          if (s.conn.state === 'CLOSED') assert.equal(s.conn.pollTimeout(), undefined);
        }),
        { numRuns: 60 },
      );
    });
  }

  test('a listening endpoint survives random datagrams, valid or not, and answers each at most once', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(template.map((t) => encodeSegmentToBytes({ srcPort: 1, dstPort: 2, seq: t.seq! >>> 0, ack: t.ack! >>> 0, flags: t.flags, window: t.window!, urgentPointer: 0, options: {}, payload: new Uint8Array(t.payload as number) })), fc.uint8Array({ maxLength: 80 })), { maxLength: 40 }), (datagrams) => {
        const ep = new RudpEndpoint({ local: { host: '10.0.0.2', port: 2 }, isnKey: new Uint8Array(16), rng: createRng(9) });
        ep.listen(8);
        let now = 0;
        for (const d of datagrams) {
          ep.handleDatagram((now += 1), d, { host: '10.0.0.1', port: 1 });
          let out = 0;
          while (ep.pollTransmit(now) !== undefined) assert.ok(++out <= 1, `datagram answered ${out} times`);
        }
        ep.handleTimeout(now + 3_600_000);
      }),
      { numRuns: 100 },
    );
  });
});
