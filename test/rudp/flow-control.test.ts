/**
 * Scenario tests of flow control: the receive window and its updates, zero window and the persist
 * timer's probes (RFC 9293 §3.8.6.1), silly-window avoidance on both sides (RFC 9293 §3.8.6.2),
 * window scaling (RFC 7323 §2), and sequence-number wraparound (RFC 9293 §3.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, MSS, PEER_SYN_OPTIONS, SYN, bytes, established, synSent } from './scenario-kit.js';

describe('receive window', () => {
  test('unread data shrinks the advertised window; reading it sends a window update', () => {
    const s = established({ receiveBufferBytes: 4000 });
    s.at(50).peer({ flags: ACK, seq: 1, ack: 1, payload: MSS });
    s.peer({ flags: ACK, seq: 1 + MSS, ack: 1, payload: MSS });
    s.sends({ flags: ACK, seq: 1, ack: 1 + 2 * MSS, window: 2000 });
    s.readAll();
    s.sends({ flags: ACK, seq: 1, ack: 1 + 2 * MSS, window: 4000 });
  });

  test('receiver SWS avoidance: the window reopens only by min(buffer/2, MSS) or more', () => {
    const s = established({ receiveBufferBytes: 4000 });
    s.at(50);
    for (let i = 0; i < 4; i++) s.peer({ flags: ACK, seq: 1 + i * MSS, ack: 1, payload: MSS });
    s.sends({ flags: ACK, seq: 1, ack: 4001, window: 0 });
    s.conn.read(500);
    s.sendsNothing();
    s.conn.read(600);
    s.sends({ flags: ACK, seq: 1, ack: 4001, window: 1100 });
  });

  test('a full window takes no more data: the excess is dropped and acknowledged', () => {
    const s = established({ receiveBufferBytes: 2000 });
    s.at(50).peer({ flags: ACK, seq: 1, ack: 1, payload: 2000 });
    s.sends({ flags: ACK, seq: 1, ack: 2001, window: 0 });
    s.peer({ flags: ACK, seq: 2001, ack: 1, payload: 100 });
    s.sends({ flags: ACK, seq: 1, ack: 2001, window: 0 });
    assert.equal(s.conn.readableBytes, 2000);
  });
});

describe('zero window and the persist timer', () => {
  test('nothing goes into a zero window; probes back off until the window opens', () => {
    const s = established();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 1, window: 0 });
    s.conn.write(bytes(100));
    s.sendsNothing();
    // Persist timer: RTO (200 ms), then doubled.
    s.at(219).sendsNothing();
    s.at(220).sends({ flags: ACK, seq: 0 });
    s.at(230).peer({ flags: ACK, seq: 1, ack: 1, window: 0 });
    s.sendsNothing();
    // The second probe is due 400 ms after the first.
    s.at(619).sendsNothing();
    s.at(620).sends({ flags: ACK, seq: 0 });
    s.at(640).peer({ flags: ACK, seq: 1, ack: 1, window: 1000 });
    s.sends({ flags: ACK, seq: 1, payload: 100 });
  });

  test('a lost window update is recovered by the probe', () => {
    const s = established();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 1, window: 0 });
    s.conn.write(bytes(10));
    s.sendsNothing();
    // The peer's window update is lost; the probe's answer carries it.
    s.at(220).sends({ flags: ACK, seq: 0 });
    s.at(225).peer({ flags: ACK, seq: 1, ack: 1, window: 5000 });
    s.sends({ flags: ACK, seq: 1, payload: 10 });
  });

  test('a FIN goes out even into a zero window', () => {
    const s = established();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 1, window: 0 });
    s.conn.shutdown();
    s.sends({ flags: ACK | FIN, seq: 1 });
  });

  test('sender SWS avoidance: a window smaller than a segment and half the largest window waits for the persist timer', () => {
    const s = established();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 1, window: 300 });
    s.conn.write(bytes(1000));
    s.sendsNothing();
    s.at(220).sends({ flags: ACK, seq: 1, payload: 300 });
  });
});

describe('window scaling (RFC 7323 §2)', () => {
  test('the peer’s window field is shifted by its scale; the SYN’s is not', () => {
    const s = synSent({ windowScaling: true, receiveBufferBytes: 256 * 1024 });
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, window: 100, options: { ...PEER_SYN_OPTIONS, windowScale: 2 } });
    assert.equal(s.conn.peerWindowBytes, 100, 'a SYN window is never scaled');
    // Our ACK advertises 256 KiB with our shift of 3.
    s.sends({ flags: ACK, seq: 1, ack: 1, window: (256 * 1024) >> 3 });
    s.peer({ flags: ACK, seq: 1, ack: 1, window: 100 });
    assert.equal(s.conn.peerWindowBytes, 400);
    s.conn.setNoDelay(true);
    s.conn.write(bytes(1000));
    s.sends({ flags: ACK, seq: 1, payload: 400 });
    s.sendsNothing();
  });

  test('without the peer’s option neither side scales', () => {
    const s = synSent({ windowScaling: true, receiveBufferBytes: 256 * 1024 });
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, window: 100, options: PEER_SYN_OPTIONS });
    s.sends({ flags: ACK, seq: 1, ack: 1, window: 65535 });
  });
});

describe('sequence-number wraparound (RFC 9293 §3.4)', () => {
  test('data and ACKs cross 2^32 in both directions', () => {
    const s = established({}, PEER_SYN_OPTIONS, { ours: 0xffff_f000, peer: 0xffff_fc00 });
    s.conn.write(bytes(6 * MSS));
    const sent = [];
    for (let i = 0; i < 6; i++) sent.push(s.sends({ flags: ACK, seq: 1 + i * MSS, payload: MSS }));
    assert.ok(sent[5]!.seq < sent[0]!.seq, 'the sequence numbers wrapped');
    s.at(30).peer({ flags: ACK, seq: 1, ack: 1 + 6 * MSS, payload: bytes(3 * MSS) });
    assert.equal(s.conn.bufferedBytes, 0, 'the wrapped ACK acknowledged everything');
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(3 * MSS)));
    s.sends({ flags: ACK, seq: 1 + 6 * MSS, ack: 1 + 3 * MSS });
  });

  test('out-of-order data across the wrap is reassembled', () => {
    const s = established({}, PEER_SYN_OPTIONS, { peer: 0xffff_ff00 });
    s.at(30).peer({ flags: ACK, seq: 301, ack: 1, payload: bytes(300, 300) });
    s.peer({ flags: ACK, seq: 1, ack: 1, payload: bytes(300) });
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(600)));
  });
});
