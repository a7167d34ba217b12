/**
 * What every decoder does with its input before decoding: validate the limit it was built with and
 * view chunks as Buffers (frames are handed out as Buffers, sockets already deliver Buffers).
 */
import { badMaxFrameBytes } from './framing-errors.js';

/** Throws SockitError ERR_SOCKIT_INVALID_ARGUMENT unless `maxFrameBytes` is a usable limit; returns it. */
export function checkMaxFrameBytes(maxFrameBytes: number): number {
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0) throw badMaxFrameBytes(maxFrameBytes);
  return maxFrameBytes;
}

/** Views `chunk` as a Buffer without copying. */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
