/**
 * Files to a kernel TCP socket with sendfile(2) on the event loop, and SHA-256 of file ranges on the
 * libuv pool, by sockit's native helper (native/file_send.c, Linux): the bytes of a file never pass
 * through JavaScript memory on the sending side. On loopback the socket takes references to the
 * page-cache pages, so sending a GiB costs the sender no copy at all, where a read/write loop copies
 * it twice. Like Node's own socket writes, a send never blocks a thread: when the socket is full it
 * waits on the event loop (a libuv poll handle) until the socket takes more.
 *
 * `fileSender()` gives the calls, or undefined when the helper is not built, the platform is not
 * Linux, or SOCKIT_SENDFILE=off; callers then read blocks and write them from JavaScript.
 *
 * Read first: native/file_send.c (the calls), Linux sendfile(2), and frame-channel.ts (the only
 * caller of sendFrames, which keeps its own writes out of the way while one runs).
 */
import type { Socket } from 'node:net';
import { addonLoadError, loadAddon } from './native-addon.js';

type Opaque = object;

interface FileSendAddon {
  sha256New(): Opaque;
  sha256Hex(state: Opaque, final: boolean): string;
  hashFile(state: Opaque, fd: number, offset: number, length: number, cb: (err: Error | null, done: number) => void): void;
  sendFrames(sockFd: number, fileFd: number, offset: number, length: number, frameBody: number, type: number, cb: (err: Error | null, done: number) => void): Opaque;
  cancelSend(job: Opaque): void;
}

/** A running SHA-256 whose state lives in native memory (OpenSSL's, the one node:crypto uses). */
export interface NativeSha256 {
  /**
   * Adds `length` bytes of the file at `offset`, read on the libuv pool; resolves with the bytes
   * added (fewer when the file is shorter). One call at a time.
   */
  addFile(fd: number, offset: number, length: number): Promise<number>;
  /** The digest so far, in hex; the hash goes on. */
  peek(): string;
  /** The final digest, in hex; the hash is spent. */
  digest(): string;
}

/** The native calls for sending files. */
export interface FileSender {
  sha256(): NativeSha256;
  /**
   * Starts sending `length` bytes of the file at `offset` on the socket `sockFd` as frames of at
   * most `frameBody` bytes, each behind the 5-byte header [u32 BE body+1][type]. `done` resolves
   * with the bytes sent; it rejects with a Node-style system error (ECANCELED after `cancel`,
   * ENODATA when the file ended first, EPIPE/ECONNRESET when the peer went). The caller must not
   * write to the socket meanwhile.
   */
  sendFrames(sockFd: number, fileFd: number, offset: number, length: number, frameBody: number, type: number): FileSend;
}

/** One sendFrames call in flight. */
export interface FileSend {
  readonly done: Promise<number>;
  /** Stops it now; `done` rejects with ECANCELED (nothing happens once it has settled). */
  cancel(): void;
}

function withCallback(start: (cb: (err: Error | null, done: number) => void) => void): Promise<number> {
  return new Promise((resolve, reject) => start((err, done) => (err ? reject(err) : resolve(done))));
}

let sender: FileSender | null | undefined;

function wrap(addon: FileSendAddon): FileSender {
  return {
    sha256: () => {
      const state = addon.sha256New();
      return {
        addFile: (fd, offset, length) => withCallback((cb) => addon.hashFile(state, fd, offset, length, cb)),
        peek: () => addon.sha256Hex(state, false),
        digest: () => addon.sha256Hex(state, true),
      };
    },
    sendFrames: (sockFd, fileFd, offset, length, frameBody, type) => {
      let job: Opaque | undefined;
      const done = withCallback((cb) => (job = addon.sendFrames(sockFd, fileFd, offset, length, frameBody, type, cb)));
      // The job stays valid while we hold it; cancelling a finished one does nothing. (No job:
      // sendFrames threw, and `done` rejected with that.)
      return { done, cancel: () => job && addon.cancelSend(job) };
    },
  };
}

/** The native calls, or undefined (not built, not Linux, or SOCKIT_SENDFILE=off). */
export function fileSender(): FileSender | undefined {
  if (process.env['SOCKIT_SENDFILE'] === 'off') return undefined;
  if (sender === undefined) {
    const addon = loadAddon<FileSendAddon>('sockit_file_send', 'the sendfile(2) file sender');
    sender = addon ? wrap(addon) : null;
  }
  return sender ?? undefined;
}

/** Why the helper did not load (undefined when it did, or was not tried yet). */
export function fileSenderLoadError(): Error | undefined {
  return addonLoadError('sockit_file_send');
}

/** The descriptor of a kernel TCP socket (a node:net Socket with its handle), else undefined. */
export function kernelSocketFd(socket: unknown): number | undefined {
  const handle = (socket as Partial<Socket> & { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
