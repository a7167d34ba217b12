/**
 * Scenario tests of ESTABLISHED (RFC 9293 §3.10.7.4): receiving data, delayed and immediate ACKs
 * (RFC 5681 §4.2), out-of-order and duplicate data, SACK blocks (RFC 2018 §4), out-of-window
 * segments, RST and SYN checks with challenge ACKs (RFC 5961), Nagle (RFC 1122 §4.2.3.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, MSS, PEER_ISS, RST, SYN, bytes, established } from './scenario-kit.js';
import { seqAdd } from '../../src/rudp/wire/seq.js';

describe('ESTABLISHED: receiving', () => {
  test('one small segment is acknowledged after the 40 ms delayed-ACK timer', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 1, ack: 1, payload: bytes(10) });
    assert.deepEqual(s.eventTypes(), ['readable']);
    s.sendsNothing();
    s.at(139).sendsNothing();
    s.at(140).sends({ flags: ACK, seq: 1, ack: 11 });
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(10)));
  });

  test('every second full-sized segment is acknowledged at once', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 1, ack: 1, payload: MSS });
    s.sendsNothing();
    s.peer({ flags: ACK, seq: 1 + MSS, ack: 1, payload: MSS });
    s.sends({ flags: ACK, seq: 1, ack: 1 + 2 * MSS });
  });

  test('delayedAckMs 0 acknowledges every segment at once', () => {
    const s = established({ delayedAckMs: 0 });
    s.at(100).peer({ flags: ACK, seq: 1, ack: 1, payload: 10 });
    s.sends({ flags: ACK, seq: 1, ack: 11 });
  });

  test('out-of-order data: immediate duplicate ACK with a SACK block; the gap filled: immediate ACK of all', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 101, ack: 1, payload: bytes(100, 100) });
    assert.deepEqual(s.eventTypes(), [], 'nothing readable yet');
    s.sends({ flags: ACK, seq: 1, ack: 1, options: { sack: [{ left: seqAdd(PEER_ISS, 101), right: seqAdd(PEER_ISS, 201) }] } });
    s.peer({ flags: ACK, seq: 1, ack: 1, payload: bytes(100) });
    s.sends({ flags: ACK, seq: 1, ack: 201, options: {} });
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(200)));
  });

  test('SACK blocks: the most recent first, at most 4 without timestamps (RFC 2018 §4)', () => {
    const s = established();
    s.at(100);
    for (const start of [101, 301, 501, 701, 901]) {
      s.peer({ flags: ACK, seq: start, ack: 1, payload: 100 });
      s.sends({ flags: ACK, seq: 1, ack: 1 });
    }
    const last = s.traces.filter((e) => e.type === 'segment' && e.direction === 'sent').pop();
    assert.ok(last?.type === 'segment');
    const lefts = (last.segment.options.sack ?? []).map((b) => (b.left - PEER_ISS) >>> 0);
    assert.deepEqual(lefts, [901, 701, 501, 301]);
  });

  test('duplicate data is acknowledged at once and delivered once', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 1, ack: 1, payload: bytes(50) });
    s.at(140).sends({ flags: ACK, seq: 1, ack: 51 });
    s.at(150).peer({ flags: ACK, seq: 1, ack: 1, payload: bytes(50) });
    s.sends({ flags: ACK, seq: 1, ack: 51 });
    // Overlapping: 25 old bytes and 25 new ones.
    s.peer({ flags: ACK, seq: 26, ack: 1, payload: bytes(50, 25) });
    assert.equal(s.conn.bytesReceived, 75);
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(75)));
  });

  test('overlapping out-of-order pieces are reassembled without duplicates', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 201, ack: 1, payload: bytes(100, 200) });
    s.peer({ flags: ACK, seq: 151, ack: 1, payload: bytes(100, 150) });
    s.peer({ flags: ACK, seq: 101, ack: 1, payload: bytes(300, 100) });
    s.peer({ flags: ACK, seq: 1, ack: 1, payload: bytes(120) });
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(400)));
    assert.equal(s.conn.bytesReceived, 400);
  });

  test('a segment beyond the window is dropped, counted and answered with an ACK', () => {
    const s = established({ receiveBufferBytes: 4000 });
    s.at(100).peer({ flags: ACK, seq: 4002, ack: 1, payload: 10 });
    s.sends({ flags: ACK, seq: 1, ack: 1 });
    assert.equal(s.conn.segmentsDropped, 1);
    assert.equal(s.conn.readableBytes, 0);
  });

  test('data overrunning the right edge is trimmed to the window', () => {
    const s = established({ receiveBufferBytes: 4000 });
    s.at(100).peer({ flags: ACK, seq: 1, ack: 1, payload: 5000 });
    assert.equal(s.conn.readableBytes, 4000);
  });
});

describe('ESTABLISHED: RST, SYN and bad ACKs (RFC 5961)', () => {
  test('a RST exactly at RCV.NXT resets the connection', () => {
    const s = established();
    s.at(100).peer({ flags: RST, seq: 1 });
    assert.equal(s.conn.state, 'CLOSED');
    const [closed] = s.events();
    assert.ok(closed?.type === 'closed' && closed.error?.code === 'ERR_SOCKIT_CONNECTION_RESET');
    s.sendsNothing();
    assert.equal(s.conn.pollTimeout(), undefined);
  });

  test('a RST in the window but not at RCV.NXT gets a challenge ACK (RFC 5961 §3.2)', () => {
    const s = established();
    s.at(100).peer({ flags: RST, seq: 500 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    s.sends({ flags: ACK, seq: 1, ack: 1 });
  });

  test('a RST outside the window is dropped silently', () => {
    const s = established({ receiveBufferBytes: 4000 });
    s.at(100).peer({ flags: RST, seq: 90000 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    s.sendsNothing();
  });

  test('a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4.2)', () => {
    const s = established();
    s.at(100).peer({ flags: SYN, seq: 1 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    s.sends({ flags: ACK, seq: 1, ack: 1 });
  });

  test('an ACK of data never sent is answered with an ACK and dropped (RFC 5961 §5.2)', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 1, ack: 5000, payload: 10 });
    s.sends({ flags: ACK, seq: 1, ack: 1 });
    assert.equal(s.conn.readableBytes, 0, 'the data of an unacceptable ACK is not taken');
  });

  test('a segment without ACK is dropped', () => {
    const s = established();
    s.at(100).peer({ flags: 0, seq: 1, payload: 10 });
    assert.equal(s.conn.readableBytes, 0);
    assert.equal(s.conn.segmentsDropped, 1);
  });
});

describe('ESTABLISHED: sending, Nagle and setNoDelay', () => {
  test('Nagle holds a small segment while data is unacknowledged, then sends the coalesced rest', () => {
    const s = established();
    s.conn.write(bytes(10));
    s.sends({ flags: ACK, seq: 1, payload: bytes(10) });
    s.conn.write(bytes(10, 10));
    s.conn.write(bytes(10, 20));
    s.sendsNothing();
    s.at(50).peer({ flags: ACK, seq: 1, ack: 11 });
    s.sends({ flags: ACK, seq: 11, payload: bytes(20, 10) });
  });

  test('setNoDelay(true) sends small segments at once', () => {
    const s = established();
    s.conn.setNoDelay(true);
    s.conn.write(bytes(10));
    s.sends({ flags: ACK, seq: 1, payload: 10 });
    s.conn.write(bytes(10));
    s.sends({ flags: ACK, seq: 11, payload: 10 });
  });

  test('a full-sized segment goes even with data outstanding', () => {
    const s = established();
    s.conn.write(bytes(10));
    s.sends({ flags: ACK, seq: 1, payload: 10 });
    s.conn.write(bytes(MSS + 5));
    s.sends({ flags: ACK, seq: 11, payload: MSS });
    s.sendsNothing();
  });

  test('write is bounded by the send buffer and reports writable when ACKs free it', () => {
    const s = established({ sendBufferBytes: 4000 });
    assert.equal(s.conn.write(new Uint8Array(6000)), 4000);
    assert.equal(s.conn.writableBytes, 0);
    for (let i = 0; i < 4; i++) s.sends({ flags: ACK, seq: 1 + i * MSS, payload: MSS });
    s.at(50).peer({ flags: ACK, seq: 1, ack: 1 + 3 * MSS });
    assert.deepEqual(s.eventTypes(), ['writable']);
    assert.equal(s.conn.writableBytes, 3000);
  });

  test('ACKs piggyback on data (the delayed ACK is cancelled)', () => {
    const s = established();
    s.at(100).peer({ flags: ACK, seq: 1, ack: 1, payload: 10 });
    s.conn.write(bytes(5));
    s.sends({ flags: ACK, seq: 1, ack: 11, payload: 5 });
    s.at(200).sendsNothing();
  });

  test('write after shutdown throws InvalidStateError', () => {
    const s = established();
    s.conn.shutdown();
    assert.throws(() => s.conn.write(bytes(1)), { name: 'InvalidStateError', code: 'ERR_SOCKIT_INVALID_STATE' });
  });

  test('FIN arriving out of order is held until the data before it arrives', () => {
    const s = established();
    s.at(100).peer({ flags: ACK | FIN, seq: 11, ack: 1, payload: 5 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    s.sends({ flags: ACK, seq: 1, ack: 1 });
    s.peer({ flags: ACK, seq: 1, ack: 1, payload: 10 });
    assert.equal(s.conn.state, 'CLOSE_WAIT');
    assert.deepEqual(s.eventTypes(), ['readable', 'peer-closed']);
    s.sends({ flags: ACK, seq: 1, ack: 17 });
    assert.equal(s.readAll().length, 15);
  });
});
