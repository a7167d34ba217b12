/**
 * Uppercasing text in a charset, whole messages or a byte stream cut anywhere.
 *
 * With `raw` framing the stream is cut wherever the socket cut it, possibly inside a multibyte
 * character (3 bytes in UTF-8, 2 in GBK); a streaming decoder keeps the partial character for the
 * next chunk so it still comes out right.
 */
import iconv from 'iconv-lite';
import { textCodec, type TextEncodingName } from './text-encoding.js';

/** Uppercases one whole message: decode in `encoding`, uppercase, re-encode. */
export function upperMessage(bytes: Uint8Array, encoding: TextEncodingName): Buffer {
  const codec = textCodec(encoding);
  return codec.encode(codec.decode(bytes).toUpperCase());
}

/** Uppercases a byte stream chunk by chunk, holding back partial characters between chunks. */
export class StreamingUpper {
  readonly #encoding: TextEncodingName;
  readonly #decoder: ReturnType<typeof iconv.getDecoder>;

  /** A fresh stream in `encoding`. */
  constructor(encoding: TextEncodingName) {
    this.#encoding = encoding;
    this.#decoder = iconv.getDecoder(encoding);
  }

  /** The uppercased bytes for `chunk` (empty when it held only part of a character). */
  push(chunk: Uint8Array): Buffer {
    const text = this.#decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return textCodec(this.#encoding).encode(text.toUpperCase());
  }

  /** Whatever is left at the end of the stream (an incomplete character decodes as U+FFFD). */
  end(): Buffer {
    const text = this.#decoder.end() ?? '';
    return textCodec(this.#encoding).encode(text.toUpperCase());
  }
}
