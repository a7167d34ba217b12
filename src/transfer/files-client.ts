/**
 * The client side of the sockit file protocol: {@link putFiles} uploads files and directories,
 * {@link getFiles} downloads them, {@link listFiles} lists a shared directory. Each call is one
 * connection: HELLO both ways, one request, then the transfer (docs/files.md).
 */
import { promises as fsp } from 'node:fs';
import { FileCodes, FileTransferError, ProtocolError } from '../errors.js';
import type { StreamTransport } from '../io/stream-transport.js';
import { tcpTransport } from '../io/tcp-transport.js';
import { PROTOCOL_FEATURES, PROTOCOL_VERSION, wireError, type ListEntry } from './protocol/messages.js';
import { safeDirSegments } from './protocol/safe-path.js';
import { FrameChannel } from './frame-channel.js';
import { DiskSink } from './disk-sink.js';
import { SafeRoot } from './safe-fs.js';
import { sendFiles } from './file-sender.js';
import { receiveFiles } from './file-receiver.js';
import { collectLocal } from './local-source.js';
import { HASH_THREAD_MIN_BYTES, startHashThread } from './file-hash.js';
import { fileSender } from '../io/native-file-send.js';
import { summarize, type TransferEvent, type TransferSummary } from './transfer-events.js';

/** Where to connect, and how. */
export interface FilesClientOptions {
  host: string;
  port: number;
  /** Default kernel TCP. */
  transport?: StreamTransport;
  connectTimeoutMs?: number;
  /** Stall timeout (default 30 s). */
  idleTimeoutMs?: number;
  onEvent?: (event: TransferEvent) => void;
}

/** An open session: the channel and the features the server announced in its HELLO. */
interface Session {
  ch: FrameChannel;
  features: readonly string[];
}

async function openSession(options: FilesClientOptions): Promise<Session> {
  const transport = options.transport ?? tcpTransport;
  const socket = await transport.connect({ host: options.host, port: options.port, timeoutMs: options.connectTimeoutMs ?? 10_000 });
  const ch = new FrameChannel(socket, { idleTimeoutMs: options.idleTimeoutMs });
  try {
    ch.send({ type: 'hello', version: PROTOCOL_VERSION, features: [...PROTOCOL_FEATURES], agent: 'sockit' });
    const m = await ch.next();
    if (m?.type === 'error') throw wireError(m.code, m.message);
    if (m?.type !== 'hello') throw new ProtocolError(FileCodes.BAD_HEADER, `expected HELLO from the server, got ${m?.type ?? 'end of stream'} (is it a sockit files server?)`);
    if (m.version !== PROTOCOL_VERSION) throw wireError(FileCodes.UNSUPPORTED_VERSION, `the server speaks protocol version ${m.version}, this client ${PROTOCOL_VERSION}`);
    return { ch, features: m.features };
  } catch (err) {
    ch.destroy();
    throw err;
  }
}

async function session<T>(options: FilesClientOptions, body: (ch: FrameChannel, features: readonly string[]) => Promise<T>): Promise<T> {
  const { ch, features } = await openSession(options);
  try {
    const out = await body(ch, features);
    await ch.end();
    return out;
  } catch (err) {
    ch.destroy();
    throw err;
  }
}

/** Uploads `paths` (files and whole directories) into `toDir` on the server (default its root). */
export async function putFiles(options: FilesClientOptions & { paths: readonly string[]; toDir?: string }): Promise<TransferSummary> {
  safeDirSegments(options.toDir ?? '');
  const entries = await collectLocal(options.paths, (rel, reason) => options.onEvent?.({ type: 'skipped', rel, reason }));
  // The hashing thread starts while we connect, not when the first large file is under way; over
  // kernel TCP with the native sender, large files are hashed on the libuv pool and need no thread
  // (starting one costs ~30 ms of CPU just as the transfer starts).
  const sendsFromPageCache = (options.transport ?? tcpTransport) === tcpTransport && fileSender() !== undefined;
  if (!sendsFromPageCache && entries.some((e) => e.size >= HASH_THREAD_MIN_BYTES)) startHashThread();
  return session(options, async (ch, features) => {
    ch.send({ type: 'put', dir: options.toDir ?? '' });
    const { results, bytesSent } = await sendFiles(ch, entries, { onEvent: options.onEvent, announceTotal: features.includes('totals') });
    return summarize(results, bytesSent);
  });
}

/**
 * Downloads `names` (files or directories on the server) into `outDir` (created if missing).
 * The server's paths go through the same checks as an upload's: a malicious server cannot write
 * outside `outDir`.
 */
export async function getFiles(options: FilesClientOptions & { names: readonly string[]; outDir: string; overwrite?: boolean }): Promise<TransferSummary> {
  await fsp.mkdir(options.outDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    // A file in the way (EEXIST) is named by SafeRoot.open below; anything else here (ENOTDIR: a
    // file further up the path).
    if (err.code !== 'EEXIST') {
      // "EACCES: permission denied, mkdir '/x'" → "permission denied (EACCES)"
      const why = err.message.replace(/^E[A-Z]+: /, '').replace(/, mkdir .*$/, '');
      throw new FileTransferError(FileCodes.NOT_FOUND, `cannot create the --out directory ${JSON.stringify(options.outDir)}: ${why}${err.code ? ` (${err.code})` : ''}`, { cause: err });
    }
  });
  const root = await SafeRoot.open(options.outDir);
  return session(options, async (ch) => {
    const sink = new DiskSink({ root, overwrite: options.overwrite ?? false, resumable: true, skipIdentical: true, onBusy: () => ch.touch() });
    ch.send({ type: 'get', names: [...options.names] });
    const { results, bytesReceived } = await receiveFiles(ch, sink, { onEvent: options.onEvent });
    return summarize(results, bytesReceived);
  });
}

/** Lists `dir` (default the shared root) on the server. */
export async function listFiles(options: FilesClientOptions & { dir?: string }): Promise<ListEntry[]> {
  safeDirSegments(options.dir ?? '');
  return session(options, async (ch) => {
    ch.send({ type: 'ls', dir: options.dir ?? '' });
    const out: ListEntry[] = [];
    for (;;) {
      const m = await ch.next();
      if (m?.type === 'error') throw wireError(m.code, m.message);
      if (m?.type !== 'list') throw new ProtocolError(FileCodes.BAD_HEADER, `expected LIST, got ${m?.type ?? 'end of stream'}`);
      out.push(...m.entries);
      if (!m.more) return out;
    }
  });
}
