/**
 * stdin as outgoing messages: with a framing other than raw (and over UDP), each line typed or piped
 * is one message, as the seeds' `input()` programs send one; with raw, each chunk as it is read.
 * Text is converted from the terminal's UTF-8 to the wire's charset on the way.
 */
import { getFraming } from '../framing/index.js';
import type { TextEncodingName } from '../services/text-encoding.js';
import type { InputReader } from './input-reader.js';
import { messageToWire, terminalToWire } from './text-transcoder.js';

/** How stdin is cut into messages. */
export interface InputMessageOptions {
  /** `lines`: one message per line (terminator removed, CRLF tolerated); `chunks`: bytes as read. */
  unit: 'lines' | 'chunks';
  /** Charset on the wire. */
  encoding: TextEncodingName;
  /** Longest line accepted (a longer one is a LimitExceededError). */
  maxFrameBytes: number;
  /**
   * Where a warning goes (stderr): the first character the wire's charset cannot carry is named
   * once per session, since it goes out as `?`.
   */
  warn?: (line: string) => void;
}

/** Calls `warn` for the first unencodable character only. */
function unencodableWarning(options: InputMessageOptions): ((char: string) => void) | undefined {
  const warn = options.warn;
  if (!warn) return undefined;
  let told = false;
  return (char) => {
    if (told) return;
    told = true;
    const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    warn(`sockit: warning: ${JSON.stringify(char)} (${code}) has no ${options.encoding.toUpperCase()} form and was sent as '?' (later ones are not reported)`);
  };
}

/**
 * Yields stdin's messages, ready for the wire, until end of input or until `signal` aborts (a
 * final unterminated line is sent at end of input, as `nc` and Python do; not when aborted).
 */
export async function* inputMessages(input: InputReader, options: InputMessageOptions, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const onUnencodable = unencodableWarning(options);
  if (options.unit === 'chunks') {
    const convert = terminalToWire(options.encoding, onUnencodable);
    for (let chunk = await input.read(signal); chunk !== null; chunk = await input.read(signal)) {
      const out = convert.write(chunk);
      if (out.length > 0) yield out;
    }
    if (signal?.aborted) return;
    const rest = convert.end();
    if (rest.length > 0) yield rest;
    return;
  }
  const decoder = getFraming('lines').createDecoder({ maxFrameBytes: options.maxFrameBytes });
  const lines: Buffer[] = [];
  const collect = (line: Buffer): void => {
    lines.push(messageToWire(line, options.encoding, onUnencodable));
  };
  for (let chunk = await input.read(signal); chunk !== null; chunk = await input.read(signal)) {
    decoder.push(chunk, collect);
    yield* lines.splice(0);
  }
  if (signal?.aborted) return;
  decoder.end(collect);
  yield* lines.splice(0);
}
