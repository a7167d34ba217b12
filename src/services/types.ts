/**
 * The service contract: what `sockit listen --service NAME` runs.
 *
 * A service is given connections (stream transports: TCP or RUDP) and/or datagrams (UDP) by the
 * listener that owns the sockets; it never binds sockets itself. Each service module exports a
 * {@link ServiceDefinition}; services/registry.ts lists them by name.
 */
import type { ParseArgsConfig } from 'node:util';
import type { StreamSocket, StreamTransportName } from '../io/stream-transport.js';
import type { FramingName } from '../framing/types.js';
import type { TextEncodingName } from './text-encoding.js';

/** Options every service receives (from the CLI or the library caller). */
export interface CommonServiceOptions {
  /** How messages are cut from the stream (TCP/RUDP) — UDP datagrams are always one message each. */
  framing: FramingName;
  /** Charset of text services (upper, chat): utf8 or gbk. */
  encoding: TextEncodingName;
  /** Largest message accepted. */
  maxFrameBytes: number;
  /** Where a service reports what happens (one line per event, no trailing newline). */
  log: (line: string) => void;
}

/** The sender of a datagram, and a way to answer it. */
export interface DatagramPeer {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** Sends `bytes` back to this peer from the listening socket. */
  reply(bytes: Uint8Array): Promise<void>;
}

/** A running service. */
export interface Service {
  /** Serve one accepted stream connection (TCP or RUDP). The service owns the socket from now on. */
  onConnection?(socket: StreamSocket, transport: StreamTransportName): void;
  /** Serve one datagram (UDP). */
  onDatagram?(message: Buffer, peer: DatagramPeer): void;
  /**
   * Graceful shutdown: stop taking new work, let open connections finish (telling clients where
   * the protocol can), resolve when all are closed or `graceMs` passed (then destroy the rest).
   */
  close(graceMs: number): Promise<void>;
  /** Open connections right now. */
  readonly connectionCount: number;
}

/** A service as the registry knows it. */
export interface ServiceDefinition<Extra = Record<string, unknown>> {
  readonly name: string;
  /** One line for `sockit listen --help`. */
  readonly summary: string;
  /** Which transports it can serve. */
  readonly transports: ReadonlyArray<'stream' | 'datagram'>;
  /** Service-specific CLI options (node:util parseArgs format), merged into `listen`'s own. */
  readonly cliOptions?: ParseArgsConfig['options'];
  /** Help lines for those options. */
  readonly cliHelp?: string;
  /** Builds the service; `extra` holds the parsed service-specific CLI options. */
  create(options: CommonServiceOptions, extra: Extra): Service | Promise<Service>;
}
