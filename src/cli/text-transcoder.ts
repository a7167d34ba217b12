/**
 * The terminal speaks UTF-8; the wire may speak GBK (the seed 003 programs). These convert a byte
 * stream or single messages between the two, carrying a character split across chunks over to the
 * next chunk instead of mangling it. With utf8 on the wire, bytes pass through untouched (even
 * invalid UTF-8: `sockit` is a byte pipe first).
 */
import { StringDecoder } from 'node:string_decoder';
import { textCodec, type TextCodec, type TextEncodingName } from '../services/text-encoding.js';

/** A streaming byte converter. */
export interface ByteStreamConverter {
  /** Converts the next chunk (may hold back the start of a split character). */
  write(chunk: Buffer): Buffer;
  /** Flushes anything held back. */
  end(): Buffer;
}

const PASS_THROUGH: ByteStreamConverter = { write: (chunk) => chunk, end: () => Buffer.alloc(0) };

/** Told of a character the wire's charset cannot carry (it goes out as `?`). */
export type UnencodableListener = (char: string) => void;

const QUESTION_MARK = 0x3f;

function countQuestionMarks(bytes: Buffer): number {
  let n = 0;
  for (const b of bytes) if (b === QUESTION_MARK) n++;
  return n;
}

/**
 * Encodes `text`, telling `onUnencodable` of the first character the charset replaced with `?`
 * (GBK has no emoji, say). Found by counting: a GBK character's bytes never include 0x3F, so more
 * `?` out than in means a replacement; only then is the text searched for the culprit.
 */
function encode(codec: TextCodec, text: string, onUnencodable?: UnencodableListener): Buffer {
  const out = codec.encode(text);
  if (onUnencodable && countQuestionMarks(out) > countQuestionMarks(Buffer.from(text, 'utf8'))) {
    for (const char of text) {
      if (char !== '?' && countQuestionMarks(codec.encode(char)) > 0) {
        onUnencodable(char);
        break;
      }
    }
  }
  return out;
}

/** Terminal (UTF-8) bytes → wire bytes in `encoding`, streaming. */
export function terminalToWire(encoding: TextEncodingName, onUnencodable?: UnencodableListener): ByteStreamConverter {
  if (encoding === 'utf8') return PASS_THROUGH;
  const codec = textCodec(encoding);
  const decoder = new StringDecoder('utf8');
  return {
    write: (chunk) => encode(codec, decoder.write(chunk), onUnencodable),
    end: () => encode(codec, decoder.end(), onUnencodable),
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
export function messageToWire(bytes: Buffer, encoding: TextEncodingName, onUnencodable?: UnencodableListener): Buffer {
  return encoding === 'utf8' ? bytes : encode(textCodec(encoding), bytes.toString('utf8'), onUnencodable);
}

/** One whole message: wire bytes in `encoding` → terminal (UTF-8) bytes. */
export function messageToTerminal(bytes: Buffer, encoding: TextEncodingName): Buffer {
  return encoding === 'utf8' ? bytes : Buffer.from(textCodec(encoding).decode(bytes), 'utf8');
}
