/**
 * `sockit get HOST PORT NAME... [--out DIR]`: downloads files or directories from a files server.
 * Whatever paths the server sends are checked like an upload's: nothing is written outside DIR.
 */
import { UsageError } from '../errors.js';
import { ExitCode, stderrLine, type CliIo, type Command } from './command.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';
import { createReporter, reportedTransfer } from './progress.js';
import { parseHost, parsePort, parseTypedCommandLine } from './cli-options.js';
import { getFiles } from '../transfer/files-client.js';

const HELP = `usage: sockit get HOST PORT NAME... [--out DIR] [--overwrite] [--json]

Downloads files or whole directories from a files server (sockit listen PORT --service files).
Each file is SHA-256 checked; an interrupted download resumes when you run the same get again,
and files already in DIR byte for byte are not downloaded again. An existing file that differs
is kept and the new one saved as 'name (1).ext' unless --overwrite.

options:
  --out DIR           where to save (default: the current directory; created if missing)
  --overwrite         replace existing files
  --json              print progress events and a summary as JSON lines on stdout
${TRANSPORT_CLI_HELP}
  --help, -h          show this help
`;

/** The `get` command. */
export const getCommand: Command = {
  name: 'get',
  summary: 'download files and directories from a files server',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseTypedCommandLine('get', argv, { out: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' }, ...TRANSPORT_CLI_OPTIONS });
    if (positionals.length < 3) throw new UsageError('get needs HOST PORT NAME...');
    const host = parseHost(positionals[0]!, 'get: HOST');
    const port = parsePort(positionals[1], 'get: PORT', false);
    const names = positionals.slice(2);
    const transport = await transportFor(values, stderrLine(io));
    const reporter = createReporter(io, { json: values.json ?? false });
    const summary = await reportedTransfer(reporter, 'downloaded', () =>
      getFiles({ host, port, transport, names, outDir: values.out ?? '.', overwrite: values.overwrite ?? false, onEvent: (e) => reporter.onEvent(e) }),
    );
    return summary.failed === 0 ? ExitCode.OK : ExitCode.FAILURE;
  },
};
