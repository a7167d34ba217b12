/**
 * How `sockit listen --udp` and `sockit connect --udp` print a received datagram: as text on its
 * own line (one trailing newline added unless the datagram already ends with one, so `nc -u`'s
 * "line\n" datagrams and Python's bare `b'hi'` both print as one line), or, with `--framing raw`,
 * as the bytes exactly as they came.
 */
import type { TextEncodingName } from '../services/text-encoding.js';
import { messageToTerminal } from './text-transcoder.js';

const NEWLINE = 0x0a;

/** The terminal bytes for one received datagram. */
export function datagramForTerminal(message: Buffer, unit: 'lines' | 'chunks', encoding: TextEncodingName): Buffer {
  const text = messageToTerminal(message, encoding);
  if (unit === 'chunks' || (text.length > 0 && text[text.length - 1] === NEWLINE)) return text;
  return Buffer.concat([text, Buffer.of(NEWLINE)]);
}

/** Over UDP `--framing` only chooses between lines (default) and raw chunks: each datagram is one message. */
export function datagramUnit(framing: string): 'lines' | 'chunks' {
  return framing === 'raw' ? 'chunks' : 'lines';
}
