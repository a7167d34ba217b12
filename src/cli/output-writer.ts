/**
 * Writing what the peer sent to stdout with backpressure: when stdout (a slow pipe, a paused
 * terminal) stops taking bytes, we stop reading the network until it drains, so a fast peer never
 * makes sockit buffer without bound.
 */
import { ConnectionError, NetCodes } from '../errors.js';

/** Writes to one output stream, waiting for 'drain' when it is full. */
export class OutputWriter {
  readonly #stream: NodeJS.WritableStream;
  #error: Error | undefined;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    // A reader that went away (`sockit connect ... | head -1`) is reported once, not thrown as EPIPE.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.#error ??= new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', `write stdout: ${err.code === 'EPIPE' ? 'the reader closed the pipe' : err.message}`, { cause: err });
    });
  }

  /** Writes `bytes`; resolves once the stream can take more. */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (bytes.length === 0) return Promise.resolve();
    if (this.#stream.write(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#stream.off('drain', done);
        this.#stream.off('error', done);
        this.#stream.off('close', done);
        if (this.#error) reject(this.#error);
        else resolve();
      };
      this.#stream.on('drain', done);
      this.#stream.on('error', done);
      this.#stream.on('close', done);
    });
  }
}
