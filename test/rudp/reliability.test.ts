/**
 * Scenario tests of reliability: fast retransmit after three duplicate ACKs and NewReno partial
 * ACKs (RFC 5681 §3.2, RFC 6582), SACK recovery of several holes in one window (RFC 6675), RTO with
 * exponential backoff (RFC 6298 §5), giving up (RFC 1122 §4.2.3.5), user timeout (RFC 5482),
 * keepalive (RFC 1122 §4.2.3.6), RTT from timestamps and PAWS (RFC 7323).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, MSS, PEER_ISS, SYN, bytes, established, synSent } from './scenario-kit.js';
import { seqAdd } from '../../src/rudp/wire/seq.js';
import { RttEstimator } from '../../src/rudp/rtt-estimator.js';

const NO_SACK = { mss: MSS };

describe('fast retransmit and recovery', () => {
  test('three duplicate ACKs retransmit the missing segment at once (no SACK: RFC 5681 §3.2 / RFC 6582)', () => {
    const s = established({}, NO_SACK);
    s.conn.write(bytes(5 * MSS));
    for (let i = 0; i < 5; i++) s.sends({ flags: ACK, seq: 1 + i * MSS, payload: MSS });
    // Segment 2 is lost; segments 3, 4, 5 each produce a duplicate ACK.
    s.at(30).peer({ flags: ACK, seq: 1, ack: 1 + MSS });
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS });
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS });
    s.sendsNothing();
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS });
    s.sends({ flags: ACK, seq: 1 + MSS, payload: MSS });
    assert.equal(s.conn.inRecovery, true);
    assert.equal(s.conn.retransmissions, 1);
    assert.equal(s.conn.ssthreshBytes, 2000, 'ssthresh = max(FlightSize/2, 2·SMSS) with FlightSize 4000');
    s.at(40).peer({ flags: ACK, seq: 1, ack: 1 + 5 * MSS });
    assert.equal(s.conn.inRecovery, false, 'the ACK of the recovery point ends recovery');
  });

  test('NewReno: a partial ACK retransmits the next hole at once (RFC 6582 §3.2 step 5)', () => {
    const s = established({}, NO_SACK);
    s.conn.write(bytes(6 * MSS));
    for (let i = 0; i < 6; i++) s.sends({ flags: ACK, seq: 1 + i * MSS, payload: MSS });
    // Segments 1 and 3 are lost.
    s.at(30);
    for (let i = 0; i < 4; i++) s.peer({ flags: ACK, seq: 1, ack: 1 });
    s.sends({ flags: ACK, seq: 1, payload: MSS });
    s.at(40).peer({ flags: ACK, seq: 1, ack: 1 + 2 * MSS });
    s.sends({ flags: ACK, seq: 1 + 2 * MSS, payload: MSS });
    assert.equal(s.conn.inRecovery, true);
    s.at(50).peer({ flags: ACK, seq: 1, ack: 1 + 6 * MSS });
    assert.equal(s.conn.inRecovery, false);
  });

  test('SACK recovery of three holes in one window: each hole resent once, in order (RFC 6675)', () => {
    const s = established();
    s.conn.write(bytes(10 * MSS));
    for (let i = 0; i < 10; i++) s.sends({ flags: ACK, seq: 1 + i * MSS, payload: MSS });
    const blk = (from: number, to: number) => ({ left: seqAdd(s.ourIss, 1 + from * MSS), right: seqAdd(s.ourIss, 1 + to * MSS) });
    // Segments 1, 3, 5 (0-based) are lost; the peer reports the others with SACK.
    s.at(30).peer({ flags: ACK, seq: 1, ack: 1 + MSS });
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS, options: { sack: [blk(2, 3)] } });
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS, options: { sack: [blk(4, 5), blk(2, 3)] } });
    s.sendsNothing();
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS, options: { sack: [blk(6, 7), blk(4, 5), blk(2, 3)] } });
    // Three SACKed segments above the first hole: it is lost (IsLost, RFC 6675 §4).
    s.sends({ flags: ACK, seq: 1 + MSS, payload: MSS });
    s.sendsNothing();
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS, options: { sack: [blk(6, 8), blk(4, 5), blk(2, 3)] } });
    // The second hole is lost now too, but pipe (4000: segments 5, 8, 9 and the retransmission)
    // + 1000 exceeds cwnd = ssthresh = 4500: wait (RFC 6675 §5 step 4 sends only while cwnd − pipe ≥ 1 SMSS).
    s.sendsNothing();
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS, options: { sack: [blk(6, 9), blk(4, 5), blk(2, 3)] } });
    s.sends({ flags: ACK, seq: 1 + 3 * MSS, payload: MSS });
    s.sends({ flags: ACK, seq: 1 + 5 * MSS, payload: MSS });
    s.sendsNothing();
    s.peer({ flags: ACK, seq: 1, ack: 1 + MSS, options: { sack: [blk(6, 10), blk(4, 5), blk(2, 3)] } });
    s.sendsNothing();
    assert.equal(s.conn.retransmissions, 3);
    s.at(60).peer({ flags: ACK, seq: 1, ack: 1 + 10 * MSS });
    assert.equal(s.conn.inRecovery, false);
    assert.equal(s.conn.bufferedBytes, 0);
    s.at(5000).sendsNothing();
    assert.equal(s.conn.retransmissions, 3, 'no timeout followed');
  });
});

describe('retransmission timeout (RFC 6298)', () => {
  test('RTO backoff: 200 ms, then 400, then 800; cwnd drops to one segment', () => {
    const s = established();
    s.conn.write(bytes(100));
    s.sends({ flags: ACK, seq: 1, payload: 100 });
    s.at(209).sendsNothing();
    s.at(210).sends({ flags: ACK, seq: 1, payload: 100 });
    assert.equal(s.conn.cwndBytes, MSS, 'RFC 5681 §3.1: the loss window is one segment');
    s.at(609).sendsNothing();
    s.at(610).sends({ flags: ACK, seq: 1, payload: 100 });
    s.at(1409).sendsNothing();
    s.at(1410).sends({ flags: ACK, seq: 1, payload: 100 });
    assert.equal(s.conn.rtoMs, 1600);
    s.at(1420).peer({ flags: ACK, seq: 1, ack: 101 });
    assert.equal(s.conn.rtoMs, 200, 'an ACK of new data ends the backoff');
    assert.equal(s.conn.pollTimeout(), undefined, 'nothing outstanding, no timer');
  });

  test('after a timeout the window is resent from SND.UNA in slow start (go-back-N)', () => {
    const s = established();
    s.conn.write(bytes(4 * MSS));
    for (let i = 0; i < 4; i++) s.sends({ flags: ACK, seq: 1 + i * MSS, payload: MSS });
    s.at(210).sends({ flags: ACK, seq: 1, payload: MSS });
    s.sendsNothing();
    s.at(220).peer({ flags: ACK, seq: 1, ack: 1 + MSS });
    s.sends({ flags: ACK, seq: 1 + MSS, payload: MSS });
    s.sends({ flags: ACK, seq: 1 + 2 * MSS, payload: MSS });
    s.sendsNothing();
  });

  test('too many retransmissions abort with ERR_SOCKIT_RUDP_TOO_MANY_RETRANSMISSIONS and a RST', () => {
    const s = established({ maxRetransmissions: 2 });
    s.conn.write(bytes(10));
    s.sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(210).sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(610).sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(1410);
    assert.equal(s.conn.state, 'CLOSED');
    const closed = s.events().find((e) => e.type === 'closed');
    assert.ok(closed?.type === 'closed');
    assert.equal(closed.error?.code, 'ERR_SOCKIT_RUDP_TOO_MANY_RETRANSMISSIONS');
    s.sends({ flags: 0x04, seq: 11 });
  });

  test('the user timeout aborts when data stays unacknowledged too long (RFC 5482)', () => {
    const s = established({ userTimeoutMs: 500 });
    s.conn.write(bytes(10));
    s.sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(509);
    assert.equal(s.conn.state, 'ESTABLISHED');
    s.at(510);
    assert.equal(s.conn.state, 'CLOSED');
    const closed = s.events().find((e) => e.type === 'closed');
    assert.ok(closed?.type === 'closed' && closed.error?.code === 'ERR_SOCKIT_RUDP_USER_TIMEOUT');
  });

  test('RFC 6298 §2 arithmetic: first sample, then smoothing, bounded by min and max', () => {
    const r = new RttEstimator(1000, 200, 60_000);
    assert.equal(r.rtoMs, 1000);
    r.sample(100);
    assert.deepEqual([r.srttMs, r.rttvarMs, r.rtoMs], [100, 50, 300]);
    r.sample(200);
    assert.deepEqual([r.srttMs, r.rttvarMs], [112.5, 62.5]);
    assert.equal(r.rtoMs, 112.5 + 4 * 62.5);
    r.sample(1);
    for (let i = 0; i < 50; i++) r.sample(1);
    assert.equal(r.rtoMs, 200, 'the minimum RTO');
    for (let i = 0; i < 20; i++) r.backOff();
    assert.equal(r.rtoMs, 60_000, 'the maximum RTO');
  });
});

describe('keepalive (RFC 1122 §4.2.3.6)', () => {
  test('an idle connection is probed; an answer keeps it, silence ends it', () => {
    const s = established({ keepalive: { idleMs: 1000, intervalMs: 100, probes: 2 } });
    s.at(1010).sends({ flags: ACK, seq: 0 });
    s.at(1020).peer({ flags: ACK, seq: 1, ack: 1 });
    s.at(2019).sendsNothing();
    s.at(2020).sends({ flags: ACK, seq: 0 });
    s.at(2120).sends({ flags: ACK, seq: 0 });
    s.at(2220);
    assert.equal(s.conn.state, 'CLOSED');
    const closed = s.events().find((e) => e.type === 'closed');
    assert.ok(closed?.type === 'closed' && closed.error?.code === 'ERR_SOCKIT_RUDP_KEEPALIVE_TIMEOUT');
  });
});

describe('timestamps (RFC 7323)', () => {
  const TS = { timestamps: true } as const;
  const TS_OFFSET = 5000;

  function withTimestamps() {
    const s = synSent(TS, { tsOffset: TS_OFFSET });
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: { mss: MSS, sackPermitted: true, timestamps: { value: 900, echo: TS_OFFSET } } });
    s.sends({ flags: ACK, seq: 1, ack: 1, options: { timestamps: { value: TS_OFFSET + 10, echo: 900 } } });
    s.events();
    return s;
  }

  test('the handshake RTT comes from TSecr, and every segment carries TSval/TSecr', () => {
    const s = withTimestamps();
    assert.equal(s.conn.timestampsEnabled, true);
    assert.equal(s.conn.srttMs, 10);
  });

  test('RTT samples from TSecr hold even for retransmitted segments', () => {
    const s = withTimestamps();
    s.conn.write(bytes(10));
    s.at(100).sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(300).sends({ flags: ACK, seq: 1, payload: 10, options: { timestamps: { value: TS_OFFSET + 300, echo: 900 } } });
    s.at(340).peer({ flags: ACK, seq: 1, ack: 11, options: { timestamps: { value: 950, echo: TS_OFFSET + 300 } } });
    assert.equal(s.conn.srttMs, 10 * 7 / 8 + 40 / 8);
  });

  test('an ACK echoing a transmission older than the latest one gives no RTT sample', () => {
    // Regression: after lost ACKs, the receiver answers a retransmitted duplicate with its stale
    // TS.Recent; taking now − TSecr measured the outage (17 s), inflated SRTT and the RTO, and a
    // 20%-loss sweep crawled at one retransmission a minute.
    const s = withTimestamps();
    s.conn.write(bytes(10));
    s.at(100).sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(300).sends({ flags: ACK, seq: 1, payload: 10 });
    s.at(5000).peer({ flags: ACK, seq: 1, ack: 11, options: { timestamps: { value: 950, echo: TS_OFFSET + 100 } } });
    assert.equal(s.conn.srttMs, 10, 'SRTT still from the handshake alone');
    assert.equal(s.conn.bufferedBytes, 0, 'the ACK itself counted');
  });

  test('PAWS: a segment with an older TSval is dropped and answered (RFC 7323 §5)', () => {
    const s = withTimestamps();
    s.at(50).peer({ flags: ACK, seq: 1, ack: 1, payload: 10, options: { timestamps: { value: 1000, echo: TS_OFFSET + 10 } } });
    s.peer({ flags: ACK, seq: 11, ack: 1, payload: 10, options: { timestamps: { value: 999, echo: TS_OFFSET + 10 } } });
    assert.equal(s.conn.readableBytes, 10, 'the old duplicate was not taken');
    s.sends({ flags: ACK, seq: 1, ack: 11 });
    assert.ok(s.traces.some((e) => e.type === 'drop' && e.reason === 'paws'));
  });

  test('TSecr echoes the TSval of the segment at the left edge (RFC 7323 §4.3)', () => {
    const s = withTimestamps();
    s.at(50).peer({ flags: ACK, seq: 11, ack: 1, payload: 10, options: { timestamps: { value: 1200, echo: TS_OFFSET + 10 } } });
    s.sends({ flags: ACK, seq: 1, ack: 1, options: { timestamps: { value: TS_OFFSET + 50, echo: 900 }, sack: [{ left: seqAdd(PEER_ISS, 11), right: seqAdd(PEER_ISS, 21) }] } });
  });
});
