/**
 * What every `sockit` subcommand module exports, and the exit codes they return.
 */

/** Exit statuses: 0 ok, 1 runtime failure, 2 usage error (nc and POSIX habit). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
} as const;

/** The standard streams a command uses (injected so tests and the demo can run commands in-process). */
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** A subcommand: `sockit NAME ...`. */
export interface Command {
  readonly name: string;
  /** One line for `sockit --help`. */
  readonly summary: string;
  /** Full help text for `sockit NAME --help`. */
  readonly help: string;
  /** Runs with the arguments after NAME; resolves to the exit code. Throws only sockit errors. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A function that prints one line on the command's stderr (warnings, transport notices). */
export function stderrLine(io: Pick<CliIo, 'stderr'>): (line: string) => void {
  return (line) => io.stderr.write(line + '\n');
}
