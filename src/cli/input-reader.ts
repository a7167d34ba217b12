/**
 * Pull-based reading of a command's stdin, chunk by chunk, shared by consecutive sessions
 * (`sockit listen --keep-open` serves one client after another from the same stdin).
 *
 * Bytes are only taken from the stream while someone waits in {@link InputReader.read}, so a
 * session that ends never swallows input meant for the next one, and an unread stdin stays paused
 * (the pipe fills and the writer waits: backpressure, not buffering).
 */
import type { Readable } from 'node:stream';
import { fromNodeError } from '../io/node-errors.js';

/** Reads chunks from a readable stream on demand. */
export class InputReader {
  readonly #stream: NodeJS.ReadableStream;
  #ended = false;
  #error: Error | undefined;
  #waiter: { resolve(chunk: Buffer | null): void; reject(err: Error): void } | undefined;
  #closed = false;

  constructor(stream: NodeJS.ReadableStream) {
    this.#stream = stream;
    stream.on('readable', this.#pump);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onError);
  }

  /** True once the stream reached its end (EOF). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * The next chunk, or null at end of input. Aborting `signal` resolves a pending read with null
   * without consuming anything. One read at a time.
   */
  read(signal?: AbortSignal): Promise<Buffer | null> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended || this.#closed || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiter = undefined;
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (chunk) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(chunk);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#pump();
    });
  }

  /**
   * Stops reading and lets the process exit even if stdin is still open (a terminal, or a pipe
   * whose writer lives on).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.off('readable', this.#pump);
    this.#stream.off('end', this.#onEnd);
    this.#stream.off('error', this.#onError);
    this.#waiter?.resolve(null);
    this.#waiter = undefined;
    this.#stream.pause();
    (this.#stream as Partial<Readable>).destroy?.();
  }

  readonly #pump = (): void => {
    const waiter = this.#waiter;
    if (!waiter) return;
    const chunk = this.#stream.read() as Buffer | string | null;
    if (chunk === null) {
      if (this.#ended) {
        this.#waiter = undefined;
        waiter.resolve(null);
      }
      return;
    }
    this.#waiter = undefined;
    waiter.resolve(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#pump();
  };

  readonly #onError = (err: Error): void => {
    this.#error = fromNodeError(err, 'read stdin');
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#error);
  };
}
