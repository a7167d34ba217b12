/**
 * Which part file a transfer writes into, and that no one else writes into it (docs/files.md §7).
 *
 * Within this process a part is claimed in BUSY_PARTS; a session that fell silent can be
 * superseded by a retry, which then resumes from the part. Across processes (two `get`s into one
 * --out, two servers on one --dir) a large file's part is held with flock(2), taken without
 * waiting (src/io/native-file-lock.ts); a small file's part is created with O_EXCL instead.
 */
import { promises as fsp, constants as fsc, openSync, writeSync, closeSync, unlinkSync, fstatSync, lstatSync } from 'node:fs';
import { decodePartMeta, encodePartMeta, META_SUFFIX, PART_META_VERSION, PART_SUFFIX } from './protocol/part-meta.js';
import { fileLocksAvailable, tryLockFile } from '../io/native-file-lock.js';

// Temporary files are never opened through a symlink someone planted under their name.
export const CREATE_NOFOLLOW = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW;

/**
 * A session idle this long may be superseded by a new upload of one of its files. A sender that
 * died without closing its connection (a killed RUDP client cannot send RST; a kernel TCP peer's
 * machine may vanish) would otherwise hold its parts until the stall timeout, and the user's retry
 * would start from zero beside them instead of resuming.
 */
export const SUPERSEDE_AFTER_IDLE_MS = 2000;

/** When a session last received file bytes (shared by the parts it holds). */
export interface SessionActivity {
  last: number;
}

/** A part file in use, and how to reclaim it from a dead session. */
export interface PartClaim {
  activity: SessionActivity;
  supersede: (() => void) | undefined;
  released: Promise<void>;
  release: () => void;
  /** The part as locked on disk for other processes (lockPartOnDisk), when locks are available. */
  disk: PartLock | undefined;
}

/** A part file held with flock(2): the descriptor holding the lock, and whether we created the file. */
export interface PartLock {
  fd: number;
  created: boolean;
}

// Part files in use by a transfer in this process, across all connections and servers.
const BUSY_PARTS = new Map<string, PartClaim>();

/** The claim on `partPath` a transfer of this process holds, if any. */
export function busyPart(partPath: string): PartClaim | undefined {
  return BUSY_PARTS.get(partPath);
}

export function claimPart(partPath: string, activity: SessionActivity, supersede: (() => void) | undefined, disk: PartLock | undefined): PartClaim {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const claim: PartClaim = { activity, supersede, released, release, disk };
  BUSY_PARTS.set(partPath, claim);
  return claim;
}

export function releasePart(partPath: string, claim: PartClaim): void {
  if (BUSY_PARTS.get(partPath) === claim) BUSY_PARTS.delete(partPath);
  if (claim.disk) {
    const { fd } = claim.disk;
    claim.disk = undefined;
    try {
      closeSync(fd); // drops the flock(2) lock
    } catch {
      // Already closed: nothing to drop.
    }
  }
  claim.release();
}

/**
 * Claims the part file at `partPath` for other processes to see (BUSY_PARTS covers this one): opens
 * it, creating it empty when missing, and takes its flock(2) lock (src/io/native-file-lock.ts).
 * A part it creates for a resumable file gets its `meta` at once: a process killed before the
 * data came leaves a part the next transfer of that file recognises and reuses, not litter.
 * Returns the lock; false when another process holds it, or the name was unlinked or replaced
 * while we locked (the caller takes the next name); undefined when this system has no file locks
 * (nothing is opened then, and claims are per process as before).
 */
export function lockPartOnDisk(partPath: string, meta: string | undefined): PartLock | false | undefined {
  if (!fileLocksAvailable()) return undefined;
  let fd: number;
  let created = true;
  try {
    fd = openSync(partPath, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
  } catch (err) {
    if (errno(err) !== 'EEXIST') throw err;
    created = false;
    try {
      fd = openSync(partPath, fsc.O_RDWR | fsc.O_NOFOLLOW);
    } catch (again) {
      if (errno(again) === 'ENOENT') return false; // gone meanwhile: its owner placed it
      throw again;
    }
  }
  const locked = tryLockFile(fd);
  // The lock is ours, but the name must still lead to this file: the part we opened may have
  // been placed (unlinked) by its owner between our open and our lock.
  let current = false;
  if (locked) {
    try {
      const held = fstatSync(fd);
      const named = lstatSync(partPath);
      current = held.ino === named.ino && held.dev === named.dev;
    } catch {
      current = false;
    }
  }
  if (locked && current) {
    if (created && meta !== undefined) writeNewFileSync(metaPathOf(partPath), meta);
    return { fd, created };
  }
  closeSync(fd);
  if (locked === undefined && created) {
    try {
      unlinkSync(partPath);
    } catch {
      // Left empty; the next look at this name passes over it (no meta beside it).
    }
  }
  return locked === undefined ? undefined : false;
}

/** Creates (or truncates) `file`, never through a symlink, and writes `data` into it. */
function writeNewFileSync(file: string, data: string): void {
  const fd = openSync(file, CREATE_NOFOLLOW, 0o644);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Removes the part (and its meta) when the claim created it and nothing was written into it. */
export async function removeCreatedPart(partPath: string, claim: PartClaim): Promise<void> {
  if (!claim.disk?.created) return;
  await fsp.rm(partPath, { force: true });
  await fsp.rm(metaPathOf(partPath), { force: true });
}

/** The errno code of a failed file system call (`EEXIST`, ...). */
export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Whether a part name no transfer of this process holds may be used for `rel`: nothing is there,
 * or a part this kind of transfer can resume (its meta names the same file and size). Anything
 * else under that name — a user's own `NAME.part`, say — is never overwritten: the caller takes
 * the next name.
 */
export async function partNameFree(partPath: string, rel: string, size: number, resumable: boolean): Promise<boolean> {
  // A part that cannot be resumed only needs to be absent: one synchronous lstat that builds no
  // Error when nothing is there (the usual case, and most of the look for 10,000 small files).
  if (!resumable) return lstatQuiet(partPath) === undefined;
  const st = await fsp.lstat(partPath).catch(() => undefined);
  if (!st) return true;
  if (!st.isFile()) return false;
  try {
    const meta = decodePartMeta(await fsp.readFile(metaPathOf(partPath), 'utf8'));
    return meta.path === rel && meta.size === size;
  } catch {
    return false;
  }
}

/** lstat(2) that answers undefined instead of throwing (ENOENT without building an Error at all). */
export function lstatQuiet(file: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The NAME.part.meta text of a resumable part of `rel`. */
export function partMetaOf(rel: string, size: number): string {
  return encodePartMeta({ version: PART_META_VERSION, path: rel, size });
}

/** The NAME.part.meta beside `partPath`. */
export function metaPathOf(partPath: string): string {
  return partPath.slice(0, -PART_SUFFIX.length) + META_SUFFIX;
}
