/**
 * Turns any error into the one line a person reads — `sockit: <what happened> (<code>)` — plus a
 * hint where one helps, and the exit code (2 for usage errors, 1 for everything else).
 */
import { SockitError, UsageError, NetCodes, CliCodes } from '../errors.js';
import { ExitCode, type CliIo } from './command.js';

const HINTS: Partial<Record<string, string>> = {
  [NetCodes.CONNECTION_REFUSED]: 'is a server listening on that port?',
  [NetCodes.ADDRESS_IN_USE]: 'pick another port, or 0 for a free one',
  [NetCodes.PERMISSION_DENIED]: 'ports below 1024 need privileges; pick a port above 1024',
  [NetCodes.UNKNOWN_HOST]: 'check the host name, or use an address such as 127.0.0.1',
  [CliCodes.USAGE]: "run with --help for usage",
};

/** Prints `err` on stderr as one line (plus a hint) and returns the exit code for it. */
export function reportError(err: unknown, io: Pick<CliIo, 'stderr'>): number {
  if (err instanceof SockitError) {
    io.stderr.write(`sockit: ${err.message} (${err.code})\n`);
    const hint = HINTS[err.code];
    if (hint) io.stderr.write(`  ${hint}\n`);
    return err instanceof UsageError ? ExitCode.USAGE : ExitCode.FAILURE;
  }
  const e = err as { message?: string; code?: string } | undefined;
  io.stderr.write(`sockit: ${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}\n`);
  return ExitCode.FAILURE;
}
