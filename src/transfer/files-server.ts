/**
 * The server side of file transfer: one accepted connection, served with the sockit protocol
 * (HELLO, then one PUT, GET or LS request; docs/files.md) or the seeds' classic protocol (one
 * upload). Used by the `files` service (src/services/files.ts) and by {@link startFilesServer}.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FileCodes, FileTransferError, ProtocolError, SockitError, TimeoutError } from '../errors.js';
import type { StreamListener, StreamSocket, StreamTransport } from '../io/stream-transport.js';
import { tcpTransport } from '../io/tcp-transport.js';
import { formatPeer } from '../io/node-errors.js';
import { LIST_BATCH_ENTRIES, PROTOCOL_FEATURES, PROTOCOL_VERSION, type ListEntry, type WireErrorCode } from './protocol/messages.js';
import { isTemporaryName } from './protocol/part-meta.js';
import { FrameChannel } from './frame-channel.js';
import { DiskSink } from './disk-sink.js';
import { SUPERSEDE_AFTER_IDLE_MS } from './part-claims.js';
import { SafeRoot } from './safe-fs.js';
import { receiveFiles } from './file-receiver.js';
import { sendFiles } from './file-sender.js';
import { collectShared } from './local-source.js';
import { receiveClassic } from './classic.js';

/** Which protocol a files server speaks. */
export type FilesProtocol = 'sockit' | 'classic';

/** Options of a files server. */
export interface FilesServerOptions {
  /** The shared directory (uploads land here, downloads and listings come from here). */
  dir: string;
  /** Default `sockit`. */
  protocol?: FilesProtocol;
  /** Replace existing files instead of saving as `name (1).ext`. */
  overwrite?: boolean;
  /** Refuse uploads. */
  readOnly?: boolean;
  /** Largest upload accepted, in bytes. */
  maxFileBytes?: number;
  /** Stall timeout of a connection (default 30 s). */
  idleTimeoutMs?: number;
  /** One line per event (uploads, refusals). */
  log?: (line: string) => void;
}

/** Lines logged within one event-loop turn, joined. */
interface BatchedLog {
  (line: string): void;
}

/**
 * Hands the lines logged within one event-loop turn to `log` as one multi-line string: the server
 * logs a line per stored file, and 10,000 small files were 10,000 synchronous writes to stderr.
 */
function batchedLog(log: (line: string) => void): BatchedLog {
  let pending: string[] = [];
  const flush = (): void => {
    const lines = pending;
    pending = [];
    log(lines.join('\n'));
  };
  return (line: string) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(line);
  };
}

function peerName(socket: StreamSocket): string {
  return formatPeer(socket.remoteAddress, socket.remotePort);
}

/** Serves one connection to completion. Never rejects: failures are logged and end this connection only. */
export async function serveFilesConnection(socket: StreamSocket, options: FilesServerOptions): Promise<void> {
  const log = batchedLog(options.log ?? (() => undefined));
  const who = peerName(socket);
  if (options.protocol === 'classic') {
    try {
      if (options.readOnly) throw new FileTransferError(FileCodes.READ_ONLY, 'this server is read-only (--read-only): uploads are refused');
      const root = await SafeRoot.open(options.dir);
      const result = await receiveClassic(socket, new DiskSink({ root, overwrite: options.overwrite ?? false, maxFileBytes: options.maxFileBytes ?? Number.POSITIVE_INFINITY }), { idleTimeoutMs: options.idleTimeoutMs });
      log(`${who}: received ${result.savedAs} (${result.bytes} bytes, classic)`);
    } catch (err) {
      socket.destroy();
      log(`${who}: classic upload failed: ${(err as Error).message}${err instanceof SockitError ? ` (${err.code})` : ''}`);
    }
    return;
  }
  const ch = new FrameChannel(socket, { idleTimeoutMs: options.idleTimeoutMs });
  try {
    const hello = await ch.next();
    if (hello?.type !== 'hello') throw new ProtocolError(FileCodes.BAD_HEADER, `expected HELLO, got ${hello?.type ?? 'end of stream'}`);
    if (hello.version !== PROTOCOL_VERSION) {
      throw new FileTransferError(FileCodes.UNSUPPORTED_VERSION, `protocol version ${hello.version} is not supported (this server speaks ${PROTOCOL_VERSION})`);
    }
    ch.send({ type: 'hello', version: PROTOCOL_VERSION, features: [...PROTOCOL_FEATURES], agent: 'sockit' });
    const root = await SafeRoot.open(options.dir);
    const req = await ch.next();
    switch (req?.type) {
      case 'put': {
        if (options.readOnly) throw new FileTransferError(FileCodes.READ_ONLY, 'this server is read-only (--read-only): uploads are refused');
        const base = SafeRoot.dirSegments(req.dir);
        await root.directory(base, req.dir, true);
        const sink = new DiskSink({
          root,
          base,
          overwrite: options.overwrite ?? false,
          maxFileBytes: options.maxFileBytes ?? Number.POSITIVE_INFINITY,
          resumable: true,
          skipIdentical: true,
          onBusy: () => ch.touch(),
          // A retry of one of our files after we went silent: the sender is gone without closing.
          onSuperseded: () => ch.destroy(new TimeoutError('transfer', SUPERSEDE_AFTER_IDLE_MS, 'superseded: a new upload of the same file arrived while this one was silent')),
        });
        const { results } = await receiveFiles(ch, sink, {
          onEvent: (e) => {
            if (e.type === 'file-done' && e.result.kind === 'file') {
              log(e.result.ok ? `${who}: ${e.result.unchanged ? 'already had' : 'received'} ${e.result.savedAs} (${e.result.bytes} bytes)` : `${who}: refused ${JSON.stringify(e.result.rel)}: ${e.result.error?.message} (${e.result.error?.code})`);
            }
          },
        });
        log(`${who}: upload session done, ${results.filter((r) => r.ok).length} of ${results.length} items stored`);
        break;
      }
      case 'get': {
        const { entries, missing } = await collectShared(root, req.names);
        // Nothing to send at all: one clear error for the first name, as for any failed request.
        if (entries.length === 0 && missing.length > 0) throw missing[0]!.error;
        const { results } = await sendFiles(ch, entries, {
          missing: missing.map((m) => ({ name: m.name, code: m.error.code as WireErrorCode, message: m.error.message })),
          announceTotal: hello.features.includes('totals'),
        });
        log(`${who}: sent ${results.filter((r) => r.ok).length} of ${results.length} items${missing.length ? `, ${missing.length} requested name(s) not found` : ''}`);
        break;
      }
      case 'ls': {
        await sendListing(ch, root, req.dir);
        break;
      }
      default:
        throw new ProtocolError(FileCodes.BAD_HEADER, `expected PUT, GET or LS, got ${req?.type ?? 'end of stream'}`);
    }
    await ch.end();
  } catch (err) {
    log(`${who}: ${(err as Error).message}${err instanceof SockitError ? ` (${err.code})` : ''}`);
    ch.sendError(err);
    await ch.end(1000);
  }
}

async function sendListing(ch: FrameChannel, root: SafeRoot, dir: string): Promise<void> {
  const segments = SafeRoot.dirSegments(dir);
  const { abs, stats } = await root.existing(segments, dir);
  if (!stats.isDirectory()) throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(dir)} is not a directory`);
  const names = (await fsp.readdir(abs)).sort();
  let batch: ListEntry[] = [];
  for (const name of names) {
    if (isTemporaryName(name)) continue;
    const st = await fsp.lstat(path.join(abs, name)).catch(() => undefined);
    if (!st || !(st.isFile() || st.isDirectory())) continue;
    batch.push({ name, kind: st.isDirectory() ? 'dir' : 'file', size: st.isFile() ? st.size : 0, mtimeMs: Math.floor(st.mtimeMs) });
    if (batch.length === LIST_BATCH_ENTRIES) {
      ch.send({ type: 'list', entries: batch, more: true });
      batch = [];
      await ch.drained();
    }
  }
  ch.send({ type: 'list', entries: batch, more: false });
}

/** A files server started by {@link startFilesServer}. */
export interface FilesServer {
  readonly address: StreamListener['address'];
  /** Connections being served now. */
  readonly connectionCount: number;
  /** Stops accepting; waits up to `graceMs` for transfers in progress, then cuts them. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Listens on `host:port` (default 127.0.0.1, port 0 = a free one) and serves every connection
 * with {@link serveFilesConnection}. The library's way to run a files server without the CLI.
 */
export async function startFilesServer(options: FilesServerOptions & { host?: string; port?: number; transport?: StreamTransport }): Promise<FilesServer> {
  await SafeRoot.open(options.dir);
  const transport = options.transport ?? tcpTransport;
  const listener = await transport.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const sockets = new Set<StreamSocket>();
  const running = new Set<Promise<void>>();
  listener.on('connection', (socket: StreamSocket) => {
    sockets.add(socket);
    const p = serveFilesConnection(socket, options).finally(() => {
      sockets.delete(socket);
      running.delete(p);
    });
    running.add(p);
  });
  return {
    address: listener.address,
    get connectionCount() {
      return sockets.size;
    },
    async close(graceMs = 2000) {
      // The listener's close resolves only once every connection ended, so it is awaited last.
      const closing = listener.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(running), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      await Promise.all(running);
      await closing;
    },
  };
}
