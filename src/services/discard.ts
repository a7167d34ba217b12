/**
 * `discard` (RFC 863): read everything, answer nothing. Closes its side when the client
 * half-closes; datagrams are dropped.
 */
import type { ServiceDefinition } from './types.js';
import { createMessageService } from './message-service.js';

/** The discard service definition. */
export const discardService: ServiceDefinition = {
  name: 'discard',
  summary: 'read every message and throw it away (RFC 863)',
  transports: ['stream', 'datagram'],
  create(options) {
    return createMessageService('discard', options, {
      onConnection(conn) {
        // A listener keeps the messages flowing (and away from the inbox) without keeping them.
        conn.on('message', () => undefined);
        conn.on('end', () => void conn.end());
      },
      onDatagram() {},
    });
  },
};
