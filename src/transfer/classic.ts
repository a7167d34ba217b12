/**
 * The seeds' classic file protocol over a stream socket (the bytes are specified in
 * protocol/classic-header.ts): {@link sendClassic} uploads one file the way seed 001's client does,
 * {@link receiveClassic} accepts one the way its server does — but checks the name, the size
 * limit and the free space before data flows, writes to a `.part` and keeps the file only when
 * exactly `filesize` bytes arrived (the protocol has nothing else to check).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FileCodes, FileTransferError, LimitExceededError, TimeoutError } from '../errors.js';
import type { StreamSocket, StreamTransport } from '../io/stream-transport.js';
import { tcpTransport } from '../io/tcp-transport.js';
import { fromNodeError } from '../io/node-errors.js';
import { CLASSIC_LENGTH_BYTES, decodeClassicHeader, decodeClassicLength, encodeClassicHeader } from './protocol/classic-header.js';
import { DATA_BLOCK_BYTES, decodeMessage, MessageType, wireError } from './protocol/messages.js';
import { DEFAULT_TRANSFER_IDLE_TIMEOUT_MS } from './frame-channel.js';
import type { DiskSink, IncomingFile } from './disk-sink.js';
import { summarize, type FileResult, type TransferEvent, type TransferSummary } from './transfer-events.js';

const MAX_PENDING_WRITE_BYTES = 8 * 1024 * 1024;

/** Calls `onStall` when `touch` was not called for `idleMs` (0 disables). Returns touch and stop. */
function stallGuard(idleMs: number, onStall: () => void): { touch: () => void; stop: () => void } {
  let last = performance.now();
  const timer = idleMs > 0 ? setInterval(() => performance.now() - last > idleMs && onStall(), Math.max(10, Math.min(1000, idleMs / 4))) : undefined;
  timer?.unref();
  return { touch: () => (last = performance.now()), stop: () => clearInterval(timer) };
}

/** Options of {@link receiveClassic}. */
export interface ReceiveClassicOptions {
  idleTimeoutMs?: number | undefined;
  onEvent?: (event: TransferEvent) => void;
}

/**
 * Receives one classic upload into `sink`. Resolves when the file is in place; rejects (and
 * deletes the part) on a bad header, a refusal, a stall, or a sender that closed early
 * (ERR_SOCKIT_SHORT_TRANSFER) — nothing complete-looking is left behind.
 */
export function receiveClassic(socket: StreamSocket, sink: DiskSink, options: ReceiveClassicOptions = {}): Promise<FileResult> {
  const emit = options.onEvent ?? (() => undefined);
  const idleMs = options.idleTimeoutMs ?? DEFAULT_TRANSFER_IDLE_TIMEOUT_MS;
  return new Promise<FileResult>((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    let acceptedBytes = 0;
    let headerBytes = -1;
    let file: IncomingFile | undefined;
    let preparing = false;
    let early: Buffer[] = [];
    let writing: Promise<void> = Promise.resolve();
    let pendingBytes = 0;
    let ended = false;
    let settled = false;
    const guard = stallGuard(idleMs, () => fail(new TimeoutError('transfer', idleMs, `the sender stalled: nothing received for ${idleMs} ms`)));

    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      guard.stop();
      socket.destroy();
      const f = file;
      void writing.catch(() => undefined).then(() => f?.abandon()).finally(() => reject(err));
      if (!f) reject(err);
    };

    const write = (chunk: Buffer): void => {
      const f = file!;
      pendingBytes += chunk.length;
      if (pendingBytes > MAX_PENDING_WRITE_BYTES) socket.pause();
      writing = writing.then(async () => {
        await f.write(chunk);
        pendingBytes -= chunk.length;
        guard.touch();
        if (pendingBytes < MAX_PENDING_WRITE_BYTES / 4 && socket.isPaused() && !ended) socket.resume();
        emit({ type: 'progress', rel: f.rel, fileBytes: f.received, size: f.size, totalBytes: f.received });
      });
      writing.catch(fail);
    };

    let finishing = false;
    const finish = (): void => {
      if (settled || !file || finishing) return;
      finishing = true;
      const f = file;
      writing
        .then(() => f.finish())
        .then((done) => {
          if (settled) return;
          settled = true;
          guard.stop();
          socket.end();
          const result: FileResult = { rel: f.rel, kind: 'file', ok: true, savedAs: done.savedAs, bytes: done.bytes, resumedFrom: 0 };
          emit({ type: 'file-done', result });
          resolve(result);
        })
        .catch(fail);
    };

    const onBody = (chunk: Buffer): void => {
      if (!file) {
        early.push(chunk);
        return;
      }
      const room = file.size - acceptedBytes;
      if (chunk.length > room) {
        fail(new LimitExceededError(FileCodes.BAD_HEADER, `the sender sent more than the ${file.size} bytes its header declared`, file.size, file.size + chunk.length - room));
        return;
      }
      acceptedBytes += chunk.length;
      if (chunk.length > 0) write(chunk);
      // Like the seed's `while recv_size < filesize` loop: done once the declared bytes are in.
      if (acceptedBytes === file.size) finish();
    };

    socket.on('data', (chunk: Buffer) => {
      guard.touch();
      // Bytes after the declared size (or after a failure) are not part of the file.
      if (settled || finishing) return;
      try {
        if (headerBytes >= 0 && head.length === 0) return onBody(chunk);
        // The header is at most 4 + 64 KiB: gathering it by concatenation is cheap.
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        if (headerBytes < 0) {
          if (head.length < CLASSIC_LENGTH_BYTES) return;
          headerBytes = decodeClassicLength(head.subarray(0, CLASSIC_LENGTH_BYTES));
        }
        if (head.length < CLASSIC_LENGTH_BYTES + headerBytes) return;
        const header = decodeClassicHeader(head.subarray(CLASSIC_LENGTH_BYTES, CLASSIC_LENGTH_BYTES + headerBytes));
        const rest = head.subarray(CLASSIC_LENGTH_BYTES + headerBytes);
        head = Buffer.alloc(0);
        preparing = true;
        socket.pause();
        if (rest.length > 0) early.push(rest);
        sink.prepare(header.filename, header.filesize).then(
          async (f) => {
            file = f;
            await f.begin(0);
            emit({ type: 'file-start', rel: f.rel, size: f.size, offset: 0 });
            preparing = false;
            const queued = early;
            early = [];
            for (const c of queued) onBody(c);
            if (f.size === 0) finish();
            if (ended) onEnd();
            else socket.resume();
          },
          (err: unknown) => fail(err),
        );
      } catch (err) {
        fail(err);
      }
    });
    const onEnd = (): void => {
      ended = true;
      if (settled || preparing || finishing) return;
      if (!file) return fail(new FileTransferError(FileCodes.SHORT_TRANSFER, 'the sender closed before a complete classic header arrived'));
      writing.then(() => {
        if (file!.received < file!.size) fail(new FileTransferError(FileCodes.SHORT_TRANSFER, `the sender closed after ${file!.received} of the ${file!.size} bytes it declared for ${JSON.stringify(file!.rel)}; the partial file was deleted`));
        else finish();
      }, fail);
    };
    socket.on('end', onEnd);
    socket.on('error', (err: Error) => fail(fromNodeError(err, 'classic upload')));
    socket.on('close', () => {
      if (!ended) fail(new FileTransferError(FileCodes.SHORT_TRANSFER, 'the connection closed in the middle of a classic upload'));
    });
  });
}

/** Options of {@link sendClassic}. */
export interface SendClassicOptions {
  host: string;
  port: number;
  /** The file to send. */
  file: string;
  /** Name announced in the header (default: the file's base name). */
  name?: string;
  transport?: StreamTransport;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  onEvent?: (event: TransferEvent) => void;
}

// Bytes of a receiver's unexpected answer kept to recognise it (a sockit ERROR is ~200 bytes).
const MAX_ANSWER_KEPT_BYTES = 4096;

/**
 * The error to report when a classic upload was answered by a sockit-protocol files server: its
 * ERROR message (the classic header read as a frame header fails its checks). Undefined otherwise.
 */
function notClassic(answer: Buffer): FileTransferError | undefined {
  if (answer.length < 5 || answer[4] !== MessageType.ERROR) return undefined;
  const length = answer.readUInt32BE(0);
  if (answer.length < 4 + length) return undefined;
  try {
    const m = decodeMessage(answer.subarray(4, 4 + length));
    if (m.type !== 'error') return undefined;
    // Its own message talks of frame lengths; what the user needs is which protocol to pick.
    return wireError(m.code, 'the server speaks the sockit file protocol, not the classic one, and refused the upload: use --protocol sockit, or start the server with --protocol classic');
  } catch {
    return undefined;
  }
}

/**
 * Uploads one file with the classic protocol: header, bytes, then a half-close; resolves once
 * the receiver closed its side (it has no other way to say it is done). A sockit-protocol server
 * answering with ERROR fails the upload with that answer.
 */
export async function sendClassic(options: SendClassicOptions): Promise<FileResult> {
  const emit = options.onEvent ?? (() => undefined);
  const st = await fsp.stat(options.file).catch((err: unknown) => {
    throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(options.file)} does not exist`, { cause: err });
  });
  if (!st.isFile()) throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(options.file)} is not a file (the classic protocol sends single files)`);
  const rel = options.name ?? path.basename(options.file);
  const size = st.size;
  const fh = await fsp.open(options.file, 'r').catch((err: unknown) => {
    throw new FileTransferError(FileCodes.NOT_FOUND, `cannot read ${JSON.stringify(options.file)}: ${(err as Error).message}`, { cause: err });
  });
  const transport = options.transport ?? tcpTransport;
  let socket: StreamSocket | undefined;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_TRANSFER_IDLE_TIMEOUT_MS;
  let stalled: ((err: Error) => void) | undefined;
  const guard = stallGuard(idleMs, () => stalled?.(new TimeoutError('transfer', idleMs, `the receiver stalled: nothing moved for ${idleMs} ms`)));
  try {
    emit({ type: 'start', files: 1, bytes: size });
    socket = await transport.connect({ host: options.host, port: options.port, timeoutMs: options.connectTimeoutMs ?? 10_000 });
    const s = socket;
    // The classic receiver sends nothing; what does come is kept (a little) to recognise a sockit
    // files server's ERROR: it reads our int32 LE header as a len32 frame and refuses it.
    let answer = Buffer.alloc(0);
    const closed = new Promise<void>((resolve, reject) => {
      stalled = (err) => {
        s.destroy();
        reject(err);
      };
      s.on('error', (err: Error) => reject(notClassic(answer) ?? fromNodeError(err, 'classic upload')));
      s.on('close', () => {
        const wrongServer = notClassic(answer);
        if (wrongServer) reject(wrongServer);
        else resolve();
      });
      s.on('data', (chunk: Buffer) => {
        if (answer.length < MAX_ANSWER_KEPT_BYTES) answer = Buffer.concat([answer, chunk]).subarray(0, MAX_ANSWER_KEPT_BYTES);
      });
    });
    closed.catch(() => undefined);
    const waitDrain = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          s.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          s.off('drain', onDrain);
          reject(new FileTransferError(FileCodes.SHORT_TRANSFER, `the receiver closed the connection before all of ${JSON.stringify(rel)} was sent`));
        };
        s.once('drain', onDrain);
        s.once('close', onClose);
      });
    emit({ type: 'file-start', rel, size, offset: 0 });
    s.write(encodeClassicHeader({ filename: rel, filesize: size }));
    let pos = 0;
    while (pos < size) {
      const buf = Buffer.allocUnsafe(Math.min(DATA_BLOCK_BYTES, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new FileTransferError(FileCodes.SHORT_TRANSFER, `${JSON.stringify(options.file)} shrank while it was being sent`);
      pos += bytesRead;
      const more = s.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), () => guard.touch());
      emit({ type: 'progress', rel, fileBytes: pos, size, totalBytes: pos });
      if (!more) await Promise.race([waitDrain(), closed]);
    }
    s.end();
    await closed;
    const result: FileResult = { rel, kind: 'file', ok: true, savedAs: rel, bytes: size, resumedFrom: 0 };
    emit({ type: 'file-done', result });
    return result;
  } catch (err) {
    socket?.destroy();
    throw err;
  } finally {
    guard.stop();
    await fh.close();
  }
}

/**
 * Uploads `files` with the classic protocol, one connection each, as one run: every path is
 * checked before the first file goes (a missing one must not stop the run halfway, after sending
 * those before it), one `start` announces them all, and progress counts the files before.
 */
export async function sendClassicFiles(options: Omit<SendClassicOptions, 'file' | 'name'> & { files: readonly string[] }): Promise<TransferSummary> {
  const { files, onEvent, ...connection } = options;
  let totalBytes = 0;
  for (const file of files) {
    const st = await fsp.stat(file).catch((err: unknown) => {
      throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(file)} does not exist`, { cause: err });
    });
    if (!st.isFile()) throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(file)} is not a file (the classic protocol sends single files)`);
    totalBytes += st.size;
  }
  onEvent?.({ type: 'start', files: files.length, bytes: totalBytes });
  const results: FileResult[] = [];
  let bytes = 0;
  for (const file of files) {
    const before = bytes;
    const result = await sendClassic({
      ...connection,
      file,
      onEvent: (e) => {
        if (e.type === 'start') return;
        onEvent?.(e.type === 'progress' ? { ...e, totalBytes: before + e.totalBytes } : e);
      },
    });
    results.push(result);
    bytes += result.bytes;
  }
  return summarize(results, bytes);
}
