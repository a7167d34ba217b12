/**
 * The metadata kept beside an unfinished download or upload (`NAME.part` holds the bytes,
 * `NAME.part.meta` this record), so the next transfer of the same file can resume (docs/files.md §6).
 *
 * Resuming is safe because the metadata only proposes where to continue: the receiver hashes the
 * `.part` prefix and the sender checks that hash against its own file before sending the rest.
 */
import { FileCodes, ProtocolError } from '../../errors.js';

/** Suffix of a partial file. */
export const PART_SUFFIX = '.part';

/** Suffix of a partial file's metadata. */
export const META_SUFFIX = '.part.meta';

/** Files smaller than this are written in one go and never leave resumable metadata. */
export const RESUME_MIN_BYTES = 1024 * 1024;

/** Format version of the metadata record. */
export const PART_META_VERSION = 1;

/** What a `.part.meta` file records. */
export interface PartMeta {
  version: number;
  /** The relative path being transferred, as the peer named it. */
  path: string;
  /** The declared total size of the file. */
  size: number;
}

/** Serialises a record. */
export function encodePartMeta(meta: PartMeta): string {
  return JSON.stringify(meta) + '\n';
}

/** Parses a record; throws ProtocolError for anything not written by {@link encodePartMeta}. */
export function decodePartMeta(text: string): PartMeta {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new ProtocolError(FileCodes.BAD_HEADER, 'unreadable .part.meta record');
  }
  const m = o as Partial<PartMeta> | null;
  if (
    !m ||
    m.version !== PART_META_VERSION ||
    typeof m.path !== 'string' ||
    typeof m.size !== 'number' ||
    !Number.isSafeInteger(m.size) ||
    m.size < 0
  ) {
    throw new ProtocolError(FileCodes.BAD_HEADER, 'unrecognised .part.meta record');
  }
  return { version: m.version, path: m.path, size: m.size };
}

/** True when `name` is one of sockit's temporary files (hidden from listings and never served). */
export function isTemporaryName(name: string): boolean {
  return name.endsWith(PART_SUFFIX) || name.endsWith(META_SUFFIX);
}
