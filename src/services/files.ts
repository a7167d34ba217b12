/**
 * The `files` service: `sockit listen PORT --service files [--dir DIR] [--protocol sockit|classic]
 * [--max-size BYTES] [--overwrite] [--read-only]`. Serves uploads, downloads and listings of one
 * directory with the sockit file protocol, or accepts uploads in the seeds' classic protocol.
 * The protocol work lives in src/transfer; this module adapts it to the service contract.
 */
import { UsageError } from '../errors.js';
import { parseByteSize } from '../core/byte-size.js';
import type { StreamSocket } from '../io/stream-transport.js';
import { serveFilesConnection, type FilesProtocol } from '../transfer/files-server.js';
import { SafeRoot } from '../transfer/safe-fs.js';
import { startHashThread } from '../transfer/file-hash.js';
import type { CommonServiceOptions, Service, ServiceDefinition } from './types.js';

/** The files service's own options, as parsed from the command line. */
export interface FilesServiceExtra {
  dir?: string;
  protocol?: string;
  'max-size'?: string;
  overwrite?: boolean;
  'read-only'?: boolean;
}

/** Parses `--max-size`: bytes, or with a K, M, G or T suffix (powers of 1024). */
export function parseMaxSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new UsageError(`invalid size ${JSON.stringify(text)}: expected bytes such as 1048576, 512K, 100M or 2G`);
  return bytes;
}

/** The service definition the registry lists as `files`. */
export const filesService: ServiceDefinition<FilesServiceExtra> = {
  name: 'files',
  summary: 'file upload, download and listing (sockit protocol) or classic seed-protocol uploads',
  transports: ['stream'],
  cliOptions: {
    dir: { type: 'string' },
    protocol: { type: 'string' },
    'max-size': { type: 'string' },
    overwrite: { type: 'boolean' },
    'read-only': { type: 'boolean' },
  },
  cliHelp: [
    '  --dir DIR           files service: directory to share (default: the current directory)',
    '  --protocol P        files service: sockit (default) or classic (the seeds\' header + bytes uploads)',
    '  --max-size BYTES    files service: refuse uploads larger than this (K, M, G suffixes allowed)',
    '  --overwrite         files service: replace existing files instead of saving "name (1).ext"',
    '  --read-only         files service: refuse uploads (downloads and listings still work)',
  ].join('\n'),
  async create(options: CommonServiceOptions, extra: FilesServiceExtra): Promise<Service> {
    const protocol = extra.protocol ?? 'sockit';
    if (protocol !== 'sockit' && protocol !== 'classic') throw new UsageError(`unknown --protocol ${JSON.stringify(protocol)}: expected sockit or classic`);
    const dir = extra.dir ?? '.';
    await SafeRoot.open(dir);
    // Ready before the first large upload arrives (it would wait ~40 ms for a thread started then).
    if (protocol === 'sockit') startHashThread();
    const serverOptions = {
      dir,
      protocol: protocol as FilesProtocol,
      overwrite: extra.overwrite ?? false,
      readOnly: extra['read-only'] ?? false,
      ...(extra['max-size'] !== undefined ? { maxFileBytes: parseMaxSize(extra['max-size']) } : {}),
      log: options.log,
    };
    const sockets = new Set<StreamSocket>();
    const running = new Set<Promise<void>>();
    return {
      get connectionCount() {
        return sockets.size;
      },
      onConnection(socket: StreamSocket) {
        sockets.add(socket);
        const p = serveFilesConnection(socket, serverOptions).finally(() => {
          sockets.delete(socket);
          running.delete(p);
        });
        running.add(p);
      },
      async close(graceMs: number) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(running), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
        for (const s of sockets) s.destroy();
        await Promise.all(running);
      },
    };
  },
};
