/**
 * The terminal speaks UTF-8; the wire may speak GBK (the seed 003 programs). These convert a byte
 * stream or single messages between the two, carrying a character split across chunks over to the
 * next chunk instead of mangling it. With utf8 on the wire, bytes pass through untouched (even
 * invalid UTF-8: `sockit` is a byte pipe first).
 */
import { StringDecoder } from 'node:string_decoder';
import { textCodec, type TextEncodingName } from '../services/text-encoding.js';

/** A streaming byte converter. */
export interface ByteStreamConverter {
  /** Converts the next chunk (may hold back the start of a split character). */
  write(chunk: Buffer): Buffer;
  /** Flushes anything held back. */
  end(): Buffer;
}

const PASS_THROUGH: ByteStreamConverter = { write: (chunk) => chunk, end: () => Buffer.alloc(0) };

/** Terminal (UTF-8) bytes → wire bytes in `encoding`, streaming. */
export function terminalToWire(encoding: TextEncodingName): ByteStreamConverter {
  if (encoding === 'utf8') return PASS_THROUGH;
  const codec = textCodec(encoding);
  const decoder = new StringDecoder('utf8');
  return {
    write: (chunk) => codec.encode(decoder.write(chunk)),
    end: () => codec.encode(decoder.end()),
  };
}

/** Wire bytes in `encoding` → terminal (UTF-8) bytes, streaming. */
export function wireToTerminal(encoding: TextEncodingName): ByteStreamConverter {
  if (encoding === 'utf8') return PASS_THROUGH;
  // ICU's TextDecoder decodes GBK and keeps a split double-byte character for the next call.
  const decoder = new TextDecoder(encoding);
  return {
    write: (chunk) => Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'),
    end: () => Buffer.from(decoder.decode(), 'utf8'),
  };
}

/** One whole message: terminal (UTF-8) bytes → wire bytes in `encoding`. */
export function messageToWire(bytes: Buffer, encoding: TextEncodingName): Buffer {
  return encoding === 'utf8' ? bytes : textCodec(encoding).encode(bytes.toString('utf8'));
}

/** One whole message: wire bytes in `encoding` → terminal (UTF-8) bytes. */
export function messageToTerminal(bytes: Buffer, encoding: TextEncodingName): Buffer {
  return encoding === 'utf8' ? bytes : Buffer.from(textCodec(encoding).decode(bytes), 'utf8');
}
