/**
 * The tunables of a RUDP endpoint and their defaults, each with the RFC that sets or bounds it.
 *
 * Read first: RFC 6298 §2 and §5 (RTO bounds), RFC 9293 §3.4.2 (MSL), §3.8.6.3 (delayed ACK),
 * RFC 1122 §4.2.3.5 (R1/R2 retransmission limits), §4.2.3.6 (keepalive), RFC 5482 (user timeout).
 */
import type { Rng } from '../core/rng.js';
import type { Millis } from '../core/time.js';
import type { CongestionControllerConfig } from './congestion/congestion-controller.js';
import { newReno } from './congestion/new-reno.js';
import type { DatagramAddress } from './datagram-endpoint.js';
import type { TraceSink } from './trace.js';

/**
 * Maximum segment size (payload bytes per segment) sockit advertises by default. 1200 bytes of
 * payload plus at most 60 bytes of header stays under every path MTU a UDP datagram meets in
 * practice (QUIC's RFC 9000 §14 uses 1200 for the same reason).
 */
export const DEFAULT_MSS = 1200;
/** RFC 9293 §3.7.1: the send MSS when the peer sends no MSS option. */
export const DEFAULT_PEER_MSS = 536;
/**
 * RFC 9293 §3.4.2 suggests MSL = 2 minutes for the Internet. A userspace transport over UDP has no
 * routers holding segments for minutes between its endpoints in the common case, and a socket in
 * TIME_WAIT keeps a port pair busy, so sockit defaults to 2 s (TIME_WAIT = 2·MSL = 4 s).
 */
export const DEFAULT_MSL_MS = 2_000;
/** RFC 6298 §2.1: the RTO before any RTT sample is 1 second. */
export const INITIAL_RTO_MS = 1_000;
/**
 * RFC 6298 §2.4 says RTO SHOULD be at least 1 s; like Linux (TCP_RTO_MIN) sockit uses 200 ms, which
 * the RFC permits ("MAY be lower") and which matters over low-RTT paths.
 */
export const MIN_RTO_MS = 200;
/** RFC 6298 §2.5: a maximum RTO MAY be placed, provided it is at least 60 seconds. */
export const MAX_RTO_MS = 60_000;
/** RFC 9293 §3.8.6.3 / RFC 5681 §4.2: an ACK is delayed by less than 500 ms; 40 ms as Linux does. */
export const DELAYED_ACK_MS = 40;
/** RFC 1122 §4.2.3.5 R2 for data: give up after this many retransmissions of one segment. */
export const MAX_RETRANSMISSIONS = 12;
/** RFC 1122 §4.2.3.5 R2 for SYN: at least 3 minutes there; sockit bounds the attempt by connectTimeoutMs. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** Linux tcp_fin_timeout: how long a closed (orphaned) connection waits in FIN_WAIT_2 for the peer's FIN. */
export const FIN_WAIT_2_TIMEOUT_MS = 60_000;
/** Default receive and send buffers: 1 MiB each (the window needs ≥ bandwidth × RTT). */
export const DEFAULT_BUFFER_BYTES = 1 << 20;
/** RFC 9293 §3.8.6.1 / RFC 1122 §4.2.2.17: the persist (zero-window probe) timer starts at the RTO and backs off to this. */
export const MAX_PERSIST_MS = 60_000;

/** Keepalive (RFC 1122 §4.2.3.6): off unless configured. */
export interface KeepaliveOptions {
  /** Idle time before the first probe (RFC 1122: no less than 2 hours by default; any value here). */
  idleMs: Millis;
  /** Time between unanswered probes. */
  intervalMs: Millis;
  /** Unanswered probes before the connection is aborted with a timeout. */
  probes: number;
}

/** Configuration of a {@link RudpEndpoint} and of every connection it creates. */
export interface RudpConfig {
  /** The UDP address this endpoint is bound to (used in the ISN hash and traces). */
  local: DatagramAddress;
  /** Secret key (16 bytes) of the RFC 6528 ISN hash. Draw it once per process from a CSPRNG. */
  isnKey: Uint8Array;
  /** Randomness for timestamp offsets and virtual ports. */
  rng: Rng;
  /** Maximum segment lifetime; TIME_WAIT lasts 2·MSL (default {@link DEFAULT_MSL_MS}). */
  mslMs?: Millis;
  /** Congestion controller (default NewReno). */
  congestion?: CongestionControllerConfig;
  /** Largest payload per segment we send and advertise (default {@link DEFAULT_MSS}). */
  mss?: number;
  /** Receive buffer: bounds the advertised window (default 1 MiB). */
  receiveBufferBytes?: number;
  /** Send buffer: `write` accepts at most this many unacknowledged bytes (default 1 MiB). */
  sendBufferBytes?: number;
  initialRtoMs?: Millis;
  minRtoMs?: Millis;
  maxRtoMs?: Millis;
  /** Delayed-ACK timeout (default 40 ms); 0 turns delayed ACKs off. */
  delayedAckMs?: Millis;
  /** Give up on a handshake after this long (default 30 s). */
  connectTimeoutMs?: Millis;
  /** RFC 5482 / RFC 9293 §3.8.3: abort when sent data stays unacknowledged this long (default off). */
  userTimeoutMs?: Millis;
  /** Abort after this many consecutive retransmissions of one segment (default 12). */
  maxRetransmissions?: number;
  /** Keepalive probes (default off). */
  keepalive?: KeepaliveOptions;
  /** FIN_WAIT_2 timeout of a connection closed with `close()` (default 60 s). */
  finWait2TimeoutMs?: Millis;
  /** Offer SACK (RFC 2018), default true. */
  sack?: boolean;
  /** Offer timestamps (RFC 7323), default true. */
  timestamps?: boolean;
  /** Offer window scaling (RFC 7323), default true. */
  windowScaling?: boolean;
  /** Disable Nagle on new connections (default false). */
  noDelay?: boolean;
  /** Most connections at once (default 4096); SYNs beyond are dropped. */
  maxConnections?: number;
  /** Receives every trace event of the endpoint and its connections. */
  trace?: TraceSink;
}

/** {@link RudpConfig} with every default filled in. */
export interface ResolvedRudpConfig {
  local: DatagramAddress;
  isnKey: Uint8Array;
  rng: Rng;
  mslMs: Millis;
  congestion: CongestionControllerConfig;
  mss: number;
  receiveBufferBytes: number;
  sendBufferBytes: number;
  initialRtoMs: Millis;
  minRtoMs: Millis;
  maxRtoMs: Millis;
  delayedAckMs: Millis;
  connectTimeoutMs: Millis;
  userTimeoutMs: Millis | undefined;
  maxRetransmissions: number;
  keepalive: KeepaliveOptions | undefined;
  finWait2TimeoutMs: Millis;
  sack: boolean;
  timestamps: boolean;
  windowScaling: boolean;
  noDelay: boolean;
  maxConnections: number;
  trace: TraceSink | undefined;
}

/** Fills in the defaults of `config`. */
export function resolveConfig(config: RudpConfig): ResolvedRudpConfig {
  return {
    local: config.local,
    isnKey: config.isnKey,
    rng: config.rng,
    mslMs: config.mslMs ?? DEFAULT_MSL_MS,
    congestion: config.congestion ?? newReno,
    mss: config.mss ?? DEFAULT_MSS,
    receiveBufferBytes: config.receiveBufferBytes ?? DEFAULT_BUFFER_BYTES,
    sendBufferBytes: config.sendBufferBytes ?? DEFAULT_BUFFER_BYTES,
    initialRtoMs: config.initialRtoMs ?? INITIAL_RTO_MS,
    minRtoMs: config.minRtoMs ?? MIN_RTO_MS,
    maxRtoMs: config.maxRtoMs ?? MAX_RTO_MS,
    delayedAckMs: config.delayedAckMs ?? DELAYED_ACK_MS,
    connectTimeoutMs: config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    userTimeoutMs: config.userTimeoutMs,
    maxRetransmissions: config.maxRetransmissions ?? MAX_RETRANSMISSIONS,
    keepalive: config.keepalive,
    finWait2TimeoutMs: config.finWait2TimeoutMs ?? FIN_WAIT_2_TIMEOUT_MS,
    sack: config.sack ?? true,
    timestamps: config.timestamps ?? true,
    windowScaling: config.windowScaling ?? true,
    noDelay: config.noDelay ?? false,
    maxConnections: config.maxConnections ?? 4096,
    trace: config.trace,
  };
}
