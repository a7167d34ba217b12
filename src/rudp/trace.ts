/**
 * The trace of a RUDP connection: segments sent and received, state changes, drops and a closing
 * line of counters, as plain data (TraceEvent) and as the readable lines `--trace` prints.
 *
 * Read first: RFC 9293 §3.3.2 (the state diagram the lines walk through), §3.1 (the header fields
 * a line shows). The line format follows the seeds' handshake diagrams:
 * `12.003 → SYN seq=J win=… [SYN_SENT]`, `12.004 ← SYN+ACK seq=K ack=J+1 [ESTABLISHED]`.
 */
import type { Instant } from '../core/time.js';
import type { DatagramAddress } from './datagram-endpoint.js';
import { Flags, type Segment } from './wire/segment.js';

/** The eleven connection states of RFC 9293 §3.3.2. */
export const RudpState = {
  CLOSED: 'CLOSED',
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN_SENT',
  SYN_RECEIVED: 'SYN_RECEIVED',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT_1: 'FIN_WAIT_1',
  FIN_WAIT_2: 'FIN_WAIT_2',
  CLOSE_WAIT: 'CLOSE_WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST_ACK',
  TIME_WAIT: 'TIME_WAIT',
} as const;

/** One of the eleven RFC 9293 states. */
export type RudpStateName = (typeof RudpState)[keyof typeof RudpState];

/** Why a segment or datagram was dropped. */
export type DropReason =
  | 'bad-checksum'
  | 'malformed'
  | 'out-of-window'
  | 'unacceptable-ack'
  | 'paws'
  | 'no-connection'
  | 'backlog-full'
  | 'rst-ignored'
  | 'closed';

/** Counters of one connection (also the closing line of a trace). */
export interface ConnectionCounters {
  /** Payload bytes sent for the first time (retransmissions not counted). */
  bytesSent: number;
  /** Payload bytes delivered in order to the receive buffer (duplicates not counted). */
  bytesReceived: number;
  segmentsSent: number;
  segmentsReceived: number;
  /** Segments sent again (timeout, fast retransmit, SACK recovery, SYN/FIN retransmission). */
  retransmissions: number;
  /** Segments dropped as unacceptable (out of window, bad ACK, PAWS, malformed). */
  segmentsDropped: number;
  /** Datagrams for this connection whose checksum was wrong. */
  badChecksums: number;
  /** Smoothed RTT (RFC 6298), undefined before the first sample. */
  srttMs: number | undefined;
  rttvarMs: number | undefined;
  rtoMs: number;
  cwndBytes: number;
  ssthreshBytes: number;
}

/** A segment left or arrived. `state` is the connection's state after it was handled. */
export interface SegmentTraceEvent {
  type: 'segment';
  at: Instant;
  connectionId: number;
  direction: 'sent' | 'received';
  remote: DatagramAddress;
  segment: Segment;
  /** Sent again (timeout, fast retransmit or SACK recovery). */
  retransmission: boolean;
  state: RudpStateName;
}

/** The connection moved from one RFC 9293 state to another. */
export interface StateTraceEvent {
  type: 'state';
  at: Instant;
  connectionId: number;
  from: RudpStateName;
  to: RudpStateName;
}

/** A datagram or segment was dropped (connectionId 0 when no connection matched). */
export interface DropTraceEvent {
  type: 'drop';
  at: Instant;
  connectionId: number;
  reason: DropReason;
  remote: DatagramAddress;
  segment?: Segment;
}

/** A timer fired (retransmission, persist, keepalive, delayed ACK, TIME_WAIT). */
export interface TimerTraceEvent {
  type: 'timer';
  at: Instant;
  connectionId: number;
  timer: 'rto' | 'persist' | 'keepalive' | 'delayed-ack' | 'time-wait' | 'fin-wait-2' | 'user-timeout';
  /** The RTO after backoff, for `rto`. */
  rtoMs?: number;
}

/** The connection reached CLOSED: its counters. */
export interface CountersTraceEvent {
  type: 'counters';
  at: Instant;
  connectionId: number;
  counters: ConnectionCounters;
}

/** Anything a connection or endpoint reports to its trace sink. */
export type TraceEvent = SegmentTraceEvent | StateTraceEvent | DropTraceEvent | TimerTraceEvent | CountersTraceEvent;

/** A trace sink. */
export type TraceSink = (event: TraceEvent) => void;

const FLAG_ORDER: Array<[number, string]> = [
  [Flags.SYN, 'SYN'],
  [Flags.FIN, 'FIN'],
  [Flags.RST, 'RST'],
  [Flags.PSH, 'PSH'],
  [Flags.ACK, 'ACK'],
  [Flags.URG, 'URG'],
  [Flags.ECE, 'ECE'],
  [Flags.CWR, 'CWR'],
];

/** The flags of a segment as `SYN+ACK`, `FIN+ACK`, `ACK`, … (PSH omitted: it carries no meaning here). */
export function formatFlags(flags: number): string {
  const names = FLAG_ORDER.filter(([bit, name]) => (flags & bit) !== 0 && name !== 'PSH').map(([, name]) => name);
  return names.length === 0 ? '<none>' : names.join('+');
}

/** The header fields of a segment in one line (no time, no direction). */
export function formatSegment(seg: Segment): string {
  const parts = [formatFlags(seg.flags), `seq=${seg.seq}`];
  if ((seg.flags & Flags.ACK) !== 0) parts.push(`ack=${seg.ack}`);
  parts.push(`win=${seg.window}`);
  if (seg.payload.length > 0) parts.push(`len=${seg.payload.length}`);
  const o = seg.options;
  if (o.mss !== undefined) parts.push(`mss=${o.mss}`);
  if (o.windowScale !== undefined) parts.push(`wscale=${o.windowScale}`);
  if (o.sackPermitted === true) parts.push('sackOK');
  if (o.sack !== undefined && o.sack.length > 0) parts.push(`sack=${o.sack.map((b) => `${b.left}-${b.right}`).join(',')}`);
  if (o.timestamps !== undefined) parts.push(`ts=${o.timestamps.value}/${o.timestamps.echo}`);
  return parts.join(' ');
}

function seconds(at: Instant, t0: Instant): string {
  return ((at - t0) / 1000).toFixed(3);
}

/**
 * One readable line for `event`, times in seconds since `t0`:
 * `0.003 → SYN seq=… win=… [SYN_SENT]`, `0.004 ← SYN+ACK seq=… ack=… [ESTABLISHED]`,
 * `1.204 → ACK seq=… len=1200 (retransmission) [ESTABLISHED]`, `4.010 TIME_WAIT → CLOSED`,
 * `4.010 closed: sent 1200 B in 3 segments, received 0 B in 3 segments, 1 retransmission, rtt 1.0 ms, cwnd 12000 B`.
 */
export function formatTraceEvent(event: TraceEvent, t0: Instant): string {
  const t = seconds(event.at, t0);
  switch (event.type) {
    case 'segment': {
      const arrow = event.direction === 'sent' ? '→' : '←';
      const rtx = event.retransmission ? ' (retransmission)' : '';
      return `${t} ${arrow} ${formatSegment(event.segment)}${rtx} [${event.state}]`;
    }
    case 'state':
      return `${t} ${event.from} → ${event.to}`;
    case 'drop': {
      const what = event.segment === undefined ? 'datagram' : formatSegment(event.segment);
      return `${t} ✗ dropped ${what} from ${event.remote.host}:${event.remote.port} (${event.reason})`;
    }
    case 'timer':
      return event.rtoMs === undefined ? `${t} ⏱ ${event.timer} timer` : `${t} ⏱ ${event.timer} timer (rto now ${event.rtoMs.toFixed(0)} ms)`;
    case 'counters': {
      const c = event.counters;
      const rtt = c.srttMs === undefined ? 'n/a' : `${c.srttMs.toFixed(1)} ms`;
      const rtx = `${c.retransmissions} retransmission${c.retransmissions === 1 ? '' : 's'}`;
      return (
        `${t} closed: sent ${c.bytesSent} B in ${c.segmentsSent} segments, ` +
        `received ${c.bytesReceived} B in ${c.segmentsReceived} segments, ${rtx}, ` +
        `rtt ${rtt}, cwnd ${Math.round(c.cwndBytes)} B`
      );
    }
  }
}
