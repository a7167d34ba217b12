/**
 * Turns any error into the one line a person reads — `sockit: <what happened> (<code>)` — plus a
 * hint where one helps, and the exit code (2 for usage errors, 1 for everything else).
 */
import { SockitError, UsageError, NetCodes, CliCodes, FramingCodes } from '../errors.js';
import { ExitCode, type CliIo } from './command.js';
import { escapeControls } from '../chat/protocol/chat-text.js';

const HINTS: Partial<Record<string, string | ((message: string) => string | undefined)>> = {
  [NetCodes.CONNECTION_REFUSED]: 'is a server listening on that port?',
  [NetCodes.ADDRESS_IN_USE]: 'pick another port, or 0 for a free one',
  // EACCES means a privileged port when binding, a broadcast address without SO_BROADCAST when sending.
  [NetCodes.PERMISSION_DENIED]: (message) =>
    /broadcast/.test(message) ? 'add --broadcast to send to a broadcast address'
    : /^(listen|bind)\b/.test(message) ? 'ports below 1024 need privileges; pick a port above 1024'
    : undefined,
  [NetCodes.UNKNOWN_HOST]: 'check the host name, or use an address such as 127.0.0.1',
  [CliCodes.USAGE]: "run with --help for usage",
  // The framing layer names its library option (maxFrameBytes); at the command line it is --max-frame.
  // A frame over the framing's own header (len16's 65,535 bytes) is not a --max-frame matter: its
  // message already says to split it or use a wider framing.
  [FramingCodes.FRAME_TOO_LARGE]: (message) => (/its header holds at most/.test(message) ? undefined : 'on the command line the limit is --max-frame BYTES'),
  [FramingCodes.LINE_TOO_LONG]: 'on the command line the limit is --max-frame BYTES',
};

/**
 * Prints `err` on stderr as one line (plus a hint) and returns the exit code for it. A message may
 * carry a peer's words (a files server's ERROR): control characters print as visible escapes.
 */
export function reportError(err: unknown, io: Pick<CliIo, 'stderr'>): number {
  if (err instanceof SockitError) {
    io.stderr.write(`sockit: ${escapeControls(err.message)} (${err.code})\n`);
    const entry = HINTS[err.code];
    const hint = typeof entry === 'function' ? entry(err.message) : entry;
    if (hint) io.stderr.write(`  ${hint}\n`);
    return err instanceof UsageError ? ExitCode.USAGE : ExitCode.FAILURE;
  }
  const e = err as { message?: string; code?: string } | undefined;
  io.stderr.write(`sockit: ${escapeControls(e?.message ?? String(err))}${e?.code ? ` (${e.code})` : ''}\n`);
  return ExitCode.FAILURE;
}
