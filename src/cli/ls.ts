/**
 * `sockit ls HOST PORT [REMOTE_DIR] [--json]`: lists what a files server shares.
 */
import { UsageError } from '../errors.js';
import { ExitCode, stderrLine, type CliIo, type Command } from './command.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';
import { formatBytes } from './progress.js';
import { parseHost, parsePort, parseTypedCommandLine } from './cli-options.js';
import { escapeControls } from '../chat/protocol/chat-text.js';
import { listFiles } from '../transfer/files-client.js';

const HELP = `usage: sockit ls HOST PORT [REMOTE_DIR] [--json]

Lists a directory shared by a files server (default: its shared directory): one line per entry,
directories with a trailing '/'.

options:
  --json              print the entries as one JSON array
${TRANSPORT_CLI_HELP}
  --help, -h          show this help
`;

/** The `ls` command. */
export const lsCommand: Command = {
  name: 'ls',
  summary: 'list the files a files server shares',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseTypedCommandLine('ls', argv, { json: { type: 'boolean' }, ...TRANSPORT_CLI_OPTIONS });
    if (positionals.length < 2 || positionals.length > 3) throw new UsageError('ls needs HOST PORT [REMOTE_DIR]');
    const host = parseHost(positionals[0]!, 'ls: HOST');
    const port = parsePort(positionals[1], 'ls: PORT', false);
    const transport = await transportFor(values, stderrLine(io));
    const entries = await listFiles({ host, port, transport, ...(positionals[2] !== undefined ? { dir: positionals[2] } : {}) });
    if (values.json) {
      io.stdout.write(JSON.stringify(entries) + '\n');
      return ExitCode.OK;
    }
    for (const e of entries) {
      const when = new Date(e.mtimeMs).toISOString().slice(0, 16).replace('T', ' ');
      const size = e.kind === 'dir' ? '-' : formatBytes(e.size);
      // A server names its own files: an escape sequence or a newline in a name must not repaint the
      // terminal or fake another entry, so control characters print as visible escapes.
      io.stdout.write(`${size.padStart(10)}  ${when}  ${escapeControls(e.name)}${e.kind === 'dir' ? '/' : ''}\n`);
    }
    return ExitCode.OK;
  },
};
