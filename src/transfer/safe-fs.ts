/**
 * The only way file-transfer code reaches the disk below a shared root: every relative path goes
 * through safe-path.ts, and every directory on the way is checked with lstat so a symlink inside
 * the root that points out of it is refused (FileTransferError ERR_SOCKIT_FORBIDDEN_PATH), never
 * followed. Read CVE-2023-43621 (croc) for what happens otherwise.
 *
 * Limits: the checks and the later open are separate system calls, so a local user racing to swap
 * a checked directory for a symlink is not stopped (openat2 with RESOLVE_BENEATH would be; Node has
 * no binding for it). Peers on the network cannot do that.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FileCodes, FileTransferError } from '../errors.js';
import { safeDirSegments, safeSegments } from './protocol/safe-path.js';

function forbidden(rel: string, why: string): FileTransferError {
  return new FileTransferError(FileCodes.FORBIDDEN_PATH, `refused path ${JSON.stringify(rel)}: ${why}`);
}

/** A directory tree that peers may read from or write into, and nothing outside it. */
export class SafeRoot {
  /** The root's real path (symlinks of the root itself resolved once, at open). */
  readonly realRoot: string;
  /** Directories already checked (real, inside the root, no symlinks on the way). */
  readonly #checked = new Set<string>();

  private constructor(realRoot: string) {
    this.realRoot = realRoot;
    this.#checked.add(realRoot);
  }

  /** Opens `dir` (which must exist and be a directory) as a root. */
  static async open(dir: string): Promise<SafeRoot> {
    let real: string;
    try {
      real = await fsp.realpath(dir);
    } catch (err) {
      throw new FileTransferError(FileCodes.NOT_FOUND, `directory ${JSON.stringify(dir)} does not exist`, { cause: err });
    }
    const st = await fsp.stat(real);
    if (!st.isDirectory()) throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(dir)} is not a directory`);
    return new SafeRoot(real);
  }

  /** The absolute path of validated `segments` (no disk access). */
  absolute(segments: readonly string[]): string {
    return segments.length === 0 ? this.realRoot : path.join(this.realRoot, ...segments);
  }

  /**
   * Makes sure every directory of `segments` exists inside the root, creating missing ones when
   * `create`, refusing symlinks and non-directories on the way. Returns the absolute directory.
   */
  async directory(segments: readonly string[], rel: string, create: boolean): Promise<string> {
    let current = this.realRoot;
    for (const seg of segments) {
      const next = path.join(current, seg);
      if (!this.#checked.has(next)) {
        let st;
        try {
          st = await fsp.lstat(next);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
            throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(rel)} does not exist`, { cause: err });
          }
          try {
            await fsp.mkdir(next);
          } catch (mkErr) {
            if ((mkErr as NodeJS.ErrnoException).code !== 'EEXIST') throw mkErr;
          }
          st = await fsp.lstat(next);
        }
        if (st.isSymbolicLink()) throw forbidden(rel, `${JSON.stringify(seg)} is a symbolic link`);
        if (!st.isDirectory()) throw new FileTransferError(FileCodes.FILE_EXISTS, `cannot use ${JSON.stringify(rel)}: ${JSON.stringify(seg)} is a file, not a directory`);
        this.#checked.add(next);
      }
      current = next;
    }
    return current;
  }

  /** Validates a peer's relative file path: its segments (parent dirs + name). */
  static fileSegments(rel: string): string[] {
    return safeSegments(rel);
  }

  /** Validates a peer's directory argument ('' and '.' are the root). */
  static dirSegments(rel: string): string[] {
    return safeDirSegments(rel);
  }

  /**
   * Resolves an existing entry for reading (GET, LS): validated segments, no symlink anywhere on
   * the way. Returns its absolute path and lstat.
   */
  async existing(segments: readonly string[], rel: string): Promise<{ abs: string; stats: import('node:fs').Stats }> {
    const dir = await this.directory(segments.slice(0, -1), rel, false);
    const abs = segments.length === 0 ? dir : path.join(dir, segments[segments.length - 1]!);
    let stats;
    try {
      stats = await fsp.lstat(abs);
    } catch (err) {
      throw new FileTransferError(FileCodes.NOT_FOUND, `${JSON.stringify(rel)} does not exist`, { cause: err });
    }
    if (stats.isSymbolicLink()) throw forbidden(rel, 'it is a symbolic link');
    return { abs, stats };
  }
}
