/**
 * What a sender offers: local files and directories turned into a flat list of entries with the
 * relative paths the receiver will recreate (directories first, so empty ones exist too).
 */
import { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { FileCodes, FileTransferError } from '../errors.js';
import { isTemporaryName } from './protocol/part-meta.js';
import { SafeRoot } from './safe-fs.js';

/** One thing to send: a file with its size, or a directory to create. */
export interface SendEntry {
  /** Path the receiver sees, `/`-separated, relative to its destination. */
  rel: string;
  kind: 'file' | 'dir';
  /** Where the bytes are on this machine. */
  abs: string;
  size: number;
}

// Directory entries stat'ed at once: 10,000 files must not be 10,000 lstat round trips in a row.
const STAT_BATCH = 64;

/** Told of each entry a walk leaves out, with the reason in words (`put` prints them). */
export type SkipListener = (rel: string, reason: string) => void;

/** Why a non-file, non-directory entry is left out. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file or directory';
}

/**
 * Walks a directory into `out`. Left out, and told to `onSkip`:
 * - sockit's own temporary names (`.part`: receivers keep those for themselves);
 * - FIFOs, sockets and devices;
 * - symlinks to directories, always (loops, and escaping a shared root);
 * - symlinks to files, unless `followSymlinks` (a local user's own put), and symlinks that lead nowhere.
 */
async function walkDir(abs: string, rel: string, out: SendEntry[], followSymlinks: boolean, onSkip?: SkipListener): Promise<void> {
  out.push({ rel, kind: 'dir', abs, size: 0 });
  const names: string[] = [];
  for (const name of (await fsp.readdir(abs)).sort()) {
    if (!isTemporaryName(name)) names.push(name);
    else onSkip?.(`${rel}/${name}`, "its name ends like sockit's temporary files (.part), which receivers keep for themselves");
  }
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const batch = names.slice(i, i + STAT_BATCH);
    const found = await Promise.all(
      batch.map(async (name): Promise<{ st: Stats } | { skip: string }> => {
        const st = await fsp.lstat(path.join(abs, name));
        if (!st.isSymbolicLink()) return st.isFile() || st.isDirectory() ? { st } : { skip: kindOf(st) };
        if (!followSymlinks) return { skip: 'a symlink (not followed)' };
        const target = await fsp.stat(path.join(abs, name)).catch((err: NodeJS.ErrnoException) => err);
        if (target instanceof Error) return { skip: `a symlink that cannot be followed (${target.code ?? target.message})` };
        if (target.isFile()) return { st: target };
        return { skip: target.isDirectory() ? 'a symlink to a directory (not followed)' : `a symlink to ${kindOf(target)}` };
      }),
    );
    for (let j = 0; j < batch.length; j++) {
      const f = found[j]!;
      const childAbs = path.join(abs, batch[j]!);
      const childRel = `${rel}/${batch[j]}`;
      if ('skip' in f) onSkip?.(childRel, f.skip);
      else if (f.st.isDirectory()) await walkDir(childAbs, childRel, out, followSymlinks, onSkip);
      else out.push({ rel: childRel, kind: 'file', abs: childAbs, size: f.st.size });
    }
  }
}

/**
 * The entries for `put PATH...`: a file is sent under its own name, a directory as its name plus
 * everything below it (relative paths kept, empty directories included); what a directory holds
 * that cannot be sent is told to `onSkip`.
 */
export async function collectLocal(paths: readonly string[], onSkip?: SkipListener): Promise<SendEntry[]> {
  const out: SendEntry[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await fsp.stat(p);
    } catch (err) {
      throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(p)} does not exist`, { cause: err });
    }
    const abs = path.resolve(p);
    const name = path.basename(abs);
    if (st.isDirectory()) await walkDir(abs, name, out, true, onSkip);
    else if (st.isFile()) out.push({ rel: name, kind: 'file', abs, size: st.size });
    else throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(p)} is neither a file nor a directory`);
  }
  return out;
}

/**
 * The entries for a peer's `get NAME...` below a shared root: names are validated like any peer
 * path, symlinks are never followed, and the entries are named from the requested item down.
 * A name that is not there is listed in `missing` (the others are still sent, as scp does); a
 * forbidden name fails the whole request.
 */
export async function collectShared(root: SafeRoot, names: readonly string[]): Promise<{ entries: SendEntry[]; missing: Array<{ name: string; error: FileTransferError }> }> {
  const entries: SendEntry[] = [];
  const missing: Array<{ name: string; error: FileTransferError }> = [];
  for (const name of names) {
    const segments = SafeRoot.dirSegments(name);
    let found;
    try {
      found = await root.existing(segments, name);
    } catch (err) {
      if (err instanceof FileTransferError && err.code === FileCodes.NOT_FOUND) {
        missing.push({ name, error: err });
        continue;
      }
      throw err;
    }
    const { abs, stats } = found;
    const rel = segments.length === 0 ? path.basename(root.realRoot) : segments[segments.length - 1]!;
    if (stats.isDirectory()) await walkDir(abs, rel, entries, false);
    else if (stats.isFile() && !isTemporaryName(rel)) entries.push({ rel, kind: 'file', abs, size: stats.size });
    else missing.push({ name, error: new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(name)} is not a shared file or directory`) });
  }
  return { entries, missing };
}
