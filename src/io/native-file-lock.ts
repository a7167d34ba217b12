/**
 * flock(2) without waiting, by sockit's native helper (native/file_send.c, Linux): `tryLockFile`.
 * Node has no binding for file locks. The receiver of a file claims its part file with it, so two
 * processes writing into one directory (two `get`s into one --out, two servers on one --dir) never
 * write into the same part; within one process, disk-sink.ts's own table does that already.
 *
 * An flock(2) lock belongs to the open file (the descriptor and its duplicates): a second open() of
 * the same file cannot take it, in this process or another; closing the descriptor, or the process
 * dying, drops it, so a killed transfer leaves no stale lock behind.
 */
import { loadAddon } from './native-addon.js';

interface FileLockAddon {
  lockFile(fd: number): boolean;
}

/** The helper's lockFile call, or undefined when it is not here. */
function lockCall(): FileLockAddon['lockFile'] | undefined {
  const addon = loadAddon<Partial<FileLockAddon>>('sockit_file_send', 'the sendfile(2) file sender');
  return typeof addon?.lockFile === 'function' ? addon.lockFile : undefined;
}

/**
 * Takes the exclusive lock of the open file `fd` now: true when taken, false when another open
 * file holds it; undefined when this system cannot lock (the helper is not built, not Linux, or the
 * file system has no locks), and the caller goes on without.
 */
export function tryLockFile(fd: number): boolean | undefined {
  const lock = lockCall();
  if (!lock) return undefined;
  try {
    return lock(fd);
  } catch {
    return undefined; // ENOLCK, EOPNOTSUPP, ...: no locks here
  }
}

/** Whether tryLockFile can lock at all here (the helper is loaded and has the call). */
export function fileLocksAvailable(): boolean {
  return lockCall() !== undefined;
}
