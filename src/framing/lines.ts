/**
 * `lines`: each message is a line ended by LF; a CR right before the LF is stripped, so CRLF peers
 * (telnet, Windows tools, RFC 5321-style text protocols) work too. This is how `nc` users and the
 * seeds' interactive `input()` clients talk.
 *
 * Read first: RFC 5198 (network text uses CRLF; tolerating a bare LF is common practice) and Python's
 * `socket.makefile().readline()` (returns the final line even without a newline).
 *
 * Limits: a line may hold at most `maxFrameBytes` bytes, its terminator not counted. The error is
 * raised as soon as more bytes than that are buffered without a newline (one more is tolerated while
 * it is a CR that may precede the LF), not only when the line finally ends.
 * At end of input a final unterminated line is delivered (a trailing CR stripped as if LF followed).
 * Encoding refuses a message containing LF; a message ending in CR is sent as is but reads back
 * without that CR (the receiver cannot tell it from CRLF).
 */
import { InvalidStateError } from '../errors.js';
import { GrowableBuffer } from '../core/growable-buffer.js';
import { asBuffer, checkMaxFrameBytes } from './decoder-input.js';
import { lineTooLong, newlineInPayload } from './framing-errors.js';
import type { DecoderOptions, FrameDecoder, Framing } from './types.js';

/** Line feed, the terminator. */
const LF = 0x0a;
/** Carriage return, stripped before an LF. */
const CR = 0x0d;

/** Splits a stream at LF. Lines inside one chunk are zero-copy slices; spanning lines copy once. */
class LinesDecoder implements FrameDecoder {
  readonly #maxFrameBytes: number;
  /** The start of a line whose LF has not arrived yet (at most maxFrameBytes + a CR). */
  readonly #pending: GrowableBuffer;
  /** Set once a push threw: the stream's position is lost, so later pushes are refused. */
  #failed = false;

  constructor(options: DecoderOptions) {
    this.#maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes);
    this.#pending = new GrowableBuffer(this.#maxFrameBytes + 1);
  }

  get bufferedBytes(): number {
    return this.#pending.length;
  }

  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): void {
    if (this.#failed) throw new InvalidStateError('lines decoder already failed; close the connection it served');
    try {
      this.#split(asBuffer(chunk), onFrame);
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  #split(buf: Buffer, onFrame: (frame: Buffer) => void): void {
    const end = buf.length;
    const max = this.#maxFrameBytes;
    let pos = 0;
    if (this.#pending.length > 0) {
      const nl = buf.indexOf(LF);
      if (nl === -1) {
        this.#hold(buf, 0, end);
        return;
      }
      this.#hold(buf, 0, nl);
      let line = this.#pending.take();
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      if (line.length > max) throw lineTooLong(max, line.length);
      onFrame(line);
      pos = nl + 1;
    }
    while (pos < end) {
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        this.#hold(buf, pos, end);
        return;
      }
      const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      if (lineEnd - pos > max) throw lineTooLong(max, lineEnd - pos);
      onFrame(buf.subarray(pos, lineEnd));
      pos = nl + 1;
    }
  }

  end(onFrame: (frame: Buffer) => void): void {
    if (this.#failed || this.#pending.length === 0) return;
    let line = this.#pending.take();
    if (line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    onFrame(line);
  }

  /** Buffers the start of an unterminated line, failing as soon as it cannot fit the limit. */
  #hold(buf: Buffer, start: number, end: number): void {
    const held = this.#pending.length + (end - start);
    const max = this.#maxFrameBytes;
    if (held > max) {
      const lastByte = end > start ? buf[end - 1] : this.#pending.lastByte();
      // One byte over is still fine while it is a CR: the LF may be next.
      if (held > max + 1 || lastByte !== CR) throw lineTooLong(max, held);
    }
    this.#pending.append(buf, start, end);
  }
}

/** Newline-terminated messages: encode appends LF (a payload containing LF throws). */
export const lines: Framing = {
  name: 'lines',
  encode(payload) {
    const lf = payload.indexOf(LF);
    if (lf !== -1) throw newlineInPayload(lf);
    return [payload, Uint8Array.of(LF)];
  },
  encodeInto(target, offset, payload) {
    const lf = payload.indexOf(LF);
    if (lf !== -1) throw newlineInPayload(lf);
    target.set(payload, offset);
    target[offset + payload.length] = LF;
    return payload.length + 1;
  },
  encodedLength: (payloadBytes) => payloadBytes + 1,
  createDecoder: (options) => new LinesDecoder(options),
};
