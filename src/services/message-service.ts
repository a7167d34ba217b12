/**
 * The common body of the message services (echo, upper, discard): wraps each accepted stream
 * socket in a {@link MessageConnection} with the service's framing, tracks open connections,
 * logs what happens and shuts down gracefully. Each service supplies only what it does with a
 * message.
 */
import { isSockitError } from '../errors.js';
import type { StreamSocket, StreamTransportName } from '../io/stream-transport.js';
import { formatHostPort, formatPeer } from '../io/node-errors.js';
import { MessageConnection } from '../tcp/message-connection.js';
import { closeGracefully } from '../tcp/graceful-close.js';
import type { CommonServiceOptions, DatagramPeer, Service } from './types.js';

/** What one service does with its traffic. */
export interface MessageHandlers {
  /** Serves one stream connection (the connection is tracked and logged already). */
  onConnection(conn: MessageConnection): void;
  /** Serves one datagram. */
  onDatagram(message: Buffer, peer: DatagramPeer): void;
}

/**
 * Replies to a stream message with backpressure: while the peer does not read our replies, stop
 * reading its requests (so a client that never reads cannot make the server buffer without bound).
 */
export function replyWithBackpressure(conn: MessageConnection, reply: Uint8Array | string): void {
  if (conn.closed || conn.ending) return;
  if (!conn.send(reply)) {
    conn.pause();
    conn.drained().then(() => conn.resume(), () => undefined);
  }
}

/** Builds a {@link Service} from per-connection and per-datagram handlers. */
export function createMessageService(name: string, options: CommonServiceOptions, handlers: MessageHandlers): Service {
  const live = new Set<MessageConnection>();
  let closing = false;
  const log = options.log;
  return {
    get connectionCount() {
      return live.size;
    },
    onConnection(socket: StreamSocket, transport: StreamTransportName) {
      if (closing) {
        socket.destroy();
        return;
      }
      const conn = new MessageConnection(socket, { framing: options.framing, maxFrameBytes: options.maxFrameBytes, encoding: options.encoding });
      const who = formatPeer(conn.remoteAddress, conn.remotePort);
      live.add(conn);
      log(`${name}: ${transport} connection from ${who}`);
      conn.once('close', (err?: Error) => {
        live.delete(conn);
        const why = err ? `: ${err.message}${isSockitError(err) ? ` (${err.code})` : ''}` : '';
        log(`${name}: ${who} closed${why}`);
      });
      handlers.onConnection(conn);
    },
    onDatagram(message: Buffer, peer: DatagramPeer) {
      if (closing) return;
      handlers.onDatagram(message, peer);
    },
    async close(graceMs: number) {
      closing = true;
      await closeGracefully(live, graceMs);
    },
  };
}

/** Sends a datagram reply, logging (not throwing) when it fails. */
export function replyToDatagram(name: string, options: CommonServiceOptions, peer: DatagramPeer, bytes: Uint8Array): void {
  peer.reply(bytes).catch((err: Error) => options.log(`${name}: reply to ${formatHostPort(peer.address, peer.port)} failed: ${err.message}`));
}
