/**
 * The sending side of the sockit protocol (docs/files.md §5): offers files ahead of the data,
 * streams each accepted file once its ACCEPT arrives, and matches DONE / FAIL answers
 * asynchronously, so many small files cost no round trip each.
 *
 * Small files are read ahead of their turn and sent from memory. Larger ones, on kernel TCP with
 * the native helper, go from the page cache to the socket with sendfile(2) while their SHA-256 is
 * computed on the libuv pool (streamFromPageCache). Otherwise bytes are read with a FileHandle in
 * DATA_BLOCK_BYTES blocks (write-blocks.ts) and sent from there, hashed with SHA-256 as they go —
 * files of HASH_THREAD_MIN_BYTES or more on the hashing thread, beside the socket's send — and
 * never faster than the socket drains.
 */
import { promises as fsp, readFile as readFileCallback } from 'node:fs';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { FileCodes, FileTransferError, ProtocolError } from '../errors.js';
import { DATA_BLOCK_BYTES, wireError, type Message, type MissingItem } from './protocol/messages.js';
import type { FrameChannel } from './frame-channel.js';
import { createFileHash, hashFilePrefix, HASH_THREAD_MIN_BYTES, type FileHash } from './file-hash.js';
import { giveBackBlock, takeBlock } from './write-blocks.js';
import type { SendEntry } from './local-source.js';
import { fileSender, type NativeSha256 } from '../io/native-file-send.js';
import type { FileResult, TransferEvent } from './transfer-events.js';

/** How many offers may be outstanding ahead of the file being streamed. */
export const OFFER_WINDOW = 128;

/** Files up to this size are read ahead of their turn, so small files cost no disk wait each. */
export const PREFETCH_MAX_BYTES = 256 * 1024;

/** How many files are read ahead at most. */
export const PREFETCH_FILES = 64;

// The callback API costs markedly less CPU per small file than fs.promises' FileHandle-based one.
const readSmallFile = promisify(readFileCallback);

/** Blocks of a large file read ahead of the socket. */
export const READ_AHEAD_BLOCKS = 4;

/** Blocks of a large file sent but not yet hashed (on the hashing thread) before reading waits. */
export const HASH_AHEAD_BLOCKS = 4;

/**
 * The END hash of a file the sender gave up on before sending any of it: no data hashes to it, so
 * every receiver answers FAIL and keeps nothing (a v1 receiver needs no new message for this).
 */
const NO_DATA_SHA256 = '0'.repeat(64);

/** Bytes one native hashing call reads (streamFromPageCache). */
const HASH_SLICE_BYTES = 8 * DATA_BLOCK_BYTES;

type Answer = Extract<Message, { type: 'accept' } | { type: 'reject' }>;

function unexpected(m: Message | undefined, wanted: string): ProtocolError {
  return new ProtocolError(FileCodes.BAD_HEADER, m ? `expected ${wanted}, got ${m.type}` : `the peer closed the connection while we waited for ${wanted}`);
}

/** Options of {@link sendFiles}. */
export interface SendOptions {
  onEvent?: (event: TransferEvent) => void;
  /** Requested names that are not sent (a GET's missing names), reported to the receiver in BYE. */
  missing?: MissingItem[];
  /** Send TOTAL before the first offer: the receiver announced the `totals` feature in its HELLO. */
  announceTotal?: boolean;
}

/**
 * Sends `entries` over an established session (after HELLO and the request) and finishes it with
 * BYE. Resolves with one result per entry; rejects only when the session itself failed.
 */
export async function sendFiles(ch: FrameChannel, entries: readonly SendEntry[], options: SendOptions = {}): Promise<{ results: FileResult[]; bytesSent: number }> {
  const emit = options.onEvent ?? (() => undefined);
  const results: FileResult[] = new Array(entries.length);
  const outcome = new Map<number, (m: Extract<Message, { type: 'done' } | { type: 'fail' }>) => void>();
  const answers: Answer[] = [];
  let answerWaiter: ((a: Answer) => void) | undefined;
  let settledCount = 0;
  let allSettled: (() => void) | undefined;
  let bye: (() => void) | undefined;
  let sessionError: Error | undefined;
  let failSession: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    failSession = (err: Error) => {
      if (!sessionError) sessionError = err;
      reject(sessionError);
    };
  });
  failed.catch(() => undefined);

  let totalBytes = 0;
  for (const e of entries) totalBytes += e.size;
  emit({ type: 'start', files: entries.length, bytes: totalBytes });
  // What is coming, for the receiver's progress (a GET's client knows nothing of it otherwise).
  if (options.announceTotal) ch.send({ type: 'total', files: entries.length, bytes: totalBytes });
  let movedBytes = 0;
  let bytesSent = 0;

  const settle = (id: number, result: FileResult): void => {
    results[id] = result;
    settledCount++;
    emit({ type: 'file-done', result });
    if (settledCount === entries.length) allSettled?.();
  };

  // The reader: answers go to the writer in order, outcomes are matched by id whenever they come.
  const reader = (async () => {
    for (;;) {
      const m = await ch.next();
      if (m === undefined) throw unexpected(m, settledCount < entries.length ? 'answers for the files sent' : 'BYE');
      switch (m.type) {
        case 'accept':
        case 'reject':
          if (answerWaiter) {
            const w = answerWaiter;
            answerWaiter = undefined;
            w(m);
          } else answers.push(m);
          break;
        case 'done':
        case 'fail': {
          const on = outcome.get(m.id);
          if (!on) throw new ProtocolError(FileCodes.BAD_HEADER, `${m.type} for file ${m.id}, which is not in flight`);
          outcome.delete(m.id);
          on(m);
          break;
        }
        case 'bye':
          bye?.();
          return;
        case 'error':
          throw wireError(m.code, m.message);
        default:
          throw unexpected(m, 'ACCEPT, REJECT, DONE, FAIL or BYE');
      }
    }
  })();
  reader.catch((err: Error) => {
    failSession(err);
    // Unblocks a writer waiting for 'drain' from a receiver that stopped reading.
    ch.destroy(err);
  });

  const nextAnswer = (): Promise<Answer> =>
    answers.length > 0 ? Promise.resolve(answers.shift()!) : Promise.race([new Promise<Answer>((resolve) => (answerWaiter = resolve)), failed]);

  let offered = 0;
  const offerUpTo = (limit: number): void => {
    while (offered < entries.length && offered < limit) {
      const e = entries[offered]!;
      const id = offered++;
      outcome.set(id, (m) => {
        if (m.type === 'done') {
          const result: FileResult = { rel: e.rel, kind: e.kind, ok: true, savedAs: m.savedAs, bytes: e.size, resumedFrom: resumedFrom[id] ?? 0 };
          settle(id, m.unchanged ? { ...result, unchanged: true } : result);
        }
        else settle(id, { rel: e.rel, kind: e.kind, ok: false, bytes: e.size, resumedFrom: 0, error: wireError(m.code, m.message) });
      });
      ch.send({ type: 'offer', id, path: e.rel, kind: e.kind, size: e.size });
    }
  };
  // Where each resumed file started; set before its END goes out, so before its DONE can come back.
  const resumedFrom: number[] = [];

  const prefetched = new Map<number, Promise<Buffer>>();
  let prefetchedUpTo = 0;
  const prefetch = (limit: number): void => {
    for (; prefetchedUpTo < entries.length && prefetchedUpTo < limit; prefetchedUpTo++) {
      const e = entries[prefetchedUpTo]!;
      if (e.kind !== 'file' || e.size > PREFETCH_MAX_BYTES) continue;
      const p = readSmallFile(e.abs);
      // Read errors surface when the file's turn comes; a session that ended first ignores them.
      p.catch(() => undefined);
      prefetched.set(prefetchedUpTo, p);
    }
  };

  for (let id = 0; id < entries.length; id++) {
    if (sessionError) break;
    offerUpTo(id + OFFER_WINDOW);
    prefetch(id + PREFETCH_FILES);
    const answer = await nextAnswer();
    if (answer.id !== id) throw new ProtocolError(FileCodes.BAD_HEADER, `answer for file ${answer.id} while file ${id} was expected (answers must come in order)`);
    const entry = entries[id]!;
    if (answer.type === 'reject') {
      outcome.delete(id);
      settle(id, { rel: entry.rel, kind: entry.kind, ok: false, bytes: entry.size, resumedFrom: 0, error: wireError(answer.code, answer.message) });
      continue;
    }
    if (entry.kind === 'dir') continue;
    const content = prefetched.get(id);
    prefetched.delete(id);
    const unreadable = await streamFile(ch, id, entry, answer, content, emit, {
      onStart: (start) => {
        resumedFrom[id] = start;
        movedBytes += start;
      },
      onBytes: (n, fileBytes) => {
        movedBytes += n;
        bytesSent += n;
        emit({ type: 'progress', rel: entry.rel, fileBytes, size: entry.size, totalBytes: movedBytes });
      },
    });
    if (unreadable) {
      // Not one byte of it went: the receiver drops it (BEGIN, END with a hash no data has: FAIL),
      // the session goes on, and the file fails with our own reason, as tar and rsync name a file
      // that vanished or cannot be read and carry on.
      outcome.set(id, () => settle(id, { rel: entry.rel, kind: 'file', ok: false, bytes: entry.size, resumedFrom: 0, error: unreadable }));
      ch.send({ type: 'begin', id, offset: answer.offset });
      ch.send({ type: 'end', id, sha256: NO_DATA_SHA256 });
    }
  }
  if (settledCount < entries.length) {
    await Promise.race([new Promise<void>((resolve) => (allSettled = resolve)), failed]);
  }
  const byeReceived = new Promise<void>((resolve) => (bye = resolve));
  let okBytes = 0;
  let okFiles = 0;
  for (const r of results) {
    if (r.ok) {
      okFiles++;
      okBytes += r.bytes;
    }
  }
  ch.send(options.missing?.length ? { type: 'bye', files: okFiles, bytes: okBytes, missing: options.missing } : { type: 'bye', files: okFiles, bytes: okBytes });
  await Promise.race([byeReceived, failed]);
  await reader;
  return { results, bytesSent };
}

/** Why a file cannot be sent at all (it vanished since the walk, or may not be read). */
function cannotRead(entry: SendEntry, err: unknown): FileTransferError {
  return new FileTransferError(FileCodes.NOT_FOUND, `cannot read ${JSON.stringify(entry.abs)}: ${(err as Error).message}`, { cause: err });
}

/**
 * Streams one accepted file (from the resume offset when the prefix checks out). Resolves with an
 * error, and sends nothing, when the file cannot be opened or read before its BEGIN.
 */
async function streamFile(
  ch: FrameChannel,
  id: number,
  entry: SendEntry,
  accept: Extract<Message, { type: 'accept' }>,
  content: Promise<Buffer> | undefined,
  emit: (e: TransferEvent) => void,
  progress: { onStart: (offset: number) => void; onBytes: (n: number, fileBytes: number) => void },
): Promise<FileTransferError | undefined> {
  const { onStart, onBytes } = progress;
  if (content && accept.offset === 0) {
    const bytes = await content.catch((err: unknown) => err as Error);
    if (bytes instanceof Error) return cannotRead(entry, bytes);
    if (bytes.length !== entry.size) {
      throw new FileTransferError(FileCodes.SHORT_TRANSFER, `${JSON.stringify(entry.abs)} changed size while it was being sent (${entry.size} → ${bytes.length} bytes)`);
    }
    onStart(0);
    emit({ type: 'file-start', rel: entry.rel, size: entry.size, offset: 0 });
    ch.send({ type: 'begin', id, offset: 0 });
    if (bytes.length > 0) {
      const more = ch.sendData(bytes);
      onBytes(bytes.length, bytes.length);
      if (!more) await ch.drained();
    }
    ch.send({ type: 'end', id, sha256: createHash('sha256').update(bytes).digest('hex') });
    return undefined;
  }
  const fh = await fsp.open(entry.abs, 'r').catch((err: unknown) => err as Error);
  if (fh instanceof Error) return cannotRead(entry, fh);
  if (ch.sendsFiles) {
    try {
      await streamFromPageCache(ch, fh, id, entry, accept, emit, progress);
    } finally {
      await fh.close();
    }
    return undefined;
  }
  const offThread = entry.size >= HASH_THREAD_MIN_BYTES;
  let hash = createFileHash(offThread);
  try {
    let start = 0;
    if (accept.offset > 0 && accept.offset <= entry.size) {
      // Resume only after our own bytes hash to what the receiver holds: a changed file starts over.
      const hashed = await hashFilePrefix(fh, hash, accept.offset, () => ch.touch());
      if (hashed === accept.offset && (await hash.peek()) === accept.prefixSha256) start = accept.offset;
      if (start === 0) {
        hash.drop();
        hash = createFileHash(offThread);
      }
    }
    onStart(start);
    emit({ type: 'file-start', rel: entry.rel, size: entry.size, offset: start });
    ch.send({ type: 'begin', id, offset: start });
    await streamBlocks(ch, fh, entry, start, hash, onBytes);
    ch.send({ type: 'end', id, sha256: await hash.digest() });
    return undefined;
  } catch (err) {
    hash.drop();
    throw err;
  } finally {
    await fh.close();
  }
}

/**
 * streamFile on kernel TCP with the native helper: the bytes go from the page cache to the socket
 * with sendfile(2) and never through our memory; SHA-256 runs on the libuv pool over the same range
 * meanwhile (both in 8 MiB steps). A file changed while it is sent fails the receiver's
 * hash check; one that shrinks ends the session with SHORT_TRANSFER.
 */
async function streamFromPageCache(
  ch: FrameChannel,
  fh: fsp.FileHandle,
  id: number,
  entry: SendEntry,
  accept: Extract<Message, { type: 'accept' }>,
  emit: (e: TransferEvent) => void,
  progress: { onStart: (offset: number) => void; onBytes: (n: number, fileBytes: number) => void },
): Promise<void> {
  const sender = fileSender()!;
  const shrank = (at: number): FileTransferError =>
    new FileTransferError(FileCodes.SHORT_TRANSFER, `${JSON.stringify(entry.abs)} shrank while it was being sent (${at} of ${entry.size} bytes)`);
  let hash = sender.sha256();
  let start = 0;
  if (accept.offset > 0 && accept.offset <= entry.size) {
    // Resume only after our own bytes hash to what the receiver holds: a changed file starts over.
    const hashed = await hashFileRange(ch, hash, fh.fd, 0, accept.offset, () => false);
    if (hashed === accept.offset && hash.peek() === accept.prefixSha256) start = accept.offset;
    else hash = sender.sha256();
  }
  progress.onStart(start);
  emit({ type: 'file-start', rel: entry.rel, size: entry.size, offset: start });
  ch.send({ type: 'begin', id, offset: start });
  let stop = false;
  const hashing = hashFileRange(ch, hash, fh.fd, start, entry.size, () => stop);
  hashing.catch(() => undefined);
  let pos = start;
  try {
    await ch.sendFileData(fh.fd, start, entry.size - start, (n) => {
      pos += n;
      progress.onBytes(n, pos);
    });
  } catch (err) {
    stop = true;
    await hashing.catch(() => undefined);
    throw (err as NodeJS.ErrnoException).code === 'ENODATA' ? shrank(pos) : err;
  }
  const hashed = await hashing;
  if (hashed !== entry.size - start) throw shrank(start + hashed);
  ch.send({ type: 'end', id, sha256: hash.digest() });
}

/** Adds [from, to) of the file to `hash` in HASH_SLICE_BYTES steps; resolves with the bytes added. */
async function hashFileRange(ch: FrameChannel, hash: NativeSha256, fd: number, from: number, to: number, stopped: () => boolean): Promise<number> {
  let pos = from;
  while (pos < to && !stopped()) {
    const n = await hash.addFile(fd, pos, Math.min(HASH_SLICE_BYTES, to - pos));
    if (n === 0) break;
    pos += n;
    // A long resume prefix is local work: it must not look like a stalled peer.
    ch.touch();
  }
  return pos - from;
}

/**
 * Streams [start, size) of an open file as DATA frames of one block each. Reads run ahead of the
 * socket (READ_AHEAD_BLOCKS positioned reads in flight) so the disk and the network work at the
 * same time; each block is hashed (on the hashing thread for large files, while the socket sends
 * it) and goes back to the pool once both are done. Waits while the kernel has not taken the
 * channel's high-water mark yet, or HASH_AHEAD_BLOCKS blocks still wait for the hashing thread.
 */
async function streamBlocks(ch: FrameChannel, fh: fsp.FileHandle, entry: SendEntry, start: number, hash: FileHash, onBytes: (n: number, fileBytes: number) => void): Promise<void> {
  const reads: Array<Promise<{ block: Buffer; want: number; bytesRead: number }>> = [];
  const hashing: Array<Promise<void>> = [];
  let readPos = start;
  const issueReads = (): void => {
    while (reads.length < READ_AHEAD_BLOCKS && readPos < entry.size) {
      const want = Math.min(DATA_BLOCK_BYTES, entry.size - readPos);
      const block = takeBlock();
      const p = fh.read(block, 0, want, readPos).then(
        ({ bytesRead }) => ({ block, want, bytesRead }),
        (err: unknown) => {
          giveBackBlock(block);
          throw err;
        },
      );
      p.catch(() => undefined);
      reads.push(p);
      readPos += want;
    }
  };
  let pos = start;
  try {
    while (pos < entry.size) {
      issueReads();
      const { block, want, bytesRead } = await reads.shift()!;
      if (bytesRead !== want) {
        giveBackBlock(block);
        throw new FileTransferError(FileCodes.SHORT_TRANSFER, `${JSON.stringify(entry.abs)} shrank while it was being sent (${pos + bytesRead} of ${entry.size} bytes)`);
      }
      const bytes = block.subarray(0, want);
      const hashed = hash.update(bytes);
      let flushed!: () => void;
      const sent = new Promise<void>((resolve) => (flushed = resolve));
      // The block is reused once the kernel took it and the hash read it (if the hash failed, it is
      // left to the garbage collector).
      void Promise.all([hashed, sent]).then(
        () => giveBackBlock(block),
        () => undefined,
      );
      pos += bytesRead;
      const more = ch.sendData(bytes, flushed);
      onBytes(bytesRead, pos);
      if (hashed) {
        hashing.push(hashed);
        if (hashing.length > HASH_AHEAD_BLOCKS) await hashing.shift();
      }
      if (!more) await ch.drained();
    }
    await Promise.all(hashing);
  } finally {
    // Never close the handle under a read still in flight.
    const left = await Promise.allSettled(reads);
    for (const r of left) if (r.status === 'fulfilled') giveBackBlock(r.value.block);
  }
}
