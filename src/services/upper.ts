/**
 * `upper`: every message comes back uppercased, as the seed 002 server does
 * (`conn.sendall(data.upper())`). Text is decoded in the service's charset (utf8 or gbk), uppercased
 * and re-encoded; with `raw` framing a character split across chunks still comes out right.
 * Over UDP each datagram is one message, answered to its sender.
 */
import type { ServiceDefinition } from './types.js';
import { createMessageService, replyToDatagram, replyWithBackpressure } from './message-service.js';
import { StreamingUpper, upperMessage } from './text-upper.js';

/** The upper service definition. */
export const upperService: ServiceDefinition = {
  name: 'upper',
  summary: 'send every message back in upper case (seed 002), in --encoding utf8|gbk',
  transports: ['stream', 'datagram'],
  create(options) {
    return createMessageService('upper', options, {
      onConnection(conn) {
        if (options.framing === 'raw') {
          const upper = new StreamingUpper(options.encoding);
          conn.on('message', (chunk: Buffer) => {
            const out = upper.push(chunk);
            if (out.length > 0) replyWithBackpressure(conn, out);
          });
          conn.on('end', () => {
            const rest = upper.end();
            if (rest.length > 0) replyWithBackpressure(conn, rest);
            void conn.end();
          });
        } else {
          conn.on('message', (msg: Buffer) => replyWithBackpressure(conn, upperMessage(msg, options.encoding)));
          conn.on('end', () => void conn.end());
        }
      },
      onDatagram(message, peer) {
        replyToDatagram('upper', options, peer, upperMessage(message, options.encoding));
      },
    });
  },
};
