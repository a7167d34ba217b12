/**
 * Which relative paths a peer may name, on both protocols and in both directions.
 *
 * Read first: CVE-2023-43621 and CVE-2023-43617 (croc: a sender wrote outside the destination, and
 * control characters in names reached the terminal), the magic-wormhole advisory on directory
 * transfers with `..` members, and Microsoft's "Naming Files, Paths, and Namespaces" (reserved
 * device names, drive letters, trailing dots and spaces).
 *
 * The rule: a path is a `/`-separated list of ordinary names. Refused, with FileTransferError
 * `ERR_SOCKIT_FORBIDDEN_PATH` and the reason: empty paths, absolute paths (`/x`, `\x`, `C:`, `\\srv`),
 * empty, `.` and `..` segments, backslashes and colons (Windows separators and drive / stream
 * syntax), NUL and other control characters, Windows device names (CON, NUL, COM1, LPT1.txt, ...),
 * names ending in a dot or a space, and over-long names. Symlinks are a file-system matter and are
 * checked where the disk is touched (src/transfer/safe-fs.ts).
 */
import { FileCodes, FileTransferError } from '../../errors.js';

/** Longest path accepted, in UTF-8 bytes (PATH_MAX on Linux is 4096). */
export const MAX_PATH_BYTES = 4096;

/**
 * Longest single name accepted, in UTF-8 bytes: NAME_MAX (255 on Linux and most file systems) less
 * the 16 bytes a receiver adds to it on disk — `NAME.N.part.meta` while it arrives, `NAME (N).ext`
 * beside an existing file. A longer name would be accepted and then fail at the disk
 * (ENAMETOOLONG) halfway through a session.
 */
export const MAX_NAME_BYTES = 239;

/** Deepest directory nesting accepted. */
export const MAX_PATH_DEPTH = 64;

// Windows reserves these names in every directory, with or without an extension ("nul.txt").
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\..*)?$/i;

// C0 controls, DEL and C1 controls: never part of a name we write or print.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function forbidden(path: string, why: string): FileTransferError {
  return new FileTransferError(FileCodes.FORBIDDEN_PATH, `refused path ${JSON.stringify(path)}: ${why}`);
}

/** Checks one name (a path segment); returns a reason it is refused, or undefined when it is fine. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'empty segment';
  if (name === '.' || name === '..') return `'${name}' segment`;
  if (CONTROL.test(name)) return 'control character';
  if (name.includes('\\')) return 'backslash';
  if (name.includes(':')) return 'colon (drive letter or stream name)';
  if (name.includes('/')) return 'slash inside a name';
  if (DEVICE_NAME.test(name)) return 'Windows device name';
  if (name.endsWith('.') || name.endsWith(' ')) return 'name ends with a dot or a space';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `name longer than ${MAX_NAME_BYTES} bytes (the file system's 255 less room for NAME.N.part.meta)`;
  return undefined;
}

/**
 * Validates a relative path a peer sent (or a user typed for the remote side) and returns its
 * segments. Throws FileTransferError `ERR_SOCKIT_FORBIDDEN_PATH` saying why it was refused.
 */
export function safeSegments(path: string): string[] {
  if (path === '') throw forbidden(path, 'empty path');
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) throw forbidden(path, `longer than ${MAX_PATH_BYTES} bytes`);
  if (path.startsWith('/') || path.startsWith('\\')) throw forbidden(path, 'absolute path');
  if (/^[a-zA-Z]:/.test(path)) throw forbidden(path, 'drive letter');
  const segments = path.split('/');
  if (segments.length > MAX_PATH_DEPTH) throw forbidden(path, `deeper than ${MAX_PATH_DEPTH} levels`);
  for (const s of segments) {
    const problem = nameProblem(s);
    if (problem) throw forbidden(path, problem);
  }
  return segments;
}

/**
 * Like {@link safeSegments}, but the empty path and `.` mean the shared root itself (used for the
 * directory argument of PUT and LS). Returns the segments (none for the root).
 */
export function safeDirSegments(path: string): string[] {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (trimmed === '' || trimmed === '.') return [];
  return safeSegments(trimmed);
}

/** True when `path` passes {@link safeSegments}. */
export function isSafeRelativePath(path: string): boolean {
  try {
    safeSegments(path);
    return true;
  } catch {
    return false;
  }
}
