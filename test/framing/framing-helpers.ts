/**
 * Small helpers the framing tests share: feed chunks to a decoder, build wire bytes from frames,
 * cut bytes into chunks at given offsets.
 */
import type { Framing } from '../../src/framing/types.js';

/** Concatenates the pieces `encode` returns for every frame: the bytes a sender would write. */
export function encodeAll(framing: Framing, frames: readonly Uint8Array[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => framing.encode(f)));
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, clamped), keeping empty pieces out. */
export function cutAt(bytes: Uint8Array, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((o) => Math.max(0, Math.min(bytes.length, o))))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) chunks.push(Buffer.from(bytes.subarray(start, cut)));
    start = cut;
  }
  return chunks;
}

/** Feeds `chunks` to a fresh decoder, then ends it; returns the frames as copies. */
export function decodeChunks(framing: Framing, chunks: readonly Uint8Array[], maxFrameBytes: number): Buffer[] {
  const decoder = framing.createDecoder({ maxFrameBytes });
  const frames: Buffer[] = [];
  const collect = (frame: Buffer): void => {
    frames.push(Buffer.from(frame));
  };
  for (const chunk of chunks) decoder.push(chunk, collect);
  decoder.end(collect);
  return frames;
}

/** Hex of each frame, for readable deep-equal failures. */
export function hexes(frames: readonly Uint8Array[]): string[] {
  return frames.map((f) => Buffer.from(f).toString('hex'));
}

/** The bytes of a hex string (spaces allowed, for readable fixtures). */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
