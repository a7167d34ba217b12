/**
 * Simulator goodput (issue 5 "Speed", second bullet): one RUDP bulk transfer over a simulated
 * 100 Mbit/s link with a 50 ms RTT at 0%, 1% and 5% random loss, for NewReno and CUBIC, beside the
 * two ceilings it should be read against — the link rate × (1 − loss) and the Mathis et al. bound
 * MSS/RTT · C/√p (C ≈ 1.22, "The Macroscopic Behavior of the TCP Congestion Avoidance Algorithm",
 * 1997) — and the time to complete a 1 MB transfer (handshake included).
 *
 * The simulator is deterministic, so "runs" are seeds: each cell is the median over RUNS seeds, with
 * NewReno and CUBIC alternating seed by seed. Loss applies to the data direction only (the Mathis
 * model's assumption); ACKs travel a clean 100 Mbit/s path. The drop-tail queue holds one
 * bandwidth-delay product (625 kB). The wall-clock column says how fast the simulator itself runs
 * (simulated seconds per real second).
 *
 * Usage: npm run bench -- sim-goodput   (RUNS=5, GOODPUT_SECONDS=10 to change)
 */
import { performance } from 'node:perf_hooks';
import { createRng } from '../src/core/rng.js';
import { Simulator } from '../src/sim/simulator.js';
import type { LinkImpairments } from '../src/sim/impairments.js';
import { RudpEndpoint } from '../src/rudp/endpoint.js';
import type { RudpConnection } from '../src/rudp/connection.js';
import type { CongestionControllerConfig } from '../src/rudp/congestion/congestion-controller.js';
import { newReno } from '../src/rudp/congestion/new-reno.js';
import { cubic } from '../src/rudp/congestion/cubic.js';
import { DEFAULT_MSS } from '../src/rudp/config.js';

const RUNS = Number(process.env['RUNS'] ?? 5);
const GOODPUT_SECONDS = Number(process.env['GOODPUT_SECONDS'] ?? 10);
/** Goodput is measured after this warm-up (handshake and slow start excluded). */
const WARMUP_SECONDS = 2;
const LINK_BITS_PER_SEC = 100e6;
const RTT_MS = 50;
const BDP_BYTES = (LINK_BITS_PER_SEC / 8) * (RTT_MS / 1000);
const ONE_MB = 1_000_000;
const LOSSES = [0, 0.01, 0.05];
const CONTROLLERS: Array<[string, CongestionControllerConfig]> = [['NewReno', newReno], ['CUBIC', cubic]];

const SENDER = { host: '10.0.0.1', port: 40000 };
const RECEIVER = { host: '10.0.0.2', port: 7000 };

interface Pair {
  sim: Simulator;
  sender: RudpConnection;
  receiver: () => RudpConnection | undefined;
  /** Bytes the receiving application has read so far. */
  received: () => number;
  /** Runs the applications (accept, read everything, keep the sender's buffer full) once. */
  drive: () => void;
}

function pair(seed: number, loss: number, cc: CongestionControllerConfig, bytesToSend: number): Pair {
  const sim = new Simulator({ seed });
  const data: LinkImpairments = { delayMs: RTT_MS / 2, rateBitsPerSec: LINK_BITS_PER_SEC, queueBytes: BDP_BYTES, loss };
  const acks: LinkImpairments = { delayMs: RTT_MS / 2, rateBitsPerSec: LINK_BITS_PER_SEC, queueBytes: BDP_BYTES };
  sim.connect(SENDER, RECEIVER, data, acks);
  const config = (local: typeof SENDER, salt: number) => {
    const rng = createRng(seed ^ salt);
    // Buffers of 4 BDP: the window, not the buffer, must be what limits the sender.
    return { local, rng, isnKey: rng.fill(new Uint8Array(16)), congestion: cc, sendBufferBytes: 4 * BDP_BYTES, receiveBufferBytes: 4 * BDP_BYTES };
  };
  const a = new RudpEndpoint(config(SENDER, 1));
  const b = new RudpEndpoint(config(RECEIVER, 2));
  b.listen();
  sim.addNode(SENDER, a);
  sim.addNode(RECEIVER, b);
  const sender = a.connect(0, RECEIVER);
  let receiver: RudpConnection | undefined;
  let received = 0;
  let written = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x42);
  const drive = (): void => {
    for (let e = b.pollEvent(); e; e = b.pollEvent()) receiver = e.connection;
    while (sender.pollEvent());
    while (written < bytesToSend) {
      const n = sender.write(chunk.subarray(0, Math.min(chunk.length, bytesToSend - written)));
      if (n === 0) break;
      written += n;
    }
    if (receiver) {
      while (receiver.pollEvent());
      for (let c = receiver.read(); c; c = receiver.read()) received += c.length;
    }
  };
  return { sim, sender, receiver: () => receiver, received: () => received, drive };
}

interface Sample {
  goodputMbps: number;
  completeMs: number;
  simSecondsPerRealSecond: number;
  retransmissions: number;
}

function measure(seed: number, loss: number, cc: CongestionControllerConfig): Sample {
  const t0 = performance.now();
  // Goodput: an unbounded transfer; bytes read by the receiver between the warm-up and the end.
  const g = pair(seed, loss, cc, Number.MAX_SAFE_INTEGER);
  const endMs = (WARMUP_SECONDS + GOODPUT_SECONDS) * 1000;
  g.drive();
  while (g.sim.step(WARMUP_SECONDS * 1000)) g.drive();
  const atWarmup = g.received();
  while (g.sim.step(endMs)) g.drive();
  const goodputMbps = ((g.received() - atWarmup) * 8) / GOODPUT_SECONDS / 1e6;
  const retransmissions = g.sender.counters.retransmissions;
  // Completion: 1 MB from the first SYN until the receiving application has read the last byte.
  const c = pair(seed, loss, cc, ONE_MB);
  c.drive();
  while (c.received() < ONE_MB && c.sim.step(600_000)) c.drive();
  const completeMs = c.received() >= ONE_MB ? c.sim.now : NaN;
  const realSeconds = (performance.now() - t0) / 1000;
  return { goodputMbps, completeMs, simSecondsPerRealSecond: (endMs + completeMs) / 1000 / realSeconds, retransmissions };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function mathisMbps(p: number): number {
  return p === 0 ? Infinity : ((DEFAULT_MSS * 8) / (RTT_MS / 1000)) * (1.22 / Math.sqrt(p)) / 1e6;
}

const results = new Map<string, Sample[]>();
for (const loss of LOSSES) {
  for (let run = 0; run < RUNS; run++) {
    // Alternate which controller goes first, so neither always runs on a warmer JIT.
    const order = run % 2 === 0 ? CONTROLLERS : [...CONTROLLERS].reverse();
    for (const [name, cc] of order) {
      const key = `${name}@${loss}`;
      const samples = results.get(key) ?? [];
      samples.push(measure(1000 + run, loss, cc));
      results.set(key, samples);
    }
  }
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '∞');
console.log(`simulated ${LINK_BITS_PER_SEC / 1e6} Mbit/s, RTT ${RTT_MS} ms, MSS ${DEFAULT_MSS} B, queue ${BDP_BYTES} B; goodput over ${GOODPUT_SECONDS} s after ${WARMUP_SECONDS} s; medians of ${RUNS} seeds`);
console.log('| loss | controller | goodput Mbit/s | link×(1−p) | ÷ link×(1−p) | Mathis bound | ÷ Mathis | 1 MB done in | retransmissions | sim s / real s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const loss of LOSSES) {
  for (const [name] of CONTROLLERS) {
    const s = results.get(`${name}@${loss}`)!;
    const goodput = median(s.map((x) => x.goodputMbps));
    const ceiling = (LINK_BITS_PER_SEC / 1e6) * (1 - loss);
    const mathis = mathisMbps(loss);
    console.log(
      `| ${loss * 100}% | ${name} | ${fmt(goodput)} | ${fmt(ceiling)} | ${fmt(goodput / ceiling, 2)} | ${fmt(mathis)} | ${Number.isFinite(mathis) ? fmt(goodput / mathis, 2) : '–'} | ` +
        `${fmt(median(s.map((x) => x.completeMs)), 0)} ms | ${fmt(median(s.map((x) => x.retransmissions)), 0)} | ${fmt(median(s.map((x) => x.simSecondsPerRealSecond)), 1)} |`,
    );
  }
}
