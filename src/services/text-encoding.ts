/**
 * Text charsets for the text services and the CLI: UTF-8 and GBK (the seed 003 programs speak GBK).
 *
 * Node decodes GBK through ICU's TextDecoder but cannot encode it, so both directions go through
 * iconv-lite (a well-kept pure-JS codec) for GBK; UTF-8 uses Node's own Buffer methods. iconv-lite
 * is loaded on the first GBK use: loading it costs ~13 ms, and most commands (put, get, ls, ...)
 * never need it.
 */
import { createRequire } from 'node:module';
import type Iconv from 'iconv-lite';
import { FramingCodes, SockitError } from '../errors.js';

let iconvModule: typeof Iconv | undefined;
function iconv(): typeof Iconv {
  return (iconvModule ??= createRequire(import.meta.url)('iconv-lite') as typeof Iconv);
}

/** The charsets sockit speaks. */
export const TEXT_ENCODINGS = ['utf8', 'gbk'] as const;

/** One of {@link TEXT_ENCODINGS}. */
export type TextEncodingName = (typeof TEXT_ENCODINGS)[number];

/** Decodes and encodes text in one charset. */
export interface TextCodec {
  readonly name: TextEncodingName;
  decode(bytes: Uint8Array): string;
  encode(text: string): Buffer;
}

const utf8: TextCodec = {
  name: 'utf8',
  decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  encode: (text) => Buffer.from(text, 'utf8'),
};

const gbk: TextCodec = {
  name: 'gbk',
  decode: (bytes) => iconv().decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'gbk'),
  encode: (text) => iconv().encode(text, 'gbk'),
};

/** True when `name` is a charset sockit speaks. */
export function isTextEncodingName(name: string): name is TextEncodingName {
  return (TEXT_ENCODINGS as readonly string[]).includes(name);
}

/** The codec for `name` (accepts `utf-8`, `UTF8`, `GBK`, ...). Throws ERR_SOCKIT_UNKNOWN_ENCODING for others. */
export function textCodec(name: string): TextCodec {
  const normal = name.toLowerCase().replace('-', '');
  if (normal === 'utf8') return utf8;
  if (normal === 'gbk') return gbk;
  throw new SockitError(FramingCodes.UNKNOWN_ENCODING, `unknown encoding '${name}': use one of ${TEXT_ENCODINGS.join(', ')}`);
}
