/**
 * A small scripting kit for RUDP scenario tests (smoltcp's style, packetdrill's idea): a connection
 * under test in a named starting state, "the peer sends X at t=…" and "we send Y" steps with segment
 * templates, on a clock the script moves by hand. No sockets: the connection is sans-IO.
 *
 * Sequence numbers in templates are offsets: `seq: 1` from us means OUR_ISS + 1, from the peer
 * PEER_ISS + 1. Options are compared only when the template names them.
 */
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { resolveConfig, type RudpConfig } from '../../src/rudp/config.js';
import { RudpConnection, type ConnectionEvent } from '../../src/rudp/connection.js';
import { formatTraceEvent, type TraceEvent } from '../../src/rudp/trace.js';
import { Flags, type Segment, type SegmentOptions } from '../../src/rudp/wire/segment.js';
import { seqAdd } from '../../src/rudp/wire/seq.js';

export { Flags };

/** Our initial sequence number in scripts (unless a test picks another). */
export const OUR_ISS = 1000;
/** The peer's initial sequence number in scripts. */
export const PEER_ISS = 5000;
export const LOCAL = { host: '10.0.0.1', port: 4000 };
export const REMOTE = { host: '10.0.0.2', port: 7000 };
export const MSS = 1000;

/** What a step says about a segment. seq/ack are offsets from the sender's ISS. */
export interface Template {
  flags: number;
  seq?: number;
  ack?: number;
  window?: number;
  payload?: Uint8Array | number;
  options?: SegmentOptions;
}

/** Bytes 0, 1, 2, … of length `n` starting at `from` (mod 256): recognisable payloads. */
export function bytes(n: number, from = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (from + i) & 0xff;
  return out;
}

/** Initial sequence numbers (and our timestamp offset) of a script. */
export interface Isn {
  ours?: number;
  peer?: number;
  tsOffset?: number;
}

/** A connection under test and its clock. */
export class Script {
  readonly conn: RudpConnection;
  readonly ourIss: number;
  readonly peerIss: number;
  readonly traces: TraceEvent[] = [];
  now = 0;

  constructor(open: 'active' | 'passive', config: Partial<RudpConfig> = {}, isn: Isn = {}) {
    this.ourIss = isn.ours ?? OUR_ISS;
    this.peerIss = isn.peer ?? PEER_ISS;
    const cfg = resolveConfig({
      local: LOCAL,
      isnKey: new Uint8Array(16),
      rng: createRng(1),
      mss: MSS,
      timestamps: false,
      windowScaling: false,
      receiveBufferBytes: 64 * 1024,
      sendBufferBytes: 64 * 1024,
      trace: (e) => this.traces.push(e),
      ...config,
    });
    this.conn = new RudpConnection({
      id: 1,
      config: cfg,
      remote: REMOTE,
      localPort: LOCAL.port,
      remotePort: REMOTE.port,
      iss: this.ourIss,
      tsOffset: isn.tsOffset ?? 0,
      open,
      now: 0,
    });
  }

  /** The peer sends a segment at the current time. */
  peer(t: Template): this {
    const payload = typeof t.payload === 'number' ? bytes(t.payload) : (t.payload ?? new Uint8Array(0));
    const seg: Segment = {
      srcPort: REMOTE.port,
      dstPort: LOCAL.port,
      seq: seqAdd(this.peerIss, t.seq ?? 0),
      ack: (t.flags & Flags.ACK) !== 0 ? seqAdd(this.ourIss, t.ack ?? 0) : 0,
      flags: t.flags,
      window: t.window ?? 65535,
      urgentPointer: 0,
      options: t.options ?? {},
      payload,
    };
    this.conn.handleSegment(this.now, seg);
    return this;
  }

  /** Moves the clock to `t` ms, running every timer due on the way. */
  at(t: number): this {
    assert.ok(t >= this.now, `time goes forward only (now ${this.now}, asked ${t})`);
    for (;;) {
      const due = this.conn.pollTimeout();
      if (due === undefined || due > t) break;
      this.now = Math.max(this.now, due);
      this.conn.handleTimeout(this.now);
    }
    this.now = t;
    return this;
  }

  /** We send exactly one segment matching `t` now. Returns it. */
  sends(t: Template): Segment {
    const seg = this.conn.pollTransmit(this.now);
    assert.ok(seg !== undefined, `expected ${describe(t)} at t=${this.now}, but nothing was sent (state ${this.conn.state})`);
    match(seg, t, this.ourIss, this.peerIss, this.now);
    return seg;
  }

  /** We send nothing now. */
  sendsNothing(): this {
    const seg = this.conn.pollTransmit(this.now);
    assert.equal(seg, undefined, `expected silence at t=${this.now}, got ${seg === undefined ? '' : describeSeg(seg, this.ourIss, this.peerIss)}`);
    return this;
  }

  /** Every event queued since the last call. */
  events(): ConnectionEvent[] {
    const out: ConnectionEvent[] = [];
    for (let e = this.conn.pollEvent(); e !== undefined; e = this.conn.pollEvent()) out.push(e);
    return out;
  }

  /** The types of the events queued since the last call. */
  eventTypes(): string[] {
    return this.events().map((e) => e.type);
  }

  /** Everything readable now, concatenated. */
  readAll(): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let c = this.conn.read(); c !== undefined; c = this.conn.read()) parts.push(c);
    return Buffer.concat(parts);
  }

  /** The trace as readable lines. */
  traceLines(): string[] {
    return this.traces.map((e) => formatTraceEvent(e, 0));
  }
}

function describe(t: Template): string {
  return JSON.stringify({ ...t, payload: typeof t.payload === 'number' ? t.payload : t.payload?.length });
}

function describeSeg(seg: Segment, ourIss: number, peerIss: number): string {
  return JSON.stringify({
    flags: seg.flags,
    seq: (seg.seq - ourIss) >>> 0,
    ack: (seg.flags & Flags.ACK) !== 0 ? (seg.ack - peerIss) >>> 0 : undefined,
    window: seg.window,
    len: seg.payload.length,
    options: seg.options,
  });
}

function match(seg: Segment, t: Template, ourIss: number, peerIss: number, now: number): void {
  const what = `at t=${now}: got ${describeSeg(seg, ourIss, peerIss)}, expected ${describe(t)}`;
  assert.equal(seg.flags & ~Flags.PSH, t.flags & ~Flags.PSH, `flags ${what}`);
  if (t.seq !== undefined) assert.equal(seg.seq, seqAdd(ourIss, t.seq), `seq ${what}`);
  if (t.ack !== undefined) assert.equal(seg.ack, seqAdd(peerIss, t.ack), `ack ${what}`);
  if (t.window !== undefined) assert.equal(seg.window, t.window, `window ${what}`);
  if (typeof t.payload === 'number') assert.equal(seg.payload.length, t.payload, `payload length ${what}`);
  else if (t.payload !== undefined) assert.deepEqual(Buffer.from(seg.payload), Buffer.from(t.payload), `payload ${what}`);
  if (t.options !== undefined) assert.deepEqual(seg.options, t.options, `options ${what}`);
}

const { SYN, ACK, FIN, RST } = Flags;

/** Peer options in the handshake unless a test says otherwise: MSS and SACK-permitted. */
export const PEER_SYN_OPTIONS: SegmentOptions = { mss: MSS, sackPermitted: true };

/** LISTEN: a passive connection awaiting a SYN. */
export function listening(config: Partial<RudpConfig> = {}): Script {
  return new Script('passive', config);
}

/** SYN_SENT: an active open whose SYN just left at t=0. */
export function synSent(config: Partial<RudpConfig> = {}, isn: Isn = {}): Script {
  const s = new Script('active', config, isn);
  s.sends({ flags: SYN, seq: 0 });
  return s;
}

/** SYN_RECEIVED: the peer's SYN arrived at a listener, our SYN+ACK left. */
export function synReceived(config: Partial<RudpConfig> = {}, peerOptions: SegmentOptions = PEER_SYN_OPTIONS): Script {
  const s = listening(config);
  s.peer({ flags: SYN, seq: 0, options: peerOptions });
  s.sends({ flags: SYN | ACK, seq: 0, ack: 1 });
  return s;
}

/** ESTABLISHED (active side): handshake done at t=10, events consumed. */
export function established(config: Partial<RudpConfig> = {}, peerOptions: SegmentOptions = PEER_SYN_OPTIONS, isn: Isn = {}): Script {
  const s = synSent(config, isn);
  s.at(10).peer({ flags: SYN | ACK, seq: 0, ack: 1, options: peerOptions });
  s.sends({ flags: ACK, seq: 1, ack: 1 });
  assert.equal(s.conn.state, 'ESTABLISHED');
  s.events();
  return s;
}

/** FIN_WAIT_1: established, then shutdown(); our FIN (seq 1) left. */
export function finWait1(config: Partial<RudpConfig> = {}): Script {
  const s = established(config);
  s.conn.shutdown();
  s.sends({ flags: FIN | ACK, seq: 1, ack: 1 });
  assert.equal(s.conn.state, 'FIN_WAIT_1');
  return s;
}

/** FIN_WAIT_2: the peer acknowledged our FIN. */
export function finWait2(config: Partial<RudpConfig> = {}): Script {
  const s = finWait1(config);
  s.at(20).peer({ flags: ACK, seq: 1, ack: 2 });
  assert.equal(s.conn.state, 'FIN_WAIT_2');
  return s;
}

/** CLOSE_WAIT: the peer's FIN (seq 1) arrived and we acknowledged it. */
export function closeWait(config: Partial<RudpConfig> = {}): Script {
  const s = established(config);
  s.at(20).peer({ flags: FIN | ACK, seq: 1, ack: 1 });
  s.sends({ flags: ACK, seq: 1, ack: 2 });
  assert.equal(s.conn.state, 'CLOSE_WAIT');
  s.events();
  return s;
}

/** LAST_ACK: in CLOSE_WAIT we shut down; our FIN left. */
export function lastAck(config: Partial<RudpConfig> = {}): Script {
  const s = closeWait(config);
  s.conn.shutdown();
  s.sends({ flags: FIN | ACK, seq: 1, ack: 2 });
  assert.equal(s.conn.state, 'LAST_ACK');
  return s;
}

/** CLOSING: both FINs crossed (simultaneous close); ours not yet acknowledged. */
export function closing(config: Partial<RudpConfig> = {}): Script {
  const s = finWait1(config);
  s.at(20).peer({ flags: FIN | ACK, seq: 1, ack: 1 });
  s.sends({ flags: ACK, seq: 2, ack: 2 });
  assert.equal(s.conn.state, 'CLOSING');
  return s;
}

/** TIME_WAIT: from FIN_WAIT_2, the peer's FIN arrived at t=30 and we acknowledged it. */
export function timeWait(config: Partial<RudpConfig> = {}): Script {
  const s = finWait2(config);
  s.at(30).peer({ flags: FIN | ACK, seq: 1, ack: 2 });
  s.sends({ flags: ACK, seq: 2, ack: 2 });
  assert.equal(s.conn.state, 'TIME_WAIT');
  return s;
}

export { SYN, ACK, FIN, RST };
