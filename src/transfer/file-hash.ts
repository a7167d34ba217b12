/**
 * SHA-256 of a file being received, computed while it streams: on the main thread for small files,
 * on a hashing thread (hash-worker.ts) for large ones.
 *
 * Why a thread: with direct I/O (write-blocks.ts) the receiver's main thread became the bottleneck
 * of a large upload — reading the socket, splitting frames, copying into blocks and hashing — and
 * hashing is the largest part (0.6 s per GiB of 1.4–1.7 s). Measured on a 1 GiB put: without the
 * receiver's hash the transfer took 1.4–1.7 s instead of 1.9–2.2 s, while removing the sender's hash
 * changed nothing. The thread reads the blocks in place: the write-block arena is shared memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { FileHandle } from 'node:fs/promises';
import { giveBackBlock, sharedArena, takeBlock } from './write-blocks.js';

/**
 * Files at least this large are hashed on the hashing thread, by the sender and by the receiver;
 * smaller ones on the main thread (a thread's round trips cost more than hashing a few MiB).
 */
export const HASH_THREAD_MIN_BYTES = 16 * 1024 * 1024;

/** A running SHA-256. */
export interface FileHash {
  /**
   * Adds `bytes`. Returns undefined when they are hashed already, or a promise that resolves when
   * they are (until then the caller must not change them).
   */
  update(bytes: Uint8Array): Promise<void> | undefined;
  /** The digest of what was added so far; the hash goes on. */
  peek(): Promise<string>;
  /** The final digest; the hash is spent. */
  digest(): Promise<string>;
  /** Forgets the hash (an abandoned file). */
  drop(): void;
}

class MainThreadHash implements FileHash {
  readonly #hash: Hash = createHash('sha256');
  update(bytes: Uint8Array): undefined {
    this.#hash.update(bytes);
    return undefined;
  }
  peek(): Promise<string> {
    return Promise.resolve(this.#hash.copy().digest('hex'));
  }
  digest(): Promise<string> {
    return Promise.resolve(this.#hash.digest('hex'));
  }
  drop(): void {}
}

interface Reply {
  req: number;
  hex?: string;
  error?: string;
}

/** The one hashing thread of the process, started on first use and kept unreferenced while idle. */
class HashThread {
  readonly #worker: Worker;
  readonly #arena: SharedArrayBuffer | undefined;
  readonly #pending = new Map<number, { resolve: (hex: string | undefined) => void; reject: (err: Error) => void }>();
  #nextReq = 1;
  #nextId = 1;
  #failed: Error | undefined;

  constructor() {
    this.#arena = sharedArena();
    this.#worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { arena: this.#arena } });
    this.#worker.on('message', (r: Reply) => this.#settle(r));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the hashing thread exited (code ${code})`)));
    // After the listeners: adding a 'message' listener references the worker's port again, and a
    // thread started ahead of use (startHashThread) must not keep an idle process alive.
    this.#worker.unref();
  }

  start(): number {
    const id = this.#nextId++;
    this.#worker.postMessage({ op: 'start', id });
    return id;
  }

  drop(id: number): void {
    if (!this.#failed) this.#worker.postMessage({ op: 'drop', id });
  }

  update(id: number, bytes: Uint8Array): Promise<void> {
    if (this.#arena && bytes.buffer === this.#arena) {
      return this.#request({ op: 'update', id, offset: bytes.byteOffset, length: bytes.length }).then(() => undefined);
    }
    // Not in the shared arena: send a copy (moved, not copied again, to the thread).
    const copy = new Uint8Array(bytes);
    return this.#request({ op: 'update', id, bytes: copy }, [copy.buffer]).then(() => undefined);
  }

  async hex(op: 'peek' | 'digest', id: number): Promise<string> {
    return (await this.#request({ op, id }))!;
  }

  #request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<string | undefined> {
    if (this.#failed) return Promise.reject(this.#failed);
    const req = this.#nextReq++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      this.#worker.postMessage({ ...message, req }, transfer);
    });
  }

  #settle(r: Reply): void {
    const p = this.#pending.get(r.req);
    if (!p) return;
    this.#pending.delete(r.req);
    if (this.#pending.size === 0) this.#worker.unref();
    if (r.error !== undefined) p.reject(new Error(`hashing failed: ${r.error}`));
    else p.resolve(r.hex);
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const p of this.#pending.values()) p.reject(this.#failed);
    this.#pending.clear();
    if (thread === this) thread = undefined;
  }
}

let thread: HashThread | undefined;

class ThreadHash implements FileHash {
  readonly #thread: HashThread;
  readonly #id: number;
  constructor(t: HashThread) {
    this.#thread = t;
    this.#id = t.start();
  }
  update(bytes: Uint8Array): Promise<void> {
    return this.#thread.update(this.#id, bytes);
  }
  peek(): Promise<string> {
    return this.#thread.hex('peek', this.#id);
  }
  digest(): Promise<string> {
    return this.#thread.hex('digest', this.#id);
  }
  drop(): void {
    this.#thread.drop(this.#id);
  }
}

/**
 * Adds the first `bytes` bytes of an open file to `hash` (a resume's prefix), block by block through
 * the shared arena, calling `onBlock` after each (so a long local step does not look like a stall).
 * Resolves with the bytes hashed: fewer when the file is shorter.
 */
export async function hashFilePrefix(fh: FileHandle, hash: FileHash, bytes: number, onBlock: () => void): Promise<number> {
  const block = takeBlock();
  try {
    let pos = 0;
    while (pos < bytes) {
      const { bytesRead } = await fh.read(block, 0, Math.min(block.length, bytes - pos), pos);
      if (bytesRead === 0) break;
      await hash.update(block.subarray(0, bytesRead));
      pos += bytesRead;
      onBlock();
    }
    return pos;
  } finally {
    giveBackBlock(block);
  }
}

/**
 * Starts the hashing thread now if it is not running: a new thread takes ~40 ms to hash its first
 * block, which would otherwise stall the first large file. Idempotent; without worker threads it
 * does nothing (hashing then happens on the main thread).
 */
export function startHashThread(): void {
  if (process.env['SOCKIT_HASH_THREAD'] === 'off') return;
  try {
    thread ??= new HashThread();
  } catch {
    // No worker threads here.
  }
}

/** A new SHA-256: on the hashing thread when `offThread` (and a thread can be had), else here. */
export function createFileHash(offThread: boolean): FileHash {
  if (offThread && process.env['SOCKIT_HASH_THREAD'] !== 'off') {
    try {
      thread ??= new HashThread();
      return new ThreadHash(thread);
    } catch {
      // No worker threads here: hash on the main thread.
    }
  }
  return new MainThreadHash();
}
