/**
 * Scenario tests of the opening states: LISTEN, SYN_SENT, SYN_RECEIVED (RFC 9293 §3.5, §3.10.7.2–3),
 * lost SYN / SYN+ACK / final ACK, simultaneous open, RST, option negotiation, connect timeout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, MSS, PEER_SYN_OPTIONS, RST, SYN, established, listening, synReceived, synSent } from './scenario-kit.js';

describe('LISTEN', () => {
  test('a SYN moves to SYN_RECEIVED and is answered by SYN+ACK ack=ISS+1', () => {
    const s = listening();
    s.peer({ flags: SYN, seq: 0, options: PEER_SYN_OPTIONS });
    assert.equal(s.conn.state, 'SYN_RECEIVED');
    s.sends({ flags: SYN | ACK, seq: 0, ack: 1, options: { mss: MSS, sackPermitted: true } });
    s.sendsNothing();
  });

  test('an ACK is answered by <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2)', () => {
    const s = listening();
    s.peer({ flags: ACK, seq: 7, ack: 99 });
    s.sends({ flags: RST, seq: 99 });
    assert.equal(s.conn.state, 'CLOSED');
  });

  test('a RST is ignored', () => {
    const s = listening();
    s.peer({ flags: RST, seq: 0 });
    assert.equal(s.conn.state, 'LISTEN');
    s.sendsNothing();
  });
});

describe('SYN_SENT', () => {
  test('the SYN offers MSS, SACK-permitted, window scale and timestamps when configured', () => {
    const s = synSent({ timestamps: true, windowScaling: true, receiveBufferBytes: 1 << 20 });
    const syn = s.traces.find((e) => e.type === 'segment' && e.direction === 'sent');
    assert.ok(syn !== undefined && syn.type === 'segment');
    assert.equal(syn.segment.options.mss, MSS);
    assert.equal(syn.segment.options.sackPermitted, true);
    assert.equal(syn.segment.options.windowScale, 5, '1 MiB needs a shift of 5 to fit 16 bits');
    assert.equal(syn.segment.options.timestamps?.echo, 0);
    assert.equal(syn.segment.window, 65535, 'the window of a SYN is never scaled');
  });

  test('SYN+ACK completes the handshake: ACK ack=K+1, ESTABLISHED, connected', () => {
    const s = synSent();
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: PEER_SYN_OPTIONS });
    assert.equal(s.conn.state, 'ESTABLISHED');
    s.sends({ flags: ACK, seq: 1, ack: 1 });
    assert.deepEqual(s.eventTypes(), ['connected']);
    assert.equal(s.conn.srttMs, 10, 'a SYN sent once gives an RTT sample');
  });

  test('lost SYN: retransmitted after 1 s, then after 2 s more (RFC 6298 §5.5 backoff)', () => {
    const s = synSent();
    s.at(999).sendsNothing();
    s.at(1000).sends({ flags: SYN, seq: 0 });
    s.at(2999).sendsNothing();
    s.at(3000).sends({ flags: SYN, seq: 0 });
    assert.equal(s.conn.retransmissions, 2);
    s.at(3010).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: PEER_SYN_OPTIONS });
    assert.equal(s.conn.state, 'ESTABLISHED');
    assert.equal(s.conn.srttMs, undefined, "Karn's rule: no sample from a retransmitted SYN");
  });

  test('the connect timeout ends the attempt with a TimeoutError', () => {
    const s = synSent({ connectTimeoutMs: 5000 });
    s.at(5000);
    assert.equal(s.conn.state, 'CLOSED');
    const [closed] = s.events();
    assert.equal(closed?.type, 'closed');
    assert.equal(closed?.type === 'closed' ? closed.error?.code : undefined, 'ERR_SOCKIT_TIMEOUT');
    assert.equal(s.conn.pollTimeout(), undefined, 'no timer left behind');
  });

  test('RST+ACK acknowledging the SYN means refused', () => {
    const s = synSent();
    s.at(5).peer({ flags: RST | ACK, seq: 0, ack: 1 });
    assert.equal(s.conn.state, 'CLOSED');
    const [closed] = s.events();
    assert.ok(closed?.type === 'closed' && closed.error?.code === 'ERR_SOCKIT_CONNECTION_REFUSED');
  });

  test('a RST with an unacceptable ACK is ignored', () => {
    const s = synSent();
    s.at(5).peer({ flags: RST | ACK, seq: 0, ack: 77 });
    assert.equal(s.conn.state, 'SYN_SENT');
    s.sendsNothing();
  });

  test('a SYN+ACK acknowledging something we never sent gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const s = synSent();
    s.at(5).peer({ flags: SYN | ACK, seq: 0, ack: 500 });
    assert.equal(s.conn.state, 'SYN_SENT');
    s.sends({ flags: RST, seq: 500 });
  });

  test('simultaneous open: SYN in SYN_SENT → SYN_RECEIVED, SYN+ACK, then ESTABLISHED (RFC 9293 §3.5 fig. 8)', () => {
    const s = synSent();
    s.at(5).peer({ flags: SYN, seq: 0, options: PEER_SYN_OPTIONS });
    assert.equal(s.conn.state, 'SYN_RECEIVED');
    s.sends({ flags: SYN | ACK, seq: 0, ack: 1 });
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1 });
    // The peer's SYN+ACK repeats its SYN (already acknowledged): we answer with an ACK.
    s.sends({ flags: ACK, seq: 1, ack: 1 });
    s.peer({ flags: ACK, seq: 1, ack: 1 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    assert.deepEqual(s.eventTypes(), ['connected']);
  });

  test('the send MSS is the smaller of ours and the peer’s; 536 without the option (RFC 9293 §3.7.1)', () => {
    const a = synSent();
    a.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: { mss: 600 } });
    assert.equal(a.conn.mss, 600);
    const b = synSent();
    b.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1 });
    assert.equal(b.conn.mss, 536);
    assert.equal(b.conn.sackEnabled, false, 'no SACK-permitted from the peer, no SACK');
  });

  test('data written before the handshake completes leaves right after it', () => {
    const s = synSent();
    assert.equal(s.conn.write(new Uint8Array(100)), 100);
    s.sendsNothing();
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: PEER_SYN_OPTIONS });
    s.sends({ flags: ACK, seq: 1, ack: 1, payload: 100 });
  });

  test('shutdown before the handshake completes sends the FIN after it (socket.end() right after connect)', () => {
    const s = synSent();
    s.conn.write(new Uint8Array(10));
    s.conn.shutdown();
    s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: PEER_SYN_OPTIONS });
    assert.equal(s.conn.state, 'FIN_WAIT_1');
    s.sends({ flags: FIN | ACK, seq: 1, ack: 1, payload: 10 });
  });
});

describe('SYN_RECEIVED', () => {
  test('the ACK of our SYN+ACK establishes the connection', () => {
    const s = synReceived();
    s.at(10).peer({ flags: ACK, seq: 1, ack: 1 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    assert.deepEqual(s.eventTypes(), ['connected']);
    s.sendsNothing();
  });

  test('lost SYN+ACK: retransmitted on RTO, and again when the peer repeats its SYN', () => {
    const s = synReceived();
    s.at(1000).sends({ flags: SYN | ACK, seq: 0, ack: 1 });
    s.at(1500).peer({ flags: SYN, seq: 0, options: PEER_SYN_OPTIONS });
    s.sends({ flags: SYN | ACK, seq: 0, ack: 1 });
    assert.equal(s.conn.state, 'SYN_RECEIVED');
    assert.equal(s.conn.retransmissions, 2);
  });

  test('lost final ACK: the peer’s first data segment (with ACK) establishes the connection', () => {
    const s = synReceived();
    s.at(10).peer({ flags: ACK, seq: 1, ack: 1, payload: 5 });
    assert.equal(s.conn.state, 'ESTABLISHED');
    assert.deepEqual(s.eventTypes(), ['connected', 'readable']);
    assert.equal(s.readAll().length, 5);
  });

  test('lost final ACK on the active side: the repeated SYN+ACK is re-acknowledged', () => {
    const s = established();
    s.at(1000).peer({ flags: SYN | ACK, seq: 0, ack: 1 });
    s.sends({ flags: ACK, seq: 1, ack: 1 });
    assert.equal(s.conn.state, 'ESTABLISHED');
  });

  test('an ACK of something we never sent gets a RST and changes nothing', () => {
    const s = synReceived();
    s.at(10).peer({ flags: ACK, seq: 1, ack: 9 });
    s.sends({ flags: RST, seq: 9 });
    assert.equal(s.conn.state, 'SYN_RECEIVED');
  });

  test('RST in SYN_RECEIVED closes the passive connection', () => {
    const s = synReceived();
    s.at(10).peer({ flags: RST, seq: 1 });
    assert.equal(s.conn.state, 'CLOSED');
    assert.equal(s.conn.pollTimeout(), undefined);
  });

  test('FIN with the handshake ACK goes straight to CLOSE_WAIT', () => {
    const s = synReceived();
    s.at(10).peer({ flags: ACK | FIN, seq: 1, ack: 1, payload: 3 });
    assert.equal(s.conn.state, 'CLOSE_WAIT');
    assert.deepEqual(s.eventTypes(), ['connected', 'readable', 'peer-closed']);
    s.sends({ flags: ACK, seq: 1, ack: 5 });
  });
});
