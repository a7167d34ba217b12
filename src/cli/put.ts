/**
 * `sockit put PATH... HOST PORT`: uploads files and whole directories to a `sockit listen
 * --service files` server (sockit protocol), or single files to any receiver of the seeds'
 * classic protocol (`--protocol classic`).
 */
import { promises as fsp } from 'node:fs';
import { FileCodes, FileTransferError, UsageError } from '../errors.js';
import { parseHost, parsePort, parseTypedCommandLine } from './cli-options.js';
import { ExitCode, stderrLine, type CliIo, type Command } from './command.js';
import { TRANSPORT_CLI_HELP, TRANSPORT_CLI_OPTIONS, transportFor } from './transport-option.js';
import { createReporter } from './progress.js';
import { putFiles } from '../transfer/files-client.js';
import { sendClassic } from '../transfer/classic.js';
import { summarize, type FileResult } from '../transfer/transfer-events.js';

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
    if (protocol === 'classic') {
      if (values.to !== undefined) throw new UsageError('--to is not part of the classic protocol (it carries a file name only)');
      const results: FileResult[] = [];
      let bytes = 0;
      try {
        // Every path is checked before the first file goes, as the sockit protocol's put does: a
        // missing one must not stop the command halfway, after sending those before it.
        let totalBytes = 0;
        for (const p of paths) {
          const st = await fsp.stat(p).catch((err: unknown) => {
            throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(p)} does not exist`, { cause: err });
          });
          if (st.isDirectory()) throw new UsageError(`${JSON.stringify(p)} is a directory: the classic protocol sends single files (use --protocol sockit)`);
          if (!st.isFile()) throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(p)} is not a file (the classic protocol sends single files)`);
          totalBytes += st.size;
        }
        // One connection per file, one run for the user: one start for all of them, and progress
        // that counts the files before this one.
        reporter.onEvent({ type: 'start', files: paths.length, bytes: totalBytes });
        for (const p of paths) {
          const before = bytes;
          results.push(await sendClassic({
            host,
            port,
            file: p,
            transport,
            onEvent: (e) => {
              if (e.type === 'start') return;
              reporter.onEvent(e.type === 'progress' ? { ...e, totalBytes: before + e.totalBytes } : e);
            },
          }));
          bytes += results[results.length - 1]!.bytes;
        }
      } catch (err) {
        reporter.finish(undefined, 'sent', err);
        throw err;
      }
      reporter.finish(summarize(results, bytes), 'sent');
      return ExitCode.OK;
    }
    let summary;
    try {
      summary = await putFiles({ host, port, transport, paths, ...(values.to !== undefined ? { toDir: values.to } : {}), onEvent: (e) => reporter.onEvent(e) });
    } catch (err) {
      reporter.finish(undefined, 'uploaded', err);
      throw err;
    }
    reporter.finish(summary, 'uploaded');
    return summary.failed === 0 ? ExitCode.OK : ExitCode.FAILURE;
  },
};
