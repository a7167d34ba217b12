// Congestion control: NewReno (RFC 5681 / 6582 / 3465) and CUBIC (RFC 9438), driven by an
// ack-clocked sender model: every ACK frees its bytes and the sender refills up to cwnd at once.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  newReno,
  newRenoConfig,
  cubic,
  cubicConfig,
  cubicWindowSegments,
  cubicK,
  initialWindowBytes,
  getCongestionController,
  isCongestionControllerName,
  CUBIC_C,
  RFC3465_ABC_LIMIT_SEGMENTS,
  type CongestionController,
  Cubic,
} from '../../src/rudp/congestion/index.js';

const MSS = 1000;

/** A bulk sender that always has data, one ACK per segment, all ACKs of a round spread over one RTT. */
class AckClockedSender {
  inFlight = 0;
  now = 0;
  readonly cc: CongestionController;
  readonly rttMs: number;
  constructor(cc: CongestionController, rttMs: number) {
    this.cc = cc;
    this.rttMs = rttMs;
  }

  fill(): number {
    let sent = 0;
    while (this.inFlight + MSS <= this.cc.window()) {
      this.inFlight += MSS;
      this.cc.onSent(this.now, MSS, this.inFlight);
      sent++;
    }
    return sent;
  }

  /** Acknowledges the segments in flight at the start, one ACK each, refilling after each; returns the window afterwards. */
  round(): number {
    if (this.inFlight === 0) this.fill();
    const segments = this.inFlight / MSS;
    const start = this.now;
    for (let i = 1; i <= segments; i++) {
      this.now = start + (this.rttMs * i) / segments;
      this.inFlight -= MSS;
      this.cc.onAck(this.now, MSS, this.inFlight, this.rttMs, false);
      this.fill();
    }
    return this.cc.window();
  }
}

describe('initial window', () => {
  test('RFC 6928: min(10·MSS, max(2·MSS, 14600))', () => {
    assert.equal(initialWindowBytes(1460), 14600);
    assert.equal(initialWindowBytes(1000), 10000);
    assert.equal(initialWindowBytes(9000), 18000);
    assert.equal(newReno.build(1460).window(), 14600);
    assert.equal(cubic.build(1460).window(), 14600);
  });

  test('RFC 5681: 4, 3 or 2 segments by MSS', () => {
    assert.equal(initialWindowBytes(536, 'rfc5681'), 4 * 536);
    assert.equal(initialWindowBytes(1460, 'rfc5681'), 3 * 1460);
    assert.equal(initialWindowBytes(4000, 'rfc5681'), 2 * 4000);
    assert.equal(newRenoConfig({ initialWindow: 'rfc5681' }).build(1460).window(), 3 * 1460);
    assert.equal(newRenoConfig({ initialWindow: 1 }).build(1200).window(), 1200);
  });

  test('names', () => {
    assert.equal(getCongestionController('cubic').name, 'cubic');
    assert.equal(getCongestionController('newreno').name, 'newreno');
    assert.equal(isCongestionControllerName('cubic'), true);
    assert.equal(isCongestionControllerName('bbr'), false);
  });
});

for (const config of [newReno, cubic]) {
  describe(`${config.name}: slow start`, () => {
    test('doubles cwnd every RTT and has no ssthresh before a loss', () => {
      const sender = new AckClockedSender(config.build(MSS), 50);
      const windows = [sender.cc.window()];
      for (let r = 0; r < 5; r++) windows.push(sender.round());
      assert.deepEqual(windows, [10, 20, 40, 80, 160, 320].map((s) => s * MSS));
      assert.equal(sender.cc.ssthresh(), Infinity);
    });

    test('a stretch ACK counts every byte by default, at most L segments when L is set (RFC 3465)', () => {
      // Regression: with L = 2 as default, ACKs covering 32 segments grew cwnd by 2 and bulk RUDP crawled.
      const cc = config.build(MSS);
      cc.onAck(0, 8 * MSS, 2 * MSS, 10, false);
      assert.equal(cc.window(), 18 * MSS);
      const limited = (config.name === 'cubic' ? cubicConfig : newRenoConfig)({ abcLimitSegments: RFC3465_ABC_LIMIT_SEGMENTS }).build(MSS);
      limited.onAck(0, 8 * MSS, 2 * MSS, 10, false);
      assert.equal(limited.window(), 12 * MSS);
    });

    test('does not grow an application-limited window (RFC 7661)', () => {
      const cc = config.build(MSS);
      // One segment in flight out of a ten-segment window, acknowledged over and over.
      for (let i = 0; i < 100; i++) cc.onAck(i, MSS, 0, 10, false);
      assert.equal(cc.window(), 10 * MSS);
    });

    test('no growth during recovery', () => {
      const cc = config.build(MSS);
      cc.onCongestionEvent(0, 10 * MSS);
      const w = cc.window();
      for (let i = 0; i < 20; i++) cc.onAck(i, MSS, w, 10, true);
      assert.equal(cc.window(), w);
      cc.onRecoveryEnd(20);
      assert.equal(cc.window(), w);
    });
  });
}

describe('newreno: loss', () => {
  test('fast retransmit: ssthresh = FlightSize/2, cwnd = ssthresh (RFC 5681 eq. 4, RFC 6675 §5)', () => {
    const cc = newReno.build(MSS);
    cc.onCongestionEvent(0, 40 * MSS);
    assert.equal(cc.ssthresh(), 20 * MSS);
    assert.equal(cc.window(), 20 * MSS);
  });

  test('ssthresh is never below 2·SMSS', () => {
    const cc = newReno.build(MSS);
    cc.onCongestionEvent(0, MSS);
    assert.equal(cc.ssthresh(), 2 * MSS);
    assert.equal(cc.window(), 2 * MSS);
  });

  test('congestion avoidance adds one SMSS per window acknowledged, whatever the ACK size (RFC 3465 §2.1)', () => {
    const cc = newReno.build(MSS);
    cc.onCongestionEvent(0, 40 * MSS);
    const sender = new AckClockedSender(cc, 50);
    const windows = [cc.window()];
    for (let r = 0; r < 4; r++) windows.push(sender.round());
    assert.deepEqual(windows, [20, 21, 22, 23, 24].map((s) => s * MSS));

    const delayed = newReno.build(MSS);
    delayed.onCongestionEvent(0, 40 * MSS);
    // Ten ACKs of two segments each, with the window full before each.
    for (let i = 0; i < 10; i++) delayed.onAck(i, 2 * MSS, 18 * MSS, 10, false);
    assert.equal(delayed.window(), 21 * MSS);
  });

  test('RTO: cwnd = 1 SMSS, ssthresh = FlightSize/2; a repeated RTO keeps ssthresh; slow start back to ssthresh then linear', () => {
    const cc = newReno.build(MSS);
    cc.onRto(0, 16 * MSS);
    assert.equal(cc.window(), MSS);
    assert.equal(cc.ssthresh(), 8 * MSS);
    // The retransmission times out again: only one segment is in flight now, ssthresh stays (RFC 5681 §3.1).
    cc.onRto(1000, MSS);
    assert.equal(cc.ssthresh(), 8 * MSS);
    assert.equal(cc.window(), MSS);
    const sender = new AckClockedSender(cc, 50);
    const windows = [];
    for (let r = 0; r < 6; r++) windows.push(sender.round());
    assert.deepEqual(windows, [2, 4, 8, 9, 10, 11].map((s) => s * MSS));
  });
});

describe('cubic: RFC 9438', () => {
  // A sender whose window has grown to 100 segments.
  const at100 = (): Cubic => cubicConfig({ initialWindow: 100 }).build(MSS) as Cubic;
  /** CUBIC at 100 segments, one loss, the lost window drained: the start of a congestion-avoidance epoch. */
  const afterLossAt100 = (rttMs: number): { cc: Cubic; sender: AckClockedSender } => {
    const cc = at100();
    const sender = new AckClockedSender(cc, rttMs);
    sender.inFlight = 100 * MSS;
    cc.onCongestionEvent(0, sender.inFlight);
    sender.inFlight = cc.window();
    return { cc, sender };
  };

  test('multiplicative decrease by beta = 0.7 and K from eq. 2', () => {
    const cc = at100();
    cc.onCongestionEvent(0, 100 * MSS);
    assert.equal(cc.ssthresh(), 70 * MSS);
    assert.equal(cc.window(), 70 * MSS);
    assert.equal(cc.wMaxSegments, 100);
    // The epoch (and K) starts with the first ACK of congestion avoidance.
    cc.onAck(10, MSS, 69 * MSS, 100, false);
    assert.ok(Math.abs(cc.kSeconds - Math.cbrt(30 / 0.4)) < 1e-9);
    assert.equal(cubicK(100, 70), Math.cbrt(75));
  });

  test('cwnd follows W_cubic(t) = C(t−K)³ + W_max, lagging and leading it by at most one RTT', () => {
    // A long RTT keeps the Reno-friendly estimate (alpha ≈ 0.53 segments per RTT) below the curve.
    const rttMs = 250;
    // Recovery: the lost window drains without growth.
    const { cc, sender } = afterLossAt100(rttMs);
    const epochStartMs = sender.now + rttMs / (cc.window() / MSS);
    const k = cubicK(100, 70);
    let checked = 0;
    let plateau = 0;
    for (let r = 0; r < 40; r++) {
      const w = sender.round() / MSS;
      const t = (sender.now - epochStartMs) / 1000;
      const low = cubicWindowSegments(t - rttMs / 1000, k, 100);
      const high = cubicWindowSegments(t + rttMs / 1000, k, 100);
      assert.ok(w >= Math.min(low, 70) - 1e-6 && w <= high + 1, `t=${t.toFixed(2)}s cwnd=${w.toFixed(2)} outside [${low.toFixed(2)}, ${high.toFixed(2)}]`);
      if (Math.abs(t - k) < rttMs / 1000) plateau = w;
      checked++;
    }
    assert.equal(checked, 40);
    // At t = K the curve is at W_max.
    assert.ok(Math.abs(plateau - 100) < 1, `cwnd at K was ${plateau}`);
    // Past K it grows convexly: after 10 s, W_cubic(10) = 0.4·(10−K)³ + 100 ≈ 177.
    assert.ok(cc.window() / MSS > 100 + CUBIC_C * (9.75 - k) ** 3);
  });

  test('Reno-friendly region: with a short RTT cwnd grows at least as fast as W_est (alpha = 3(1−β)/(1+β))', () => {
    const rttMs = 2;
    const { cc, sender } = afterLossAt100(rttMs);
    const rounds = 40;
    for (let r = 0; r < rounds; r++) sender.round();
    const alpha = (3 * 0.3) / 1.7;
    // W_est grows by alpha per RTT; W_cubic after 80 ms is still ~70 segments.
    const cubicOnly = cubicWindowSegments((rounds * rttMs) / 1000 + rttMs / 1000, cubicK(100, 70), 100);
    assert.ok(cubicOnly < 72);
    assert.ok(cc.window() / MSS >= 70 + alpha * rounds - 1, `cwnd ${cc.window() / MSS}`);
    assert.ok(cc.window() / MSS <= 70 + alpha * rounds + 1, `cwnd ${cc.window() / MSS}`);
  });

  test('fast convergence: a loss below W_max sets W_max = cwnd·(1+β)/2', () => {
    const cc = at100();
    cc.onCongestionEvent(0, 100 * MSS);
    cc.onCongestionEvent(1000, 70 * MSS);
    assert.ok(Math.abs(cc.wMaxSegments - (70 * 1.7) / 2) < 1e-9);
    const slow = cubicConfig({ fastConvergence: false, initialWindow: 100 }).build(MSS) as Cubic;
    slow.onCongestionEvent(0, 100 * MSS);
    slow.onCongestionEvent(1000, 70 * MSS);
    assert.equal(slow.wMaxSegments, 70);
  });

  test('RTO: cwnd = 1 SMSS, ssthresh = β·flight; the next epoch has K = 0 and W_max = cwnd_epoch (§4.8)', () => {
    const cc = cubicConfig({ initialWindow: 40 }).build(MSS) as Cubic;
    const sender = new AckClockedSender(cc, 50);
    cc.onRto(0, 40 * MSS);
    assert.equal(cc.window(), MSS);
    assert.equal(cc.ssthresh(), 28 * MSS);
    cc.onRto(500, MSS);
    assert.equal(cc.ssthresh(), 28 * MSS);
    const windows = [];
    for (let r = 0; r < 5; r++) windows.push(sender.round() / MSS);
    // Slow start 1 → 2 → 4 → 8 → 16 → 28 (capped at ssthresh; the round's last ACKs are already in
    // congestion avoidance).
    assert.deepEqual(windows.slice(0, 4), [2, 4, 8, 16]);
    assert.ok(windows[4]! >= 28 && windows[4]! < 29, `cwnd ${windows[4]}`);
    sender.round();
    assert.equal(cc.kSeconds, 0);
    assert.equal(cc.wMaxSegments, 28);
    assert.ok(cc.window() > 28 * MSS);
  });
});
