/**
 * The receiving side of the sockit protocol (docs/files.md §5): answers each OFFER in order
 * (ACCEPT with a resume point, or REJECT with a code before any data flows), writes the data of
 * the file being streamed, checks size and SHA-256 at END and answers DONE or FAIL, and replies
 * to BYE. Messages are handled one at a time; while the disk is busy, the channel's queue fills
 * and pauses the socket, which is the backpressure the sender sees.
 */
import { FileCodes, FileTransferError, LimitExceededError, ProtocolError, SockitError } from '../errors.js';
import { DATA_BLOCK_BYTES, wireError, type Message, type WireErrorCode } from './protocol/messages.js';
import type { FrameChannel } from './frame-channel.js';
import type { DiskSink, IncomingFile } from './disk-sink.js';
import type { FileResult, TransferEvent } from './transfer-events.js';

/** Most offers a sender may have outstanding (answered but not finished); bounds our memory. */
export const MAX_PENDING_OFFERS = 1024;

/**
 * Small files stored (synchronously, see DiskSink) before the receiver yields to the event loop,
 * so other connections of the server get their turn.
 */
export const SMALL_FILES_PER_TURN = 16;

/** Options of {@link receiveFiles}. */
export interface ReceiveOptions {
  onEvent?: (event: TransferEvent) => void;
}

function wireCode(err: unknown): WireErrorCode | undefined {
  if (err instanceof SockitError && (Object.values(FileCodes) as string[]).includes(err.code)) return err.code as WireErrorCode;
  return undefined;
}

/** A refusal to report to the peer: file-protocol errors travel as-is, anything else (EACCES, EIO) as a failure. */
function refusal(err: unknown): { code: WireErrorCode; message: string } {
  const code = wireCode(err);
  if (code && !(err instanceof ProtocolError)) return { code, message: (err as Error).message };
  if (err instanceof ProtocolError) throw err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return { code: FileCodes.NO_SPACE, message: `the receiver ran out of disk space (${e.code})` };
  if (e?.code === 'EFBIG') return { code: FileCodes.FILE_TOO_LARGE, message: 'the receiver cannot store a file this large (EFBIG: a file-size limit or the file system\'s)' };
  if (e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EROFS') return { code: FileCodes.READ_ONLY, message: `the receiver may not write there (${e.code})` };
  if (e?.code === 'ELOOP') return { code: FileCodes.FORBIDDEN_PATH, message: 'a symbolic link sits where the temporary file goes; refused rather than followed' };
  throw err;
}

/**
 * Receives files over an established session until the sender's BYE. Resolves with one result
 * per offer and the file bytes that travelled; rejects when the session failed (parts of
 * interrupted large files are kept for resume).
 */
export async function receiveFiles(ch: FrameChannel, sink: DiskSink, options: ReceiveOptions = {}): Promise<{ results: FileResult[]; bytesReceived: number }> {
  const emit = options.onEvent ?? (() => undefined);
  const prepared = new Map<number, IncomingFile>();
  const results: FileResult[] = [];
  let current: { id: number; file: IncomingFile; reportedBytes: number; refused?: { code: WireErrorCode; message: string } } | undefined;
  let nextOfferId = 0;
  let sawTotal = false;
  // File bytes that arrived; and those plus what resumed files already had (progress counts
  // those as done, as the sender's progress does, so an ETA against TOTAL comes out right).
  let bytesReceived = 0;
  let doneBytes = 0;
  let fromPeer: unknown;
  let smallThisTurn = 0;
  let finishError: unknown;
  const finishFile = async (id: number, file: IncomingFile, sha256: string): Promise<void> => {
    let result: FileResult;
    try {
      const done = await file.finish(sha256);
      // A file already here, identical, is marked so on both sides (and only then: the field is optional).
      const unchanged = done.unchanged ? { unchanged: true as const } : {};
      ch.send({ type: 'done', id, savedAs: done.savedAs, bytes: done.bytes, ...unchanged });
      result = { rel: file.rel, kind: 'file', ok: true, savedAs: done.savedAs, bytes: done.bytes, resumedFrom: file.resumedFrom, ...unchanged };
    } catch (err) {
      let r;
      try {
        r = refusal(err);
      } catch (fatal) {
        finishError ??= fatal;
        return;
      }
      ch.send({ type: 'fail', id, code: r.code, message: r.message });
      result = { rel: file.rel, kind: 'file', ok: false, bytes: file.size, resumedFrom: 0, error: wireError(r.code, r.message) };
    }
    results.push(result);
    emit({ type: 'file-done', result });
  };
  try {
    for (;;) {
      if (finishError) throw finishError;
      const m: Message | undefined = await ch.next();
      if (m === undefined) throw new FileTransferError(FileCodes.SHORT_TRANSFER, 'the sender closed the connection before it said BYE');
      switch (m.type) {
        case 'offer': {
          if (m.id !== nextOfferId++) throw new ProtocolError(FileCodes.BAD_HEADER, `offer ${m.id} out of order`);
          if (prepared.size >= MAX_PENDING_OFFERS) {
            throw new LimitExceededError(FileCodes.BAD_HEADER, `more than ${MAX_PENDING_OFFERS} offers outstanding`, MAX_PENDING_OFFERS, prepared.size + 1);
          }
          try {
            if (m.kind === 'dir') {
              const savedAs = await sink.makeDirectory(m.path);
              ch.send({ type: 'accept', id: m.id, offset: 0, prefixSha256: '' });
              ch.send({ type: 'done', id: m.id, savedAs, bytes: 0 });
              const result: FileResult = { rel: m.path, kind: 'dir', ok: true, savedAs, bytes: 0, resumedFrom: 0 };
              results.push(result);
              emit({ type: 'file-done', result });
              break;
            }
            const file = await sink.prepare(m.path, m.size);
            prepared.set(m.id, file);
            ch.send({ type: 'accept', id: m.id, offset: file.offset, prefixSha256: file.prefixSha256 });
          } catch (err) {
            const r = refusal(err);
            ch.send({ type: 'reject', id: m.id, code: r.code, message: r.message });
            const result: FileResult = { rel: m.path, kind: m.kind, ok: false, bytes: m.size, resumedFrom: 0, error: wireError(r.code, r.message) };
            results.push(result);
            emit({ type: 'file-done', result });
          }
          break;
        }
        case 'begin': {
          const file = prepared.get(m.id);
          if (!file || current) throw new ProtocolError(FileCodes.BAD_HEADER, `BEGIN for file ${m.id}, which was not accepted or follows an unfinished file`);
          try {
            await file.begin(m.offset);
            doneBytes += m.offset;
            current = { id: m.id, file, reportedBytes: m.offset };
            // A large file's next bytes are read straight into its blocks.
            ch.setDataTarget(file.dataTarget);
            emit({ type: 'file-start', rel: file.rel, size: file.size, offset: m.offset });
          } catch (err) {
            // The data is already on its way: drop it until END, then answer FAIL.
            current = { id: m.id, file, reportedBytes: m.offset, refused: refusal(err) };
          }
          break;
        }
        case 'data': {
          if (!current) throw new ProtocolError(FileCodes.BAD_HEADER, 'DATA outside a file');
          if (current.refused) break;
          try {
            await current.file.write(m.bytes);
          } catch (err) {
            // The sender's own mistakes end the session; the disk failing one file fails that file:
            // its remaining DATA is dropped and END is answered with FAIL.
            if (err instanceof SockitError) throw err;
            current.refused = refusal(err);
            ch.setDataTarget(undefined);
            break;
          }
          bytesReceived += m.bytes.length;
          doneBytes += m.bytes.length;
          // DATA arrives in socket-sized slices (FrameSplitter): report about once per block, as before.
          if (current.file.received - current.reportedBytes >= DATA_BLOCK_BYTES || current.file.received === current.file.size) {
            current.reportedBytes = current.file.received;
            emit({ type: 'progress', rel: current.file.rel, fileBytes: current.file.received, size: current.file.size, totalBytes: doneBytes });
          }
          break;
        }
        case 'end': {
          if (!current || current.id !== m.id) throw new ProtocolError(FileCodes.BAD_HEADER, `END for file ${m.id}, which is not being sent`);
          const { file, refused } = current;
          current = undefined;
          prepared.delete(m.id);
          if (refused) {
            await file.abandon();
            ch.send({ type: 'fail', id: m.id, code: refused.code, message: refused.message });
            const result: FileResult = { rel: file.rel, kind: 'file', ok: false, bytes: file.size, resumedFrom: 0, error: wireError(refused.code, refused.message) };
            results.push(result);
            emit({ type: 'file-done', result });
            break;
          }
          const inMemory = file.inMemory;
          await finishFile(m.id, file, m.sha256);
          if (inMemory && ++smallThisTurn >= SMALL_FILES_PER_TURN) {
            smallThisTurn = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          break;
        }
        case 'bye': {
          if (finishError) throw finishError;
          if (current || prepared.size > 0) throw new ProtocolError(FileCodes.BAD_HEADER, 'BYE while files were still in flight');
          let files = 0;
          let bytes = 0;
          for (const r of results) {
            if (r.ok && r.kind === 'file') {
              files++;
              bytes += r.bytes;
            }
          }
          ch.send({ type: 'bye', files, bytes });
          // Names the sender could not send (a GET's missing names) count as failed items.
          for (const miss of m.missing ?? []) {
            const result: FileResult = { rel: miss.name, kind: 'file', ok: false, bytes: 0, resumedFrom: 0, error: wireError(miss.code, miss.message) };
            results.push(result);
            emit({ type: 'file-done', result });
          }
          return { results, bytesReceived };
        }
        case 'total':
          // What the sender is about to offer, before its first OFFER (announced only to a
          // receiver that listed the `totals` feature).
          if (nextOfferId !== 0 || sawTotal) throw new ProtocolError(FileCodes.BAD_HEADER, 'TOTAL must come once, before the first OFFER');
          sawTotal = true;
          emit({ type: 'start', files: m.files, bytes: m.bytes });
          break;
        case 'error':
          fromPeer = wireError(m.code, m.message);
          throw fromPeer;
        default:
          throw new ProtocolError(FileCodes.BAD_HEADER, `unexpected ${m.type} message while receiving files`);
      }
    }
  } catch (err) {
    // Tell the peer why before the connection goes (it may already be gone).
    if (err !== fromPeer) ch.sendError(err);
    throw err;
  } finally {
    ch.setDataTarget(undefined);
    if (current) await current.file.abandon();
    for (const file of prepared.values()) if (file !== current?.file) await file.abandon();
  }
}
