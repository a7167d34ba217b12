/**
 * A RUDP endpoint: one UDP address, many connections. It decodes and checks datagrams, demultiplexes
 * segments to connections, runs listen/accept, and answers strays with RST.
 *
 * Read first: RFC 9293 §3.10.7.1 (segments for a CLOSED connection: RST), §3.10.7.2 (LISTEN),
 * RFC 6528 (initial sequence numbers), DESIGN.md "The sans-IO protocol core".
 *
 * A connection is identified by the peer's UDP address plus the two port fields of the TCP header,
 * so one UDP socket can carry several connections to the same peer (each `connect` to a peer that
 * already has one picks another header port).
 */
import type { Instant } from '../core/time.js';
import { isSockitError, RudpCodes } from '../errors.js';
import { resolveConfig, type ResolvedRudpConfig, type RudpConfig } from './config.js';
import { RudpConnection, type ConnectionEvent } from './connection.js';
import type { DatagramAddress, DatagramEndpoint, Transmit } from './datagram-endpoint.js';
import { initialSequenceNumber } from './isn.js';
import type { DropReason } from './trace.js';
import { decodeSegment, encodedLength, encodeSegment } from './wire/segment-codec.js';
import { SegmentView } from './wire/segment-view.js';
import { Flags, type Segment } from './wire/segment.js';
import { seqAdd } from './wire/seq.js';

export type { RudpConfig } from './config.js';

/** What an endpoint tells its driver. */
export type EndpointEvent = { type: 'accepted'; connection: RudpConnection };

/** Endpoint-wide counters (datagrams that never reached a connection). */
export interface EndpointCounters {
  datagramsReceived: number;
  datagramsSent: number;
  badChecksums: number;
  malformed: number;
  /** RSTs sent for segments that matched no connection. */
  resetsSent: number;
  /** SYNs dropped because the backlog or connection limit was full. */
  synsDropped: number;
}

/** Most RSTs for strays queued at once; beyond, strays are dropped unanswered (no amplification). */
export const MAX_PENDING_RESETS = 256;
/** RFC 6335 §6: the dynamic port range, for the header port of a second connection to one peer. */
const EPHEMERAL_PORT_MIN = 49152;
const EPHEMERAL_PORT_MAX = 65535;

/**
 * Outgoing datagrams are carved from slabs: the first is small (an endpoint that sends little, such
 * as one of many idle client connections, pins little memory), each next one twice the size, up to
 * about 50 full-sized segments.
 */
const MIN_SLAB_BYTES = 4 * 1024;
const MAX_SLAB_BYTES = 64 * 1024;

function keyOf(remote: DatagramAddress, localPort: number, remotePort: number): string {
  return `${remote.host}|${remote.port}|${localPort}|${remotePort}`;
}

/**
 * Many connections behind one UDP address. Sans-IO: the driver calls `handleDatagram`,
 * `handleTimeout`, and drains `pollTransmit`; connections are created by `connect()` or accepted
 * after `listen()` (see `pollEvent`); `pollConnectionEvent` yields every connection's events.
 */
export class RudpEndpoint implements DatagramEndpoint {
  readonly config: ResolvedRudpConfig;
  #listening = false;
  #backlog = 0;
  #nextId = 1;
  #byKey = new Map<string, RudpConnection>();
  #keys = new Map<RudpConnection, string>();
  #list: RudpConnection[] = [];
  #roundRobin = 0;
  #resets: Transmit[] = [];
  #acceptQueue: RudpConnection[] = [];
  #unaccepted = new Set<RudpConnection>();
  #eventful: RudpConnection[] = [];
  #eventfulSet = new Set<RudpConnection>();
  #lastFound: RudpConnection | undefined;
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  #counters: EndpointCounters = { datagramsReceived: 0, datagramsSent: 0, badChecksums: 0, malformed: 0, resetsSent: 0, synsDropped: 0 };

  constructor(config: RudpConfig) {
    this.config = resolveConfig(config);
  }

  /** Accept connections (RFC 9293 passive OPEN). At most `backlog` handshakes complete unaccepted. */
  listen(backlog = 128): void {
    this.#listening = true;
    this.#backlog = Math.max(1, backlog);
  }

  /** Stop accepting; existing connections continue. */
  stopListening(): void {
    this.#listening = false;
  }

  /** True after `listen()`. */
  get isListening(): boolean {
    return this.#listening;
  }

  /** Opens a connection to `remote` (RFC 9293 active OPEN: sends SYN). */
  connect(now: Instant, remote: DatagramAddress): RudpConnection {
    let localPort = this.config.local.port;
    while (this.#byKey.has(keyOf(remote, localPort, remote.port))) {
      localPort = this.config.rng.int(EPHEMERAL_PORT_MIN, EPHEMERAL_PORT_MAX);
    }
    return this.#create(now, remote, localPort, remote.port, 'active');
  }

  /** Connections the endpoint still holds (handshaking, open, closing, TIME_WAIT). */
  get connections(): number {
    let n = 0;
    for (const c of this.#list) if (!c.isClosed) n++;
    return n;
  }

  /** True when no connection remains and no timer is armed ("no timer left behind"). */
  get isIdle(): boolean {
    return this.#resets.length === 0 && this.connections === 0 && this.pollTimeout() === undefined;
  }

  /** Endpoint-wide counters. */
  get counters(): EndpointCounters {
    return { ...this.#counters };
  }

  handleDatagram(now: Instant, bytes: Uint8Array, from: DatagramAddress): void {
    this.#counters.datagramsReceived++;
    let seg: Segment;
    try {
      seg = decodeSegment(bytes);
    } catch (err) {
      this.#onUndecodable(now, bytes, from, err);
      return;
    }
    const conn = this.#lookup(from, seg.dstPort, seg.srcPort);
    if (conn !== undefined && !conn.isClosed) {
      conn.handleSegment(now, seg);
      this.#afterInput(conn);
      return;
    }
    if ((seg.flags & Flags.RST) !== 0) {
      this.#drop(now, 'no-connection', from, seg);
      return;
    }
    if (this.#listening && (seg.flags & (Flags.SYN | Flags.ACK)) === Flags.SYN) {
      if (this.#unaccepted.size >= this.#backlog || this.connections >= this.config.maxConnections) {
        this.#counters.synsDropped++;
        this.#drop(now, 'backlog-full', from, seg);
        return;
      }
      const c = this.#create(now, from, seg.dstPort, seg.srcPort, 'passive');
      this.#unaccepted.add(c);
      c.handleSegment(now, seg);
      this.#afterInput(c);
      return;
    }
    this.#drop(now, 'no-connection', from, seg);
    this.#queueReset(seg, from);
  }

  handleTimeout(now: Instant): void {
    for (const c of this.#list) {
      const due = c.pollTimeout();
      if (due !== undefined && due <= now) c.handleTimeout(now);
    }
  }

  pollTransmit(now: Instant): Transmit | undefined {
    const reset = this.#resets.shift();
    if (reset !== undefined) {
      this.#counters.datagramsSent++;
      return reset;
    }
    const n = this.#list.length;
    let reap = false;
    for (let i = 0; i < n; i++) {
      const index = (this.#roundRobin + i) % n;
      const c = this.#list[index]!;
      const seg = c.pollTransmit(now);
      if (seg !== undefined) {
        this.#roundRobin = (index + 1) % n;
        const out = this.#allocate(encodedLength(seg));
        encodeSegment(seg, out);
        this.#counters.datagramsSent++;
        return { to: c.remote, bytes: out };
      }
      if (c.isClosed) reap = true;
    }
    if (reap) this.#reap();
    return undefined;
  }

  pollTimeout(): Instant | undefined {
    let t: Instant | undefined;
    for (const c of this.#list) {
      const due = c.pollTimeout();
      if (due !== undefined && (t === undefined || due < t)) t = due;
    }
    return t;
  }

  /** The next accepted connection (handshake complete), or undefined. */
  pollEvent(): EndpointEvent | undefined {
    const c = this.#acceptQueue.shift();
    if (c === undefined) return undefined;
    this.#unaccepted.delete(c);
    return { type: 'accepted', connection: c };
  }

  /**
   * The next event of any connection of this endpoint (including ones that just reached CLOSED),
   * so a driver need not poll every connection. Equivalent to `connection.pollEvent()`.
   */
  pollConnectionEvent(): { connection: RudpConnection; event: ConnectionEvent } | undefined {
    while (this.#eventful.length > 0) {
      const c = this.#eventful[0]!;
      const event = c.pollEvent();
      if (event !== undefined) return { connection: c, event };
      this.#eventful.shift();
      this.#eventfulSet.delete(c);
    }
    return undefined;
  }

  /**
   * `length` fresh bytes for one outgoing datagram, carved from a slab (one allocation per slab
   * instead of one per segment). Carved bytes are never handed out twice, so a driver may keep a
   * Transmit's bytes as long as it likes (a queued send does); a slab is garbage once every view
   * of it is.
   */
  #allocate(length: number): Uint8Array {
    if (this.#slabUsed + length > this.#slab.length) {
      const size = Math.min(MAX_SLAB_BYTES, Math.max(MIN_SLAB_BYTES, this.#slab.length * 2));
      this.#slab = new Uint8Array(Math.max(size, length));
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    // Keep every datagram 8-byte aligned: the checksum sums 32-bit words of aligned arrays.
    this.#slabUsed = (at + length + 7) & ~7;
    return this.#slab.subarray(at, at + length);
  }

  /** The connection for a 4-tuple; the last one found is checked first (bulk traffic repeats it). */
  #lookup(from: DatagramAddress, localPort: number, remotePort: number): RudpConnection | undefined {
    const last = this.#lastFound;
    if (last !== undefined && last.remote.port === from.port && last.remotePort === remotePort && last.localPort === localPort && last.remote.host === from.host && this.#keys.has(last)) return last;
    const c = this.#byKey.get(keyOf(from, localPort, remotePort));
    if (c !== undefined) this.#lastFound = c;
    return c;
  }

  #create(now: Instant, remote: DatagramAddress, localPort: number, remotePort: number, open: 'active' | 'passive'): RudpConnection {
    const cfg = this.config;
    const c = new RudpConnection({
      id: this.#nextId++,
      config: cfg,
      remote: { host: remote.host, port: remote.port },
      localPort,
      remotePort,
      iss: initialSequenceNumber(cfg.isnKey, now, cfg.local, localPort, remote, remotePort),
      tsOffset: cfg.rng.nextU32(),
      open,
      now,
      onEvent: (conn) => {
        if (this.#eventfulSet.has(conn)) return;
        this.#eventfulSet.add(conn);
        this.#eventful.push(conn);
      },
    });
    const key = keyOf(remote, localPort, remotePort);
    const old = this.#byKey.get(key);
    if (old !== undefined) this.#keys.delete(old);
    this.#byKey.set(key, c);
    this.#keys.set(c, key);
    this.#list.push(c);
    return c;
  }

  #afterInput(c: RudpConnection): void {
    // A passive connection is accepted once its handshake completed (Linux's accept queue).
    if (c.passive && c.wasEstablished && this.#unaccepted.has(c) && !this.#acceptQueue.includes(c)) this.#acceptQueue.push(c);
  }

  #reap(): void {
    const keep: RudpConnection[] = [];
    for (const c of this.#list) {
      if (!c.isClosed) {
        keep.push(c);
        continue;
      }
      const key = this.#keys.get(c);
      if (key !== undefined && this.#byKey.get(key) === c) this.#byKey.delete(key);
      this.#keys.delete(c);
      if (!c.wasEstablished) this.#unaccepted.delete(c);
    }
    this.#list = keep;
    this.#roundRobin = 0;
    // A driver that polls connections directly never drains #eventful: forget the finished ones.
    this.#eventful = this.#eventful.filter((c) => !c.isClosed || c.hasPendingEvents);
    this.#eventfulSet = new Set(this.#eventful);
  }

  #onUndecodable(now: Instant, bytes: Uint8Array, from: DatagramAddress, err: unknown): void {
    if (isSockitError(err, RudpCodes.BAD_CHECKSUM)) {
      this.#counters.badChecksums++;
      // Attribute the corrupt datagram to its connection when the header still names one.
      const view = bytes.length >= 20 ? SegmentView.check(bytes) : undefined;
      const conn = view === undefined ? undefined : this.#byKey.get(keyOf(from, view.dstPort, view.srcPort));
      if (conn !== undefined && !conn.isClosed) conn.noteBadChecksum(now);
      else this.#drop(now, 'bad-checksum', from, undefined);
      return;
    }
    if (!isSockitError(err)) throw err;
    this.#counters.malformed++;
    this.#drop(now, 'malformed', from, undefined);
  }

  #queueReset(seg: Segment, to: DatagramAddress): void {
    if (this.#resets.length >= MAX_PENDING_RESETS) return;
    // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> if ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    const hasAck = (seg.flags & Flags.ACK) !== 0;
    const segLen = seg.payload.length + ((seg.flags & Flags.SYN) !== 0 ? 1 : 0) + ((seg.flags & Flags.FIN) !== 0 ? 1 : 0);
    const rst: Segment = {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: hasAck ? seg.ack : 0,
      ack: hasAck ? 0 : seqAdd(seg.seq, segLen),
      flags: hasAck ? Flags.RST : Flags.RST | Flags.ACK,
      window: 0,
      urgentPointer: 0,
      options: {},
      payload: new Uint8Array(0),
    };
    const bytes = this.#allocate(encodedLength(rst));
    encodeSegment(rst, bytes);
    this.#counters.resetsSent++;
    this.#resets.push({ to: { host: to.host, port: to.port }, bytes });
  }

  #drop(now: Instant, reason: DropReason, remote: DatagramAddress, segment: Segment | undefined): void {
    const trace = this.config.trace;
    if (trace === undefined) return;
    trace(segment === undefined ? { type: 'drop', at: now, connectionId: 0, reason, remote } : { type: 'drop', at: now, connectionId: 0, reason, remote, segment });
  }
}
