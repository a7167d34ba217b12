/**
 * `raw`: no framing at all — every chunk is a message, exactly as the transport delivered it (larger
 * chunks split into `maxFrameBytes` pieces). This is what the seeds' programs do with `recv(1024)`,
 * and why ten small writes arrive glued together: raw shows the sticky-packet problem, it does not
 * fix it.
 */
import { asBuffer, checkMaxFrameBytes } from './decoder-input.js';
import { badMaxFrameBytes } from './framing-errors.js';
import type { DecoderOptions, FrameDecoder, Framing } from './types.js';

/** Cuts nothing: hands each chunk on (zero-copy), in pieces of at most `maxFrameBytes`. */
class RawDecoder implements FrameDecoder {
  readonly #maxFrameBytes: number;

  constructor(options: DecoderOptions) {
    const max = checkMaxFrameBytes(options.maxFrameBytes);
    // A zero limit would make every non-empty chunk impossible to deliver.
    if (max === 0) throw badMaxFrameBytes(max);
    this.#maxFrameBytes = max;
  }

  get bufferedBytes(): number {
    return 0;
  }

  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): void {
    const buf = asBuffer(chunk);
    const max = this.#maxFrameBytes;
    if (buf.length <= max) {
      if (buf.length > 0) onFrame(buf);
      return;
    }
    for (let pos = 0; pos < buf.length; pos += max) onFrame(buf.subarray(pos, Math.min(pos + max, buf.length)));
  }

  end(_onFrame: (frame: Buffer) => void): void {}
}

/** Bytes as they come: encode writes the payload alone; decode returns chunks as delivered. */
export const raw: Framing = {
  name: 'raw',
  encode: (payload) => [payload],
  encodeInto(target, offset, payload) {
    target.set(payload, offset);
    return payload.length;
  },
  encodedLength: (payloadBytes) => payloadBytes,
  createDecoder: (options) => new RawDecoder(options),
};
