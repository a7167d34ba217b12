/**
 * What a transfer reports while it runs (progress renderers and `--json` read these) and what it
 * returns per file.
 */
import type { FileTransferError } from '../errors.js';

/** The outcome of one file or directory. */
export interface FileResult {
  /** The path as sent. */
  rel: string;
  kind: 'file' | 'dir';
  ok: boolean;
  /** Where the receiver stored it, relative to its root (may be `name (1).ext`). */
  savedAs?: string;
  /** Bytes of the file (its full size when ok). */
  bytes: number;
  /** Bytes that were already there and not sent again (resume). */
  resumedFrom: number;
  /** The receiver already held this very file (same name, size and SHA-256) and kept it: nothing was sent or written. */
  unchanged?: true;
  /** Why it failed, when it did. */
  error?: FileTransferError;
}

/**
 * Progress events, in order: skipped* (what a sent directory holds that cannot be sent: special
 * files, symlinks that are not followed), start, then per file file-start, progress*, file-done.
 */
export type TransferEvent =
  | { type: 'skipped'; rel: string; reason: string }
  | { type: 'start'; files: number; bytes: number }
  | { type: 'file-start'; rel: string; size: number; offset: number }
  | { type: 'progress'; rel: string; fileBytes: number; size: number; totalBytes: number }
  | { type: 'file-done'; result: FileResult };

/** A whole session's outcome. */
export interface TransferSummary {
  results: FileResult[];
  /** Files and directories that arrived. */
  ok: number;
  /** Files and directories that did not. */
  failed: number;
  /** Of those that arrived, files the receiver already held, identical (not sent again). */
  unchanged: number;
  /** File bytes moved over the network in this session. */
  bytesSent: number;
}

/** Builds the summary of a list of results. */
export function summarize(results: FileResult[], bytesSent: number): TransferSummary {
  let ok = 0;
  let unchanged = 0;
  for (const r of results) {
    if (r.ok) ok++;
    if (r.ok && r.unchanged) unchanged++;
  }
  return { results, ok, failed: results.length - ok, unchanged, bytesSent };
}
