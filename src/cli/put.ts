/**
 * `sockit put PATH... HOST PORT`: uploads files and whole directories to a `sockit listen
 * --service files` server (sockit protocol), or single files to any receiver of the seeds'
 * classic protocol (`--protocol classic`).
 */
import { promises as fsp } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseHost, parsePort, parseTypedCommandLine } from './cli-options.js';
import { ExitCode, stderrLine, type CliIo, type Command } from './command.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';
import { createReporter, reportedTransfer } from './progress.js';
import { putFiles } from '../transfer/files-client.js';
import { sendClassicFiles } from '../transfer/classic.js';
import type { TransferEvent } from '../transfer/transfer-events.js';

const HELP = `usage: sockit put PATH... HOST PORT [--protocol sockit|classic] [--to REMOTE_DIR] [--json]

Uploads files and directories (relative paths kept, empty directories too) to a files server
(sockit listen PORT --service files). Every file is SHA-256 checked by the receiver; an interrupted
upload resumes where it stopped when you run the same put again, and files the server already
holds byte for byte are not sent again.

options:
  --protocol P        sockit (default) or classic: the seeds' header-length + JSON header + bytes,
                      one file per connection, no integrity check (for Python receivers)
  --to REMOTE_DIR     directory on the server to upload into (default: its shared directory)
  --json              print progress events and a summary as JSON lines on stdout
${TRANSPORT_CLI_HELP}
  --help, -h          show this help
`;

/** Parses a --protocol value. */
export function parseProtocol(text: string | undefined): 'sockit' | 'classic' {
  if (text === undefined || text === 'sockit' || text === 'classic') return text ?? 'sockit';
  throw new UsageError(`unknown --protocol ${JSON.stringify(text)}: expected sockit or classic`);
}


/** The `put` command. */
export const putCommand: Command = {
  name: 'put',
  summary: 'upload files and directories to a files server',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseTypedCommandLine('put', argv, { protocol: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, ...TRANSPORT_CLI_OPTIONS });
    if (positionals.length < 3) throw new UsageError('put needs PATH... HOST PORT');
    const port = parsePort(positionals[positionals.length - 1], 'put: PORT', false);
    const host = parseHost(positionals[positionals.length - 2]!, 'put: HOST');
    const paths = positionals.slice(0, -2);
    const protocol = parseProtocol(values.protocol);
    const transport = await transportFor(values, stderrLine(io));
    const reporter = createReporter(io, { json: values.json ?? false });
    const onEvent = (e: TransferEvent): void => reporter.onEvent(e);
    if (protocol === 'classic') {
      if (values.to !== undefined) throw new UsageError('--to is not part of the classic protocol (it carries a file name only)');
      for (const p of paths) {
        const st = await fsp.stat(p).catch(() => undefined);
        if (st?.isDirectory()) throw new UsageError(`${JSON.stringify(p)} is a directory: the classic protocol sends single files (use --protocol sockit)`);
      }
      await reportedTransfer(reporter, 'sent', () => sendClassicFiles({ host, port, files: paths, transport, onEvent }));
      return ExitCode.OK;
    }
    const summary = await reportedTransfer(reporter, 'uploaded', () => putFiles({ host, port, transport, paths, ...(values.to !== undefined ? { toDir: values.to } : {}), onEvent }));
    return summary.failed === 0 ? ExitCode.OK : ExitCode.FAILURE;
  },
};
