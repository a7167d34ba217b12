/**
 * Command-line parsing shared by the `sockit` commands: node:util parseArgs with its
 * errors turned into UsageError (exit 2), and checked parsers for ports, byte counts, durations,
 * framings and encodings, each failing with a message that names the argument.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { parseByteSize } from '../core/byte-size.js';
import { FRAMING_NAMES, isFramingName, DEFAULT_MAX_FRAME_BYTES, type FramingName } from '../framing/types.js';
import { TEXT_ENCODINGS, isTextEncodingName, type TextEncodingName } from '../services/text-encoding.js';

/** Options of every message-capable command: how bytes are cut into messages and which charset text uses. */
export const MESSAGE_CLI_OPTIONS = {
  framing: { type: 'string' },
  encoding: { type: 'string' },
  'max-frame': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Help lines for {@link MESSAGE_CLI_OPTIONS}. */
export const MESSAGE_CLI_HELP = [
  `  --framing F         how the stream is cut into messages: ${FRAMING_NAMES.join(', ')}`,
  '                      (raw = bytes as they come; any other: one stdin line = one message,',
  '                      each message received printed on its own line)',
  `  --encoding E        charset of text on the wire: ${TEXT_ENCODINGS.join(', ')} (default utf8; the terminal`,
  '                      side is always UTF-8)',
  `  --max-frame BYTES   largest message accepted (default ${DEFAULT_MAX_FRAME_BYTES / (1024 * 1024)}M; suffixes k, M, G)`,
].join('\n');

/** The parsed command line: option values by name, and the positional arguments. */
export interface ParsedCommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `options` (strict: unknown options and missing values are usage errors).
 * `command` names the subcommand in messages.
 */
export function parseCommandLine(command: string, argv: string[], options: NonNullable<ParseArgsConfig['options']>): ParsedCommandLine {
  const { values, positionals } = parseTypedCommandLine(command, argv, options);
  return { values: values as ParsedCommandLine['values'], positionals };
}

/** {@link parseCommandLine} keeping parseArgs' types for the values. */
export function parseTypedCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs' messages may span lines; the CLI promises one.
    const message = (err as Error).message
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/\.\s*Did you forget[^\n]*\n\s*To specify an option argument starting with a dash use '([^']*)'\.?/s, ": a value starting with '-' is written $1")
      .replace(/\s*\n\s*/g, ' ');
    throw new UsageError(`${command}: ${message}`, { cause: err });
  }
}

/** The value of a string option (undefined when absent). */
export function stringOption(parsed: ParsedCommandLine, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Parses a port number (0–65535; 0 only where `allowZero`). */
export function parsePort(text: string | undefined, what: string, allowZero: boolean): number {
  if (text === undefined) throw new UsageError(`missing ${what}`);
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= (allowZero ? 0 : 1) && port <= 65535)) {
    throw new UsageError(`${what} must be a number from ${allowZero ? 0 : 1} to 65535, not '${text}'`);
  }
  return port;
}

/**
 * Checks a host argument: not empty, and an IPv6 literal may come in brackets as in URLs and as
 * sockit prints it (`[::1]` is `::1`).
 */
export function parseHost(text: string, what: string): string {
  const host = /^\[[0-9A-Fa-f:.]+(%[\w.-]+)?\]$/.test(text) ? text.slice(1, -1) : text;
  if (host.trim() === '') throw new UsageError(`${what} is empty`);
  return host;
}

/** Parses a positive byte count such as `65536`, `64k` or `16M` (binary units). */
export function parseByteCount(text: string, what: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < 1) throw new UsageError(`${what} must be a positive byte count such as 65536, 64k or 16M, not '${text}'`);
  return bytes;
}

/** Parses a duration in milliseconds (a non-negative integer). */
export function parseMilliseconds(text: string, what: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(ms >= 0 && Number.isSafeInteger(ms))) throw new UsageError(`${what} must be a whole number of milliseconds, not '${text}'`);
  return ms;
}

/** Parses `--framing` (default `fallback`). */
export function parseFraming(text: string | undefined, fallback: FramingName): FramingName {
  if (text === undefined) return fallback;
  if (!isFramingName(text)) throw new UsageError(`unknown framing '${text}': use one of ${FRAMING_NAMES.join(', ')}`);
  return text;
}

/** Parses `--encoding` (default utf8; `utf-8` and upper case accepted). */
export function parseEncoding(text: string | undefined): TextEncodingName {
  if (text === undefined) return 'utf8';
  const normal = text.toLowerCase().replace('-', '');
  if (!isTextEncodingName(normal)) throw new UsageError(`unknown encoding '${text}': use one of ${TEXT_ENCODINGS.join(', ')}`);
  return normal;
}

/** How a command moves messages, from {@link MESSAGE_CLI_OPTIONS}. */
export interface MessageSettings {
  framing: FramingName;
  encoding: TextEncodingName;
  maxFrameBytes: number;
}

/** Reads {@link MESSAGE_CLI_OPTIONS} from a parsed command line. */
export function messageSettings(parsed: ParsedCommandLine, defaultFraming: FramingName): MessageSettings {
  const maxFrame = stringOption(parsed, 'max-frame');
  return {
    framing: parseFraming(stringOption(parsed, 'framing'), defaultFraming),
    encoding: parseEncoding(stringOption(parsed, 'encoding')),
    maxFrameBytes: maxFrame === undefined ? DEFAULT_MAX_FRAME_BYTES : parseByteCount(maxFrame, '--max-frame'),
  };
}
