/**
 * Free disk space for incoming files: what statfs(2) reports, less the bytes this process has
 * promised to transfers in progress. A file reserves its bytes when it is accepted (or when a
 * sender starts over from 0 after a resume offer) and releases them when it settles, so two
 * uploads accepted at once are never both promised the same space.
 */
import { promises as fsp } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { FileCodes, FileTransferError } from '../errors.js';
import { RESUME_MIN_BYTES } from './protocol/part-meta.js';

// Bytes promised to transfers in progress, subtracted from what statfs reports as free.
let reservedBytes = 0;

// statfs(2) per small file would be most of the cost of 10,000 small files: small files reuse a
// recent answer (the reservation counter covers what changed since), large ones always ask.
const STATFS_REUSE_MS = 200;
const STATFS_REUSE_MAX_BYTES = RESUME_MIN_BYTES;
let lastStatfs: { dir: string; atMs: number; freeBytes: number } | undefined;

/**
 * Reserves `bytes` in `dir` for the file `rel`, or throws ERR_SOCKIT_NO_SPACE (nothing reserved)
 * when they do not fit. Give them back with {@link releaseSpace}.
 */
export async function reserveSpace(dir: string, bytes: number, rel: string): Promise<void> {
  if (bytes <= 0) return;
  const nowMs = performance.now();
  let free: number;
  if (bytes < STATFS_REUSE_MAX_BYTES && lastStatfs && lastStatfs.dir === dir && nowMs - lastStatfs.atMs < STATFS_REUSE_MS) {
    free = lastStatfs.freeBytes - reservedBytes;
  } else {
    const st = await fsp.statfs(dir);
    lastStatfs = { dir, atMs: nowMs, freeBytes: st.bavail * st.bsize };
    free = st.bavail * st.bsize - reservedBytes;
  }
  if (bytes > free) {
    throw new FileTransferError(FileCodes.NO_SPACE, `no space for ${JSON.stringify(rel)}: it needs ${bytes} bytes, ${Math.max(0, free)} are free`);
  }
  reservedBytes += bytes;
}

/** Gives back bytes reserved with {@link reserveSpace}. */
export function releaseSpace(bytes: number): void {
  reservedBytes -= Math.max(0, bytes);
}
