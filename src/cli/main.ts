/**
 * `sockit`: dispatches to one module per subcommand (loaded lazily), prints help and version,
 * and turns errors into one clear line plus an exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ExitCode, type CliIo, type Command } from './command.js';
import { reportError } from './report-error.js';

type Loader = () => Promise<Command>;

const COMMANDS: Record<string, Loader> = {
  listen: async () => (await import('./listen.js')).listenCommand,
  connect: async () => (await import('./connect.js')).connectCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  put: async () => (await import('./put.js')).putCommand,
  get: async () => (await import('./get.js')).getCommand,
  ls: async () => (await import('./ls.js')).lsCommand,
  chat: async () => (await import('./chat.js')).chatCommand,
  impair: async () => (await import('./impair.js')).impairCommand,
};

/**
 * The package version, read from the package.json above this module: found by walking up, since
 * this file runs from dist/src/cli when built and from src/cli under tsx.
 */
export function version(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dir.pathname === '/') return 'unknown';
  }
}

async function usage(): Promise<string> {
  const lines = ['usage: sockit COMMAND [ARGS...]', '', 'TCP and UDP done right: nc-style endpoints, framing, files, chat, and TCP over UDP.', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await COMMANDS[name]!();
    lines.push(`  ${name.padEnd(9)} ${cmd.summary}`);
  }
  lines.push('', "Run 'sockit COMMAND --help' for a command's options.", '');
  return lines.join('\n');
}

/** Runs the sockit command line; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = process as unknown as CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(await usage());
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`sockit ${version()}\n`);
    return ExitCode.OK;
  }
  const loader = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!loader) {
    io.stderr.write(`sockit: unknown command '${name}' (ERR_SOCKIT_USAGE)\n  run 'sockit --help' for the list of commands\n`);
    return ExitCode.USAGE;
  }
  const command = await loader();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help.endsWith('\n') ? command.help : command.help + '\n');
    return ExitCode.OK;
  }
  tolerateClosedStdout(io);
  try {
    return await command.run(rest, io);
  } catch (err) {
    return reportError(err, io);
  }
}

/** The stdout streams that already have the handler below (one per stream, however many runs). */
const tolerantStdouts = new WeakSet<object>();

/**
 * A reader of stdout that goes away (`sockit put --json ... | head -3`) must not crash the command
 * with an unhandled EPIPE in the middle of a transfer: what it was printing is dropped and the
 * command carries on to its own end and exit status. Commands whose stdout is their data
 * (`connect`, `listen`) notice on their next write and end the session themselves (OutputWriter).
 * Any other write error on stdout that no command handles is reported once on stderr. The handler stays for the stream's
 * life: the error of a last write can arrive after the command has returned.
 */
function tolerateClosedStdout(io: CliIo): void {
  if (tolerantStdouts.has(io.stdout)) return;
  tolerantStdouts.add(io.stdout);
  let reported = false;
  io.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // A command writing its data there (OutputWriter) has its own listener and reports the error.
    if (err.code === 'EPIPE' || reported || io.stdout.listenerCount('error') > 1) return;
    reported = true;
    io.stderr.write(`sockit: write stdout: ${err.message}\n`);
  });
}
