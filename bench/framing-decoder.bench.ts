/**
 * The len32 decoder alone, in memory: sockit's decoder against the naive `Buffer.concat`-per-chunk
 * decoder most tutorials write, on the same bytes fed in 64 KiB chunks (the most a Node socket read
 * delivers). Two workloads: 64 MiB frames (~1 GiB) and 100-byte frames (~10 M frames).
 *
 * Runs alternate A/B (sockit first on odd runs, the peer first on even ones) and report medians.
 * Usage: npm run bench -- framing-decoder   (RUNS=7 to change the run count)
 */
import { performance } from 'node:perf_hooks';
import { len32 } from '../src/framing/index.js';

const CHUNK_BYTES = 64 * 1024;
const RUNS = Number(process.env['RUNS'] ?? 5);

/** What every decoder under test must do: push chunks, call back with frames. */
interface Decoder {
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void;
}

/** The peer: keep one buffer, `Buffer.concat` every chunk onto it, cut frames off the front. */
class NaiveConcatDecoder implements Decoder {
  #buffered = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let buf = Buffer.concat([this.#buffered, chunk]);
    while (buf.length >= 4) {
      const length = buf.readUInt32BE(0);
      if (buf.length < 4 + length) break;
      onFrame(buf.subarray(4, 4 + length));
      buf = buf.subarray(4 + length);
    }
    this.#buffered = buf;
  }
}

interface Workload {
  name: string;
  frameBytes: number;
  /** 64 KiB chunks of a block of whole frames, fed `repeat` times. */
  chunks: Buffer[];
  framesPerBlock: number;
  /** Blocks fed per run for sockit and for the peer (the naive decoder is quadratic on big frames). */
  repeat: { sockit: number; naive: number };
}

function workload(name: string, frameBytes: number, framesPerBlock: number, repeat: Workload['repeat']): Workload {
  const frame = Buffer.concat(len32.encode(Buffer.alloc(frameBytes, 0x5a)));
  const block = Buffer.allocUnsafe(frame.length * framesPerBlock);
  for (let i = 0; i < framesPerBlock; i++) frame.copy(block, i * frame.length);
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < block.length; pos += CHUNK_BYTES) chunks.push(block.subarray(pos, pos + CHUNK_BYTES));
  return { name, frameBytes, chunks, framesPerBlock, repeat };
}

interface Sample {
  seconds: number;
  frames: number;
  bytes: number;
}

function run(decoder: Decoder, w: Workload, blocks: number): Sample {
  let frames = 0;
  let bytes = 0;
  const onFrame = (frame: Buffer): void => {
    frames++;
    bytes += frame.length;
  };
  const start = performance.now();
  for (let b = 0; b < blocks; b++) for (const chunk of w.chunks) decoder.push(chunk, onFrame);
  const seconds = (performance.now() - start) / 1000;
  if (frames !== w.framesPerBlock * blocks || bytes !== frames * w.frameBytes) {
    throw new Error(`${w.name}: decoded ${frames} frames / ${bytes} bytes, expected ${w.framesPerBlock * blocks} frames`);
  }
  return { seconds, frames, bytes };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const gc = (globalThis as { gc?: () => void }).gc;

function measure(w: Workload): void {
  const sockit: Sample[] = [];
  const naive: Sample[] = [];
  const one = (which: 'sockit' | 'naive'): void => {
    gc?.();
    if (which === 'sockit') sockit.push(run(len32.createDecoder({ maxFrameBytes: w.frameBytes }), w, w.repeat.sockit));
    else naive.push(run(new NaiveConcatDecoder(), w, w.repeat.naive));
  };
  // Warm-up (not counted): let both reach optimised code.
  run(len32.createDecoder({ maxFrameBytes: w.frameBytes }), w, 1);
  if (w.frameBytes < CHUNK_BYTES) run(new NaiveConcatDecoder(), w, 1);
  for (let i = 0; i < RUNS; i++) {
    const order: Array<'sockit' | 'naive'> = i % 2 === 0 ? ['sockit', 'naive'] : ['naive', 'sockit'];
    for (const which of order) one(which);
  }
  const rate = (samples: Sample[]) => ({
    mbPerS: median(samples.map((s) => s.bytes / s.seconds / 1e6)),
    framesPerS: median(samples.map((s) => s.frames / s.seconds)),
    bytes: samples[0]!.bytes,
    frames: samples[0]!.frames,
  });
  const a = rate(sockit);
  const b = rate(naive);
  const fmt = (r: ReturnType<typeof rate>, label: string): string =>
    `  ${label.padEnd(22)} ${r.mbPerS.toFixed(0).padStart(7)} MB/s ${(r.framesPerS / 1e6).toFixed(2).padStart(8)} M frames/s` +
    `   (per run: ${(r.bytes / 2 ** 20).toFixed(0)} MiB, ${r.frames} frames)`;
  console.log(`${w.name}: ${RUNS} runs each, alternating, medians`);
  console.log(fmt(a, 'sockit len32'));
  console.log(fmt(b, 'naive Buffer.concat'));
  console.log(`  ratio sockit / naive: ${(a.mbPerS / b.mbPerS).toFixed(2)}x`);
  console.log(`  per run, seconds: sockit ${sockit.map((s) => s.seconds.toFixed(3)).join(' ')} | naive ${naive.map((s) => s.seconds.toFixed(3)).join(' ')}`);
}

console.log(`node ${process.version}, ${CHUNK_BYTES / 1024} KiB chunks${gc ? ', gc between runs' : ''}`);
// 64 MiB frames: 16 per run (1 GiB) for sockit; the naive decoder copies the growing buffer on
// every chunk (~32 GiB copied per frame), so it decodes one frame per run.
measure(workload('64 MiB frames', 64 * 2 ** 20, 1, { sockit: 16, naive: 1 }));
// 100-byte frames: a 6.8 MB block of 65,536 frames (boundaries fall anywhere in the chunks), 153
// times = ~10 M frames per run, both decoders.
measure(workload('100-byte frames', 100, 65_536, { sockit: 153, naive: 153 }));
