/**
 * The endpoint: RST for strays (RFC 9293 §3.10.7.1), listen/accept, checksum and malformed drops,
 * backlog, several connections to one peer, and a whole connection between two endpoints on a tiny
 * lossless virtual network (1 ms each way) with its trace.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { RudpEndpoint, type RudpConfig } from '../../src/rudp/endpoint.js';
import type { RudpConnection } from '../../src/rudp/connection.js';
import type { DatagramAddress } from '../../src/rudp/datagram-endpoint.js';
import { formatTraceEvent, type TraceEvent } from '../../src/rudp/trace.js';
import { decodeSegment, encodeSegmentToBytes } from '../../src/rudp/wire/segment-codec.js';
import { Flags, type Segment } from '../../src/rudp/wire/segment.js';
import { bytes } from './scenario-kit.js';

const A = { host: '10.0.0.1', port: 4000 };
const B = { host: '10.0.0.2', port: 7000 };

function endpoint(local: DatagramAddress, extra: Partial<RudpConfig> = {}): RudpEndpoint {
  return new RudpEndpoint({ local, isnKey: new Uint8Array(16).fill(local.port & 0xff), rng: createRng(local.port), ...extra });
}

function segment(over: Partial<Segment>): Uint8Array {
  return encodeSegmentToBytes({ srcPort: A.port, dstPort: B.port, seq: 100, ack: 0, flags: 0, window: 1000, urgentPointer: 0, options: {}, payload: new Uint8Array(0), ...over });
}

function drain(ep: RudpEndpoint, now: number): Segment[] {
  const out: Segment[] = [];
  for (let t = ep.pollTransmit(now); t !== undefined; t = ep.pollTransmit(now)) out.push(decodeSegment(t.bytes));
  return out;
}

describe('strays', () => {
  test('a segment with ACK for no connection gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const ep = endpoint(B);
    ep.handleDatagram(0, segment({ flags: Flags.ACK, seq: 100, ack: 555, payload: bytes(3) }), A);
    const [rst] = drain(ep, 0);
    assert.deepEqual([rst?.flags, rst?.seq, rst?.srcPort, rst?.dstPort], [Flags.RST, 555, B.port, A.port]);
    assert.equal(ep.counters.resetsSent, 1);
  });

  test('a SYN to an endpoint that does not listen gets RST+ACK ack=SEG.SEQ+1 (connection refused)', () => {
    const ep = endpoint(B);
    ep.handleDatagram(0, segment({ flags: Flags.SYN, seq: 0xffff_ffff }), A);
    const [rst] = drain(ep, 0);
    assert.deepEqual([rst?.flags, rst?.seq, rst?.ack], [Flags.RST | Flags.ACK, 0, 0]);
  });

  test('a RST for no connection is not answered', () => {
    const ep = endpoint(B);
    ep.handleDatagram(0, segment({ flags: Flags.RST }), A);
    assert.deepEqual(drain(ep, 0), []);
  });

  test('a corrupt datagram is dropped and counted; a malformed one too; nothing is sent', () => {
    const ep = endpoint(B);
    const bad = segment({ flags: Flags.ACK, ack: 5 });
    bad[bad.length - 1]! ^= 0x40;
    ep.handleDatagram(0, bad, A);
    ep.handleDatagram(0, new Uint8Array([1, 2, 3]), A);
    assert.deepEqual(drain(ep, 0), []);
    assert.deepEqual([ep.counters.badChecksums, ep.counters.malformed], [1, 1]);
  });
});

/** Two endpoints joined by a lossless 1 ms link, on a virtual clock. */
class Pair {
  now = 0;
  readonly queue: Array<{ at: number; to: RudpEndpoint; from: DatagramAddress; bytes: Uint8Array }> = [];
  readonly a: RudpEndpoint;
  readonly b: RudpEndpoint;
  readonly corruptEvery: number;
  #sent = 0;

  constructor(a: RudpEndpoint, b: RudpEndpoint, corruptEvery = 0) {
    this.a = a;
    this.b = b;
    this.corruptEvery = corruptEvery;
  }

  /** Moves datagrams and timers until nothing is left or `drive` is satisfied, at most `limitMs`. */
  run(drive: () => void, limitMs = 600_000): void {
    for (;;) {
      drive();
      for (const [ep, peer, from] of [[this.a, this.b, A], [this.b, this.a, B]] as const) {
        for (let t = ep.pollTransmit(this.now); t !== undefined; t = ep.pollTransmit(this.now)) {
          this.#sent++;
          const copy = Uint8Array.from(t.bytes);
          if (this.corruptEvery > 0 && this.#sent % this.corruptEvery === 0) copy[copy.length - 1]! ^= 1;
          this.queue.push({ at: this.now + 1, to: peer, from, bytes: copy });
        }
      }
      const next = Math.min(this.queue[0]?.at ?? Infinity, this.a.pollTimeout() ?? Infinity, this.b.pollTimeout() ?? Infinity);
      if (next === Infinity || next > limitMs) return;
      this.now = Math.max(this.now, next);
      while (this.queue.length > 0 && this.queue[0]!.at <= this.now) {
        const d = this.queue.shift()!;
        d.to.handleDatagram(this.now, d.bytes, d.from);
      }
      for (const ep of [this.a, this.b]) {
        const due = ep.pollTimeout();
        if (due !== undefined && due <= this.now) ep.handleTimeout(this.now);
      }
    }
  }
}

describe('listen and accept', () => {
  test('a SYN creates a connection, accepted once the handshake completes', () => {
    const server = endpoint(B);
    server.listen();
    server.handleDatagram(0, segment({ flags: Flags.SYN, seq: 100, options: { mss: 1200 } }), A);
    const [synAck] = drain(server, 0);
    assert.equal(synAck?.flags, Flags.SYN | Flags.ACK);
    assert.equal(synAck?.ack, 101);
    assert.equal(server.pollEvent(), undefined, 'not accepted before the handshake completes');
    server.handleDatagram(1, segment({ flags: Flags.ACK, seq: 101, ack: (synAck!.seq + 1) >>> 0 }), A);
    const accepted = server.pollEvent();
    assert.equal(accepted?.type, 'accepted');
    assert.equal(accepted?.connection.state, 'ESTABLISHED');
    assert.deepEqual(server.pollConnectionEvent()?.event, { type: 'connected' });
    assert.equal(server.connections, 1);
  });

  test('when the backlog is full, further SYNs are dropped', () => {
    const server = endpoint(B);
    server.listen(1);
    server.handleDatagram(0, segment({ flags: Flags.SYN, seq: 1 }), A);
    server.handleDatagram(0, segment({ flags: Flags.SYN, seq: 1, srcPort: 4001 }), A);
    assert.equal(server.counters.synsDropped, 1);
    assert.equal(drain(server, 0).length, 1);
  });
});

describe('whole connections between two endpoints', () => {
  function transfer(clientBytes: Uint8Array, serverBytes: Uint8Array, corruptEvery = 0) {
    const traceA: TraceEvent[] = [];
    const client = endpoint(A, { trace: (e) => traceA.push(e), mslMs: 500 });
    const server = endpoint(B, { mslMs: 500 });
    server.listen();
    const pair = new Pair(client, server, corruptEvery);
    const conn = client.connect(0, B);
    let accepted: RudpConnection | undefined;
    const got = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
    let sentC = 0;
    let sentS = 0;
    let serverPeerClosed = false;
    pair.run(() => {
      for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) accepted = e.connection;
      for (let e = server.pollConnectionEvent(); e !== undefined; e = server.pollConnectionEvent()) if (e.event.type === 'peer-closed') serverPeerClosed = true;
      for (let e = client.pollConnectionEvent(); e !== undefined; e = client.pollConnectionEvent()) void e;
      for (let c = conn.read(); c !== undefined; c = conn.read()) got.client.push(c);
      if (accepted !== undefined) for (let c = accepted.read(); c !== undefined; c = accepted.read()) got.server.push(c);
      if (conn.state === 'ESTABLISHED' && sentC < clientBytes.length) sentC += conn.write(clientBytes.subarray(sentC));
      if (conn.state === 'ESTABLISHED' && sentC === clientBytes.length) conn.shutdown();
      if (accepted !== undefined && serverPeerClosed && accepted.state === 'CLOSE_WAIT') {
        if (sentS < serverBytes.length) sentS += accepted.write(serverBytes.subarray(sentS));
        if (sentS === serverBytes.length) accepted.close();
      }
    });
    return { client, server, conn, accepted, got, traceA, pair };
  }

  test('a request and a reply arrive whole; both ends reach CLOSED; no timer is left', () => {
    const up = bytes(300_000, 7);
    const down = bytes(120_000, 3);
    const r = transfer(up, down);
    assert.deepEqual(Buffer.concat(r.got.server), Buffer.from(up));
    assert.deepEqual(Buffer.concat(r.got.client), Buffer.from(down));
    assert.equal(r.conn.state, 'CLOSED');
    assert.equal(r.accepted?.state, 'CLOSED');
    assert.ok(r.client.isIdle && r.server.isIdle);
    assert.equal(r.client.connections + r.server.connections, 0);
    assert.equal(r.conn.retransmissions, 0, 'a lossless link needs no retransmission');
  });

  test('corrupted datagrams are dropped, counted and recovered from', () => {
    const up = bytes(50_000, 1);
    const r = transfer(up, bytes(10), 7);
    assert.deepEqual(Buffer.concat(r.got.server), Buffer.from(up));
    assert.ok(r.client.counters.badChecksums + r.server.counters.badChecksums > 0);
    assert.ok(r.conn.retransmissions + (r.accepted?.retransmissions ?? 0) > 0);
    assert.equal(r.conn.state, 'CLOSED');
  });

  test('the trace shows the handshake, the four-way close, TIME_WAIT and a closing counters line', () => {
    const r = transfer(bytes(10), bytes(10));
    const lines = r.traceA.map((e) => formatTraceEvent(e, 0));
    assert.equal(lines[0], '0.000 CLOSED → SYN_SENT');
    assert.ok(lines.some((l) => /^0\.000 → SYN seq=\d+ win=65535 mss=1200 wscale=5 sackOK ts=\d+\/0 \[SYN_SENT\]$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^0\.002 ← SYN\+ACK seq=\d+ ack=\d+ win=\d+ .*\[ESTABLISHED\]$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /→ FIN\+ACK .*\[FIN_WAIT_1\]$/.test(l)));
    assert.ok(lines.some((l) => / FIN_WAIT_2 → TIME_WAIT$/.test(l)));
    assert.ok(lines.some((l) => / TIME_WAIT → CLOSED$/.test(l)));
    assert.match(lines[lines.length - 1]!, /closed: sent 10 B in \d+ segments, received 10 B in \d+ segments, 0 retransmissions, rtt \d+\.\d ms, cwnd \d+ B$/);
  });

  test('two connections from one endpoint to the same peer use different header ports', () => {
    const client = endpoint(A);
    const server = endpoint(B);
    server.listen();
    const c1 = client.connect(0, B);
    const c2 = client.connect(0, B);
    assert.notEqual(c1.localPort, c2.localPort);
    const pair = new Pair(client, server);
    const accepted: RudpConnection[] = [];
    pair.run(() => {
      for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) accepted.push(e.connection);
    }, 100);
    assert.equal(accepted.length, 2);
    assert.equal(c1.state, 'ESTABLISHED');
    assert.equal(c2.state, 'ESTABLISHED');
  });
});
