/**
 * Scenario tests of the closing states (RFC 9293 §3.6, §3.10.7.4): FIN_WAIT_1, FIN_WAIT_2,
 * CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT; a lost FIN in each; simultaneous close; half-close;
 * TIME_WAIT re-ACK of a retransmitted FIN and 2·MSL; RST in each state; close() and abort().
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, RST, bytes, closeWait, closing, established, finWait1, finWait2, lastAck, synReceived, synSent, timeWait } from './scenario-kit.js';

const MSL = 2000;

describe('FIN_WAIT_1', () => {
  test('the ACK of our FIN moves to FIN_WAIT_2', () => {
    const s = finWait1();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 2 });
    assert.equal(s.conn.state, 'FIN_WAIT_2');
    s.sendsNothing();
  });

  test('lost FIN: retransmitted on RTO (SRTT 10 ms from the handshake: RTO is the 200 ms minimum)', () => {
    const s = finWait1();
    s.at(209).sendsNothing();
    s.at(210).sends({ flags: FIN | ACK, seq: 1, ack: 1 });
    assert.equal(s.conn.retransmissions, 1);
  });

  test('FIN+ACK acknowledging our FIN goes straight to TIME_WAIT', () => {
    const s = finWait1();
    s.at(20).peer({ flags: FIN | ACK, seq: 1, ack: 2 });
    assert.equal(s.conn.state, 'TIME_WAIT');
    s.sends({ flags: ACK, seq: 2, ack: 2 });
  });

  test('half-close: data keeps arriving after our FIN', () => {
    const s = finWait1();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 2, payload: bytes(30) });
    assert.equal(s.conn.state, 'FIN_WAIT_2');
    assert.deepEqual(Buffer.from(s.readAll()), Buffer.from(bytes(30)));
  });

  test('queued data goes before the FIN, the FIN rides on the last segment', () => {
    const s = established();
    s.conn.setNoDelay(true);
    s.conn.write(bytes(1500));
    s.conn.shutdown();
    assert.equal(s.conn.state, 'FIN_WAIT_1');
    s.sends({ flags: ACK, seq: 1, payload: 1000 });
    s.sends({ flags: ACK | FIN, seq: 1001, payload: 500 });
    s.at(30).peer({ flags: ACK, seq: 1, ack: 1501 });
    assert.equal(s.conn.state, 'FIN_WAIT_1', 'the FIN itself is not yet acknowledged');
    s.peer({ flags: ACK, seq: 1, ack: 1502 });
    assert.equal(s.conn.state, 'FIN_WAIT_2');
  });
});

describe('FIN_WAIT_2', () => {
  test('the peer’s FIN moves to TIME_WAIT, is acknowledged, and the app sees peer-closed then closed', () => {
    const s = finWait2();
    s.events();
    s.at(30).peer({ flags: FIN | ACK, seq: 1, ack: 2 });
    assert.equal(s.conn.state, 'TIME_WAIT');
    s.sends({ flags: ACK, seq: 2, ack: 2 });
    assert.deepEqual(s.eventTypes(), ['peer-closed', 'closed']);
  });

  test('after close(), FIN_WAIT_2 gives up after finWait2TimeoutMs', () => {
    const s = finWait1({ finWait2TimeoutMs: 5000 });
    s.conn.close();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 2 });
    assert.equal(s.conn.state, 'FIN_WAIT_2');
    s.at(5020);
    assert.equal(s.conn.state, 'CLOSED');
  });

  test('after shutdown() only, FIN_WAIT_2 waits for the peer without a timer', () => {
    const s = finWait2();
    assert.equal(s.conn.pollTimeout(), undefined);
  });
});

describe('CLOSE_WAIT and LAST_ACK', () => {
  test('half-close: in CLOSE_WAIT we still send data', () => {
    const s = closeWait();
    s.conn.write(bytes(20));
    s.sends({ flags: ACK, seq: 1, ack: 2, payload: 20 });
  });

  test('shutdown in CLOSE_WAIT sends FIN: LAST_ACK; its ACK: CLOSED with a clean closed event', () => {
    const s = lastAck();
    s.at(30).peer({ flags: ACK, seq: 2, ack: 2 });
    assert.equal(s.conn.state, 'CLOSED');
    assert.deepEqual(s.events(), [{ type: 'closed' }]);
    assert.equal(s.conn.pollTimeout(), undefined, 'no timer left behind');
  });

  test('lost FIN in LAST_ACK: retransmitted on RTO', () => {
    const s = lastAck();
    s.at(219).sendsNothing();
    s.at(220).sends({ flags: FIN | ACK, seq: 1, ack: 2 });
  });

  test('the peer’s retransmitted FIN in CLOSE_WAIT is re-acknowledged', () => {
    const s = closeWait();
    s.at(500).peer({ flags: FIN | ACK, seq: 1, ack: 1 });
    s.sends({ flags: ACK, seq: 1, ack: 2 });
    assert.equal(s.conn.state, 'CLOSE_WAIT');
  });
});

describe('CLOSING (simultaneous close)', () => {
  test('the ACK of our FIN moves CLOSING to TIME_WAIT', () => {
    const s = closing();
    s.at(40).peer({ flags: ACK, seq: 2, ack: 2 });
    assert.equal(s.conn.state, 'TIME_WAIT');
  });

  test('the peer’s FIN arriving while our FIN still waits behind data: CLOSING sends the rest and the FIN', () => {
    // Regression: CLOSING sent nothing new, so data queued before shutdown() and our FIN never left
    // (found by the duplex sweep: both ends stuck, one in CLOSING, one in FIN_WAIT_2).
    const s = established();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 1, window: 1000 });
    s.conn.write(bytes(3000));
    s.conn.shutdown();
    s.sends({ flags: ACK, seq: 1, payload: 1000 });
    s.sendsNothing();
    s.at(40).peer({ flags: ACK | FIN, seq: 1, ack: 1001, window: 4000 });
    assert.equal(s.conn.state, 'CLOSING');
    s.sends({ flags: ACK, seq: 1001, ack: 2, payload: 1000 });
    s.sends({ flags: ACK | FIN, seq: 2001, ack: 2, payload: 1000 });
    s.at(60).peer({ flags: ACK, seq: 2, ack: 3002 });
    assert.equal(s.conn.state, 'TIME_WAIT');
  });

  test('lost FIN in CLOSING: ours is retransmitted on RTO', () => {
    const s = closing();
    s.at(210).sends({ flags: FIN | ACK, seq: 1, ack: 2 });
    s.at(220).peer({ flags: ACK, seq: 2, ack: 2 });
    assert.equal(s.conn.state, 'TIME_WAIT');
  });
});

describe('TIME_WAIT', () => {
  test('lasts 2·MSL, then CLOSED with no timer left', () => {
    const s = timeWait();
    s.at(30 + 2 * MSL - 1);
    assert.equal(s.conn.state, 'TIME_WAIT');
    s.at(30 + 2 * MSL);
    assert.equal(s.conn.state, 'CLOSED');
    assert.equal(s.conn.pollTimeout(), undefined);
  });

  test('a retransmitted FIN is re-acknowledged and restarts the 2·MSL timer', () => {
    const s = timeWait();
    s.at(1000).peer({ flags: FIN | ACK, seq: 1, ack: 2 });
    s.sends({ flags: ACK, seq: 2, ack: 2 });
    s.at(30 + 2 * MSL);
    assert.equal(s.conn.state, 'TIME_WAIT', 'restarted at t=1000');
    s.at(1000 + 2 * MSL);
    assert.equal(s.conn.state, 'CLOSED');
  });

  test('a RST is ignored (RFC 1337)', () => {
    const s = timeWait();
    s.at(100).peer({ flags: RST, seq: 2 });
    assert.equal(s.conn.state, 'TIME_WAIT');
  });

  test('the MSL is configurable', () => {
    const s = timeWait({ mslMs: 100 });
    s.at(230);
    assert.equal(s.conn.state, 'CLOSED');
  });
});

describe('RST in each state', () => {
  const cases = [
    { name: 'SYN_RECEIVED', make: () => synReceived(), seq: 1, error: 'ERR_SOCKIT_CONNECTION_RESET' },
    { name: 'ESTABLISHED', make: () => established(), seq: 1, error: 'ERR_SOCKIT_CONNECTION_RESET' },
    { name: 'FIN_WAIT_1', make: () => finWait1(), seq: 1, error: 'ERR_SOCKIT_CONNECTION_RESET' },
    { name: 'FIN_WAIT_2', make: () => finWait2(), seq: 1, error: 'ERR_SOCKIT_CONNECTION_RESET' },
    { name: 'CLOSE_WAIT', make: () => closeWait(), seq: 2, error: 'ERR_SOCKIT_CONNECTION_RESET' },
    { name: 'CLOSING', make: () => closing(), seq: 2, error: undefined },
    { name: 'LAST_ACK', make: () => lastAck(), seq: 2, error: undefined },
  ];
  for (const c of cases) {
    test(`${c.name}: a RST at RCV.NXT closes${c.error === undefined ? ' without error' : ` with ${c.error}`}`, () => {
      const s = c.make();
      assert.equal(s.conn.state, c.name);
      s.events();
      s.at(Math.max(s.now, 50)).peer({ flags: RST, seq: c.seq });
      assert.equal(s.conn.state, 'CLOSED');
      const closed = s.events().find((e) => e.type === 'closed');
      assert.ok(closed?.type === 'closed');
      assert.equal(closed.error?.code, c.error);
      assert.equal(s.conn.pollTimeout(), undefined);
    });
  }
});

describe('close() and abort()', () => {
  test('abort in ESTABLISHED sends RST seq=SND.NXT and closes at once', () => {
    const s = established();
    s.conn.abort();
    assert.equal(s.conn.state, 'CLOSED');
    s.sends({ flags: RST, seq: 1 });
    assert.deepEqual(s.events(), [{ type: 'closed' }]);
  });

  test('abort in SYN_SENT sends nothing', () => {
    const s = synSent();
    s.conn.abort();
    s.sendsNothing();
    assert.equal(s.conn.state, 'CLOSED');
  });

  test('close() with unread data resets the connection (RFC 2525 §2.17)', () => {
    const s = established();
    s.at(50).peer({ flags: ACK, seq: 1, ack: 1, payload: 10 });
    s.conn.close();
    assert.equal(s.conn.state, 'CLOSED');
    s.sends({ flags: RST, seq: 1 });
  });

  test('data arriving after close() is answered with RST', () => {
    const s = finWait1();
    s.conn.close();
    s.at(20).peer({ flags: ACK, seq: 1, ack: 2, payload: 10 });
    assert.equal(s.conn.state, 'CLOSED');
    s.sends({ flags: RST, seq: 2 });
  });

  test('close() in CLOSE_WAIT after reading everything is a clean LAST_ACK', () => {
    const s = closeWait();
    s.conn.close();
    assert.equal(s.conn.state, 'LAST_ACK');
    s.sends({ flags: FIN | ACK, seq: 1, ack: 2 });
  });
});
