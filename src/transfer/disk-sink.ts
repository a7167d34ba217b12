/**
 * The receiving end's disk: where incoming files land, safely.
 *
 * Every file is written to `NAME.part` (or `NAME.N.part` while another transfer of the same name is
 * in progress, so two uploads never share a file) and moved into place only after its size and,
 * on the sockit protocol, its SHA-256 checked out. Moving never replaces an existing file unless
 * `overwrite`: the final name is taken with link(2), which fails instead of replacing, trying
 * `name (1).ext`, `name (2).ext`, ... Files of at least RESUME_MIN_BYTES keep `NAME.part.meta`
 * beside the part so an interrupted transfer can resume; smaller ones are gathered in memory and
 * written and moved into place with synchronous calls once verified (10,000 small files must not
 * cost 10,000 × 5 thread-pool round trips).
 *
 * Sizes are checked before any data flows: over `maxFileBytes` is ERR_SOCKIT_FILE_TOO_LARGE, over
 * the free space that statfs(2) reports (minus what transfers in progress reserved) ERR_SOCKIT_NO_SPACE.
 */
import { promises as fsp, constants as fsc, open as openCallback, write as writeCallback, close as closeCallback, openSync, writeSync, closeSync, linkSync, unlinkSync, renameSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { FileCodes, FileTransferError, LimitExceededError, ProtocolError } from '../errors.js';
import { SafeRoot } from './safe-fs.js';
import { releaseSpace, reserveSpace } from './free-space.js';
import { busyPart, claimPart, CREATE_NOFOLLOW, errno, lockPartOnDisk, lstatQuiet, metaPathOf, partMetaOf, partNameFree, releasePart, removeCreatedPart, SUPERSEDE_AFTER_IDLE_MS, type PartClaim, type PartLock, type SessionActivity } from './part-claims.js';
import { decodePartMeta, isTemporaryName, PART_SUFFIX, RESUME_MIN_BYTES } from './protocol/part-meta.js';
import { MAX_RENAME_ATTEMPTS, numberedName } from './protocol/unique-name.js';
import { DIRECT_IO_MIN_BYTES, directWritable } from './write-blocks.js';
import { BlockGatherer, type GatheredBlock } from './block-gatherer.js';
import type { DataTarget } from './frame-channel.js';
import { createFileHash, hashFilePrefix, HASH_THREAD_MIN_BYTES, type FileHash } from './file-hash.js';

/** Options of a {@link DiskSink}. */
export interface DiskSinkOptions {
  /** The tree files land in. */
  root: SafeRoot;
  /** Segments (already validated) of the directory under the root that peer paths are relative to. */
  base?: string[];
  /** Replace existing files instead of choosing `name (1).ext`. */
  overwrite?: boolean;
  /** Largest file accepted, in bytes (default: no limit). */
  maxFileBytes?: number;
  /** Keep `.part` + `.part.meta` of interrupted large files for resuming (the sockit protocol). */
  resumable?: boolean;
  /** Called during long local work (hashing a part to resume) so it does not count as a stall. */
  onBusy?: () => void;
  /**
   * Lets a retry take this session's parts over once the session has received nothing for
   * SUPERSEDE_AFTER_IDLE_MS: a new upload of the same file then asks this session to end (this
   * callback must end it, e.g. destroy its connection), waits until its parts are closed and kept,
   * and resumes from them. Without it, a second upload of a busy name gets a part of its own.
   */
  onSuperseded?: () => void;
  /**
   * Write files of DIRECT_IO_MIN_BYTES or more with O_DIRECT where the file system allows it
   * (write-blocks.ts says why). Default: on, unless SOCKIT_DIRECT_IO=off in the environment.
   */
  directIo?: boolean;
  /**
   * When the destination already holds a regular file of the offered size, offer its SHA-256 as a
   * resume point at its end (docs/files.md §6): a sender whose bytes hash the same then begins at
   * the end, sends nothing, and the file stays as it is — so re-running an interrupted directory
   * put skips what already arrived instead of storing `name (1).ext` copies. Needs the sender to
   * check the offered prefix (the sockit protocol).
   */
  skipIdentical?: boolean;
}

/** How long a new upload waits for a busy part's session to fall silent before taking a part of its own. */
const SUPERSEDE_MAX_WAIT_MS = 8000;

// The callback API costs about half the CPU of fs.promises' FileHandle-based writeFile per small
// file (measured: ~64 µs against ~100 µs), which is most of what 10,000 small files cost.
const openFd = promisify(openCallback);
const writeFd = promisify(writeCallback);
const closeFd = promisify(closeCallback);

// A small file's part, written and placed in one synchronous step: never over someone else's.
const CREATE_EXCL_NOFOLLOW = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;

/** Creates (or truncates) `file`, never through a symlink, and writes `data` into it. */
async function writeNewFile(file: string, data: Uint8Array): Promise<void> {
  const fd = await openFd(file, CREATE_NOFOLLOW, 0o644);
  try {
    for (let done = 0; done < data.length; ) done += (await writeFd(fd, data, done, data.length - done, null)).bytesWritten;
  } finally {
    await closeFd(fd);
  }
}

/**
 * Stores a small, already verified file: writes its part and moves it to its final name with the
 * same rules as {@link IncomingFile} (link(2) never replaces; rename(2) only with overwrite).
 * Synchronous on purpose: see the comment at the call site. Returns the name used.
 */
function storeSmallFileSync(init: IncomingFileInit, data: Uint8Array): string {
  // O_EXCL: the part name was free when prepare looked, and this process keeps it so (busyPart),
  // but another process writing into the same directory may have taken it since: then the next
  // part name not in use here. Never O_TRUNC over a part someone else is about to place.
  let partPath = init.partPath;
  let fd: number;
  for (let n = 0; ; n++) {
    if (n > 0) partPath = path.join(init.dir, `${init.name}.${n}${PART_SUFFIX}`);
    if (n > 0 && busyPart(partPath) !== undefined) continue;
    try {
      fd = openSync(partPath, CREATE_EXCL_NOFOLLOW, 0o644);
      break;
    } catch (err) {
      if (errno(err) !== 'EEXIST' || n >= MAX_RENAME_ATTEMPTS) throw err;
    }
  }
  try {
    try {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    try {
      unlinkSync(partPath);
    } catch {
      // Cleanup never fails in turn.
    }
    throw err;
  }
  return placePart(init, partPath);
}

/**
 * Moves a finished part to its final name and returns that name: rename(2) over an existing file
 * only with overwrite; otherwise link(2), which fails with EEXIST instead of replacing (no
 * check-then-rename race), to the first free of `name`, `name (1).ext`, ... A few metadata system
 * calls per file, so done synchronously for small and large files alike.
 */
function placePart(init: IncomingFileInit, partPath = init.partPath): string {
  const { dir, name } = init;
  if (init.overwrite) {
    try {
      renameSync(partPath, path.join(dir, name));
      return name;
    } catch (err) {
      // A directory of that name: fall through to numbered names.
      if (errno(err) !== 'EISDIR' && errno(err) !== 'ENOTEMPTY' && errno(err) !== 'EEXIST') throw err;
    }
  }
  for (let n = 0; n < MAX_RENAME_ATTEMPTS; n++) {
    const candidate = numberedName(name, n);
    try {
      linkSync(partPath, path.join(dir, candidate));
      unlinkSync(partPath);
      return candidate;
    } catch (err) {
      if (errno(err) === 'EEXIST') continue;
      throw err;
    }
  }
  throw new FileTransferError(FileCodes.FILE_EXISTS, `${JSON.stringify(name)} and ${MAX_RENAME_ATTEMPTS} numbered alternatives already exist`);
}

// Large files are gathered in reused 1 MiB blocks (write-blocks.ts, block-gatherer.ts) — read
// straight into them from kernel TCP, copied in otherwise — and written from them, with O_DIRECT
// where possible, which skips the kernel's copy into the page cache (half of the receiver's CPU in
// perf, 1 GiB upload).
// Disk writes that may trail behind the network (and the hash) before the receiver waits.
const MAX_WRITE_BEHIND_BYTES = 4 * 1024 * 1024;

/** Where a peer's files go. One per session (connection). */
export class DiskSink {
  readonly #root: SafeRoot;
  readonly #base: string[];
  readonly #overwrite: boolean;
  readonly #maxFileBytes: number;
  readonly #resumable: boolean;
  readonly #onBusy: () => void;
  readonly #onSuperseded: (() => void) | undefined;
  readonly #directIo: boolean;
  readonly #skipIdentical: boolean;
  readonly #activity: SessionActivity = { last: performance.now() };

  constructor(options: DiskSinkOptions) {
    this.#root = options.root;
    this.#base = options.base ?? [];
    this.#overwrite = options.overwrite ?? false;
    this.#maxFileBytes = options.maxFileBytes ?? Number.POSITIVE_INFINITY;
    this.#resumable = options.resumable ?? false;
    this.#onBusy = options.onBusy ?? (() => undefined);
    this.#onSuperseded = options.onSuperseded;
    this.#directIo = options.directIo ?? process.env['SOCKIT_DIRECT_IO'] !== 'off';
    this.#skipIdentical = options.skipIdentical ?? false;
  }

  /** Creates the directory `rel` (and its parents); returns its path relative to the root. */
  async makeDirectory(rel: string): Promise<string> {
    const segments = [...this.#base, ...SafeRoot.fileSegments(rel)];
    await this.#root.directory(segments, rel, true);
    return segments.join('/');
  }

  /**
   * Checks and reserves everything for an incoming file of `size` bytes at `rel`: path, size
   * limit, free space, a part file of its own, and (for a resumable part left by an earlier
   * attempt) the offset and SHA-256 of the prefix already on disk.
   */
  async prepare(rel: string, size: number): Promise<IncomingFile> {
    const segments = [...this.#base, ...SafeRoot.fileSegments(rel)];
    // Stored, such a file would never be listed nor served (ls and get skip sockit's own parts).
    if (isTemporaryName(segments[segments.length - 1]!)) {
      throw new FileTransferError(FileCodes.FORBIDDEN_PATH, `refused path ${JSON.stringify(rel)}: names ending in .part or .part.meta are sockit's temporary files, never listed or served; rename it`);
    }
    if (size > this.#maxFileBytes) {
      throw new FileTransferError(FileCodes.FILE_TOO_LARGE, `${JSON.stringify(rel)} is ${size} bytes, over the ${this.#maxFileBytes}-byte limit of this server (--max-size)`);
    }
    const dir = await this.#root.directory(segments.slice(0, -1), rel, true);
    const name = segments[segments.length - 1]!;
    const inMemory = size < RESUME_MIN_BYTES;
    const resumable = this.#resumable && !inMemory;
    let partPath = '';
    let disk: PartLock | false | undefined;
    for (let n = 0; ; n++) {
      partPath = path.join(dir, n === 0 ? `${name}${PART_SUFFIX}` : `${name}.${n}${PART_SUFFIX}`);
      let holder = busyPart(partPath);
      // Held by a session of this process: if #reclaim frees it, it is ours without a look at the
      // disk (the part there is that session's); if not, the loop goes on to the next name.
      const heldHere = holder !== undefined;
      // Our own session never supersedes itself (one put naming the same path twice): next part.
      if (holder?.supersede && resumable && holder.activity !== this.#activity) holder = await this.#reclaim(partPath, holder);
      // The look at the disk awaits: a concurrent upload of the same name may claim this part
      // meanwhile, so it is free only if still unclaimed afterwards. Small files skip the look:
      // their part is created with O_EXCL when stored, which takes the next name if this one is
      // on disk (storeSmallFileSync).
      const free = !holder && (heldHere || inMemory || ((await partNameFree(partPath, rel, size, resumable)) && !busyPart(partPath) !== undefined));
      if (!free) continue;
      // Another process (a second `get` into the same --out) may hold it: then the next name.
      // Small files write their part in one synchronous step at the end, with O_EXCL instead.
      disk = inMemory ? undefined : lockPartOnDisk(partPath, resumable ? partMetaOf(rel, size) : undefined);
      if (disk !== false) break;
    }
    // Claimed before the next await: a concurrent upload of the same name picks the next part.
    // Only a resumable part is worth taking over from a dead session (see #reclaim).
    this.#activity.last = performance.now();
    const claim = claimPart(partPath, this.#activity, resumable ? this.#onSuperseded : undefined, disk);
    let offset = 0;
    // Large files are hashed on the hashing thread (file-hash.ts), the rest here.
    const hashOffThread = size >= HASH_THREAD_MIN_BYTES;
    let hash: FileHash | undefined;
    let existing = false;
    let prefixSha256 = '';
    try {
      if (resumable) {
        const found = await this.#resumePoint(partPath, rel, size, hashOffThread);
        if (found) {
          offset = found.offset;
          hash = found.hash;
        }
      }
      if (!hash && this.#skipIdentical) {
        hash = await this.#existingFileHash(path.join(dir, name), size, hashOffThread);
        if (hash) {
          existing = true;
          offset = size;
        }
      }
      hash ??= createFileHash(hashOffThread);
      prefixSha256 = offset > 0 ? await hash.peek() : '';
      // Last: a failure after it would have to give the space back.
      await reserveSpace(dir, size - offset, rel);
    } catch (err) {
      hash?.drop();
      await removeCreatedPart(partPath, claim);
      releasePart(partPath, claim);
      throw err;
    }
    return new IncomingFile({
      rel,
      size,
      dir,
      name,
      partPath,
      savedPrefix: segments.slice(0, -1),
      inMemory,
      resumable,
      offset,
      prefixSha256,
      existing,
      hash,
      hashOffThread,
      overwrite: this.#overwrite,
      reserved: size - offset,
      claim,
      directIo: this.#directIo && !inMemory && size >= DIRECT_IO_MIN_BYTES && fsc.O_DIRECT !== undefined,
    });
  }

  /**
   * Another session holds the part we want. If it stays silent for SUPERSEDE_AFTER_IDLE_MS, it is a
   * sender that died without closing and we are the user's retry: end it, and resume from the part
   * it keeps. Bytes still queued on the path may keep a dead session busy a little longer, so wait
   * for that silence up to SUPERSEDE_MAX_WAIT_MS in all. Returns who holds the part then (undefined:
   * it is ours to take; a live holder: take a part of our own).
   */
  async #reclaim(partPath: string, holder: PartClaim): Promise<PartClaim | undefined> {
    const giveUpAt = performance.now() + SUPERSEDE_MAX_WAIT_MS;
    for (;;) {
      const waitMs = SUPERSEDE_AFTER_IDLE_MS - (performance.now() - holder.activity.last);
      if (waitMs <= 0 || performance.now() + waitMs > giveUpAt) break;
      this.#onBusy();
      await delay(waitMs);
      this.#onBusy();
      if (busyPart(partPath) !== holder) return busyPart(partPath);
    }
    if (performance.now() - holder.activity.last < SUPERSEDE_AFTER_IDLE_MS) return holder;
    holder.supersede?.();
    await holder.released;
    return busyPart(partPath);
  }

  /**
   * The SHA-256 of the file already at the destination, when it is a regular file (never followed
   * through a symlink) of exactly `size` bytes; undefined otherwise.
   */
  async #existingFileHash(file: string, size: number, offThread: boolean): Promise<FileHash | undefined> {
    // Small files look synchronously, like the rest of their path (one more pool round trip per
    // file measured ≈ 8% on 10,000 small files); a miss is one lstat that finds nothing.
    const st = size < RESUME_MIN_BYTES ? lstatQuiet(file) : await fsp.lstat(file).catch(() => undefined);
    if (!st?.isFile() || st.size !== size) return undefined;
    let fh;
    const hash = createFileHash(offThread);
    try {
      fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      if ((await hashFilePrefix(fh, hash, size, () => this.#onBusy())) === size) return hash;
    } catch {
      // Unreadable (EACCES) or gone meanwhile: received as a new file.
    } finally {
      await fh?.close();
    }
    hash.drop();
    return undefined;
  }

  async #resumePoint(partPath: string, rel: string, size: number, offThread: boolean): Promise<{ offset: number; hash: FileHash } | undefined> {
    let meta;
    try {
      meta = decodePartMeta(await fsp.readFile(metaPathOf(partPath), 'utf8'));
    } catch {
      return undefined;
    }
    if (meta.path !== rel || meta.size !== size) return undefined;
    let fh;
    let hash: FileHash | undefined;
    try {
      const st = await fsp.lstat(partPath);
      if (!st.isFile() || st.size === 0 || st.size > size) return undefined;
      fh = await fsp.open(partPath, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      hash = createFileHash(offThread);
      const offset = await hashFilePrefix(fh, hash, st.size, () => this.#onBusy());
      return { offset, hash };
    } catch {
      hash?.drop();
      return undefined;
    } finally {
      await fh?.close();
    }
  }
}

interface IncomingFileInit {
  rel: string;
  size: number;
  dir: string;
  name: string;
  partPath: string;
  savedPrefix: string[];
  inMemory: boolean;
  resumable: boolean;
  offset: number;
  prefixSha256: string;
  /** `offset` is the end of an identical-looking file already at the destination, not of a part. */
  existing: boolean;
  hash: FileHash;
  /** Hash on the hashing thread (large files). */
  hashOffThread: boolean;
  overwrite: boolean;
  reserved: number;
  claim: PartClaim;
  /** Try O_DIRECT for this file's aligned blocks. */
  directIo: boolean;
}

/**
 * Waits for a block's write and hash, then gives the block back (only once the hashing thread has
 * read it too, whatever happened). Resolves with the first failure, never rejects.
 */
async function settleBlock(b: GatheredBlock, writing: Promise<unknown>, hashed: Promise<void> | undefined): Promise<unknown> {
  try {
    await writing;
    await hashed; // a hashing failure fails the file like a write failure
    return undefined;
  } catch (err) {
    return err ?? new Error('block write failed');
  } finally {
    await hashed?.catch(() => undefined);
    b.release();
  }
}

/** One file being received: begin → write* → finish, or abandon. */
export class IncomingFile {
  /** The path the peer named. */
  readonly rel: string;
  /** The declared size. */
  readonly size: number;
  /** Where a resumed transfer may continue (0: from the start). */
  readonly offset: number;
  /** SHA-256 of the bytes before `offset` (empty when offset is 0). */
  readonly prefixSha256: string;
  readonly #init: IncomingFileInit;
  #hash: FileHash;
  #received = 0;
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  #fh: fsp.FileHandle | undefined;
  /** The same part opened with O_DIRECT, for aligned blocks (undefined: everything buffered). */
  #directFh: fsp.FileHandle | undefined;
  /** Block writes (and their hashing) in progress, oldest first. */
  readonly #writes: Array<Promise<void>> = [];
  #writingBytes = 0;
  /** The first block write or hash that failed: the file fails with it. */
  #writeFailure: unknown;
  /** Gathers a large file's bytes into blocks (undefined for files gathered in memory). */
  #gather: BlockGatherer | undefined;
  #begun = false;
  #startedAt = 0;
  #settled = false;
  /** Bytes of free space this file holds reserved. */
  #reserved: number;
  /** The sender has the same bytes as the file already at the destination: nothing is written. */
  #unchanged = false;

  constructor(init: IncomingFileInit) {
    this.#init = init;
    this.rel = init.rel;
    this.size = init.size;
    this.offset = init.offset;
    this.prefixSha256 = init.prefixSha256;
    this.#hash = init.hash;
    this.#reserved = init.reserved;
  }

  /** Where the sender began (the resume offset it accepted, or 0). */
  get resumedFrom(): number {
    return this.#startedAt;
  }

  /** True when the file is gathered in memory and written at finish (small files). */
  get inMemory(): boolean {
    return this.#init.inMemory;
  }

  /** Whether aligned blocks of this file go to the disk with O_DIRECT. */
  get directIo(): boolean {
    return this.#directFh !== undefined;
  }

  /** Bytes of the file on hand (resumed prefix included). */
  get received(): number {
    return this.#received;
  }

  /** Starts receiving at `offset`: the resume offset offered, or 0 to start over. */
  async begin(offset: number): Promise<void> {
    if (this.#begun) throw new ProtocolError(FileCodes.BAD_HEADER, `${JSON.stringify(this.rel)} was begun twice`);
    this.#begun = true;
    const init = this.#init;
    if (offset !== 0 && offset !== this.offset) {
      throw new ProtocolError(FileCodes.BAD_HEADER, `${JSON.stringify(this.rel)}: the sender began at ${offset}, but only 0 or ${this.offset} were offered`);
    }
    this.#received = offset;
    this.#startedAt = offset;
    if (init.existing && offset === this.offset) {
      // The sender hashed its file to what is already here (an empty file needs no hashing).
      this.#unchanged = true;
      return;
    }
    if (offset === 0 && this.offset > 0) {
      this.#hash.drop();
      this.#hash = createFileHash(init.hashOffThread);
      // The whole file comes after all: the space its prefix (or the file at the destination) seemed to save is needed.
      await reserveSpace(init.dir, this.offset, this.rel);
      this.#reserved += this.offset;
    }
    if (init.inMemory) return;
    if (offset > 0) {
      this.#fh = await fsp.open(init.partPath, fsc.O_WRONLY | fsc.O_NOFOLLOW);
    } else {
      this.#fh = await fsp.open(init.partPath, CREATE_NOFOLLOW, 0o644);
      if (init.resumable) {
        await writeNewFile(metaPathOf(init.partPath), Buffer.from(partMetaOf(this.rel, this.size), 'utf8'));
      }
    }
    if (init.directIo) {
      // EINVAL where the file system has no direct I/O (tmpfs, some FUSE): then buffered only.
      this.#directFh = await fsp.open(init.partPath, fsc.O_WRONLY | fsc.O_NOFOLLOW | fsc.O_DIRECT).catch(() => undefined);
    }
    this.#gather = new BlockGatherer(offset, this.size);
  }

  /**
   * Appends the next bytes (hashing them on the way). Disk writes run behind, up to
   * MAX_WRITE_BEHIND_BYTES: the promise resolves as soon as the caller may hand over more.
   */
  async write(bytes: Buffer): Promise<void> {
    if (!this.#begun) throw new ProtocolError(FileCodes.BAD_HEADER, `data for ${JSON.stringify(this.rel)} before it began`);
    if (this.#received + bytes.length > this.size) {
      throw new LimitExceededError(FileCodes.BAD_HEADER, `the sender sent more than the ${this.size} bytes it declared for ${JSON.stringify(this.rel)}`, this.size, this.#received + bytes.length);
    }
    this.#received += bytes.length;
    this.#init.claim.activity.last = performance.now();
    if (this.#init.inMemory) {
      this.#hash.update(bytes);
      this.#chunks.push(bytes);
      this.#chunkBytes += bytes.length;
      return;
    }
    this.#gather!.append(bytes, this.#toDisk);
    while (this.#writingBytes > MAX_WRITE_BEHIND_BYTES) await this.#writes[0];
    if (this.#writeFailure !== undefined) throw this.#writeFailure;
  }

  /**
   * Where the connection may read this file's next DATA bytes straight into its blocks (large files
   * being received; undefined otherwise). Reads land in order behind the bytes already taken.
   */
  get dataTarget(): DataTarget | undefined {
    return this.#settled ? undefined : this.#gather;
  }

  /**
   * Hands a gathered block to the disk at its own position. Writes of several blocks run at once
   * (the thread pool has four threads; one write at a time left the disk idle between them and
   * capped a 1 GiB upload at ~600 MB/s), and hashing runs beside them, in order, on the hashing
   * thread. The block is reused once both are done.
   */
  readonly #toDisk = (b: GatheredBlock): void => {
    const direct = this.#directFh && directWritable(b.bytes, b.position) ? this.#directFh : undefined;
    const writing = (direct ?? this.#fh!).write(b.bytes, 0, b.bytes.length, b.position);
    // Blocks are handed on in file order, so the hash sees the bytes in order.
    const hashed = this.#hash.update(b.bytes);
    const done = settleBlock(b, writing, hashed).then((err) => {
      if (err !== undefined) this.#writeFailure ??= err; // reported by the next write or by finish
      this.#writingBytes -= b.bytes.length;
      this.#writes.splice(this.#writes.indexOf(done), 1);
    });
    this.#writes.push(done);
    this.#writingBytes += b.bytes.length;
  };

  async #flush(): Promise<void> {
    this.#gather?.drain(this.#toDisk);
    await Promise.all(this.#writes);
    if (this.#writeFailure !== undefined) throw this.#writeFailure;
  }

  /**
   * Checks the size (and `expectedSha256` when given), then moves the part into place. Returns
   * the saved path relative to the root. A short or corrupt file is deleted, never kept.
   */
  async finish(expectedSha256?: string): Promise<{ savedAs: string; bytes: number; sha256: string; unchanged?: true }> {
    const init = this.#init;
    if (!this.#begun) await this.begin(0);
    try {
      await this.#flush();
      await this.#closeFiles();
      if (this.#received !== this.size) {
        throw new FileTransferError(FileCodes.SHORT_TRANSFER, `${JSON.stringify(this.rel)}: ${this.#received} of ${this.size} bytes arrived`);
      }
      const sha256 = await this.#hash.digest();
      if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
        const what = this.#unchanged ? `the file already here was kept as it is` : 'the file was discarded';
        throw new FileTransferError(FileCodes.BAD_HASH, `${JSON.stringify(this.rel)}: SHA-256 mismatch (sender ${expectedSha256.slice(0, 12)}…, received ${sha256.slice(0, 12)}…); ${what}`);
      }
      if (this.#unchanged) {
        // Nothing was written; the part claimed for the lock (if we made it) goes.
        await removeCreatedPart(init.partPath, init.claim);
        return { savedAs: [...init.savedPrefix, init.name].join('/'), bytes: this.size, sha256, unchanged: true };
      }
      if (init.inMemory) {
        // Synchronous on purpose (measured): a small file is an inode allocation plus four tiny
        // calls; sent through the thread pool five hops each, with several files at once, the
        // pool threads spun on the directory's lock and 10,000 files took ~1.5× as long at ~2×
        // the CPU. The receiver yields to the event loop between batches (file-receiver.ts).
        const name = storeSmallFileSync(init, this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#chunkBytes));
        this.#chunks = [];
        return { savedAs: [...init.savedPrefix, name].join('/'), bytes: this.size, sha256 };
      }
      const name = placePart(this.#init);
      if (init.resumable) await fsp.rm(metaPathOf(init.partPath), { force: true });
      return { savedAs: [...init.savedPrefix, name].join('/'), bytes: this.size, sha256 };
    } catch (err) {
      await this.#discard();
      throw err;
    } finally {
      this.#release();
    }
  }

  /**
   * The connection died mid-file: keep a resumable part, delete anything else. A part that held a
   * prefix before this attempt (offset > 0) is kept even if the attempt died before its first
   * byte: the next attempt checks the prefix's SHA-256 anyway.
   */
  async abandon(): Promise<void> {
    const init = this.#init;
    try {
      await this.#flush().catch(() => undefined);
      await this.#closeFiles().catch(() => undefined);
      // Cleanup after a failure never fails in turn: whatever cannot be removed stays behind.
      const keep = init.resumable && !this.#unchanged && (this.#received > 0 || (this.offset > 0 && !init.existing));
      if (!keep) await this.#discard().catch(() => undefined);
    } finally {
      this.#release();
    }
  }

  /** Closes the part's handles (both, even when one fails; then rejects with the first failure). */
  async #closeFiles(): Promise<void> {
    const handles = [this.#directFh, this.#fh];
    this.#directFh = undefined;
    this.#fh = undefined;
    const failed = (await Promise.allSettled(handles.map((h) => h?.close()))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #discard(): Promise<void> {
    await this.#closeFiles().catch(() => undefined);
    await fsp.rm(this.#init.partPath, { force: true });
    if (this.#init.resumable) await fsp.rm(metaPathOf(this.#init.partPath), { force: true });
  }

  #release(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#hash.drop();
    releasePart(this.#init.partPath, this.#init.claim);
    releaseSpace(this.#reserved);
  }
}
