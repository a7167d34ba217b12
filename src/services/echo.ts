/**
 * `echo` (RFC 862): every message comes back unchanged, over any framing and over UDP (each
 * datagram is answered with the same bytes to its sender). When the client half-closes, the
 * server finishes its replies and closes its side too.
 */
import type { ServiceDefinition } from './types.js';
import { createMessageService, replyToDatagram, replyWithBackpressure } from './message-service.js';

/** The echo service definition. */
export const echoService: ServiceDefinition = {
  name: 'echo',
  summary: 'send every message back unchanged (RFC 862)',
  transports: ['stream', 'datagram'],
  create(options) {
    return createMessageService('echo', options, {
      onConnection(conn) {
        conn.on('message', (msg: Buffer) => replyWithBackpressure(conn, msg));
        conn.on('end', () => void conn.end());
      },
      onDatagram(message, peer) {
        replyToDatagram('echo', options, peer, message);
      },
    });
  },
};
