/**
 * Loopback bulk transfer between two processes, 1200-byte payloads, 4 MiB UDP socket buffers:
 *   - dgram:  plain node:dgram blasting 1200-byte datagrams, no reliability (the ceiling for any
 *             JavaScript transport; lossy, so its rate counts only datagrams that arrived);
 *   - utp:    utp-native (libutp in C, BEP 29), a reliable stream;
 *   - rudp:   sockit RUDP (TCP's mechanisms over UDP in TypeScript), a reliable stream with MSS 1200,
 *             on its default UDP I/O (batched native recvmmsg/sendmmsg + GRO/GSO on Linux);
 *   - rudp-dgram: the same RUDP on node:dgram (one system call and callback per datagram: pure JS).
 * Each run starts a fresh receiver process per contestant; the order of contestants alternates
 * between runs. The receiver times from its first received byte to its last (stream end for the
 * reliable ones) and reports MB/s; we quote the median over the runs and ratios of medians.
 *
 * Usage: BENCH_RUNS=7 BENCH_MIB=32 npm run bench -- rudp-bulk   (defaults 7 runs of 64 MiB;
 * BENCH_KINDS=utp,rudp,rudp-dgram runs a subset; BENCH_RUDP_ENGINE='{"sendBufferBytes":4194304}' tunes RUDP;
 * run directly, `node dist/bench/rudp-bulk.bench.js 7 32` takes runs and MiB as arguments; node flags
 * such as --cpu-prof apply to the receiver processes too)
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { connect as rudpConnect } from '../src/io/rudp-connect.js';
import { createServer as rudpCreateServer } from '../src/io/rudp-server.js';
import type { RudpSocket } from '../src/io/rudp-socket.js';
import type { RudpEngineOptions } from '../src/io/rudp-driver.js';
import { defaultUdpIo, type UdpIoKind } from '../src/io/udp-port.js';

const PAYLOAD_BYTES = 1200;
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const HOST = '127.0.0.1';
/** Engine tunables for both RUDP ends, as JSON in BENCH_RUDP_ENGINE (e.g. '{"sendBufferBytes":2097152}'). */
const RUDP_ENGINE = JSON.parse(process.env['BENCH_RUDP_ENGINE'] ?? '{}') as RudpEngineOptions;

type Kind = 'dgram' | 'utp' | 'rudp' | 'rudp-dgram';
const rudpIo = (kind: Kind): UdpIoKind => (kind === 'rudp-dgram' ? 'dgram' : 'auto');

interface TrialResult {
  kind: Kind;
  bytes: number;
  ms: number;
  /** CPU time (user + system) the receiver process used from its first byte to its last. */
  receiverCpuMs: number;
  /** CPU time the sender used for the transfer (filled in by the sender side). */
  senderCpuMs?: number;
  datagrams?: number;
  sent?: number;
}

function cpuMs(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

interface UtpSocket extends NodeJS.EventEmitter {
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(): void;
}
interface UtpInstance extends NodeJS.EventEmitter {
  bind(port: number, host: string, cb?: () => void): void;
  listen(port: number, host: string, cb?: () => void): void;
  connect(port: number, host: string): UtpSocket;
  address(): { port: number };
  setRecvBufferSize(n: number): void;
  setSendBufferSize(n: number): void;
  close(cb?: () => void): void;
}
type UtpFactory = (opts?: { allowHalfOpen?: boolean }) => UtpInstance;

function loadUtp(): UtpFactory {
  const require = createRequire(import.meta.url);
  return require('utp-native') as UtpFactory;
}

function report(result: TrialResult): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

// ---- receiver side (child process) ----

async function receiveDgram(): Promise<void> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES });
  let first = 0;
  let last = 0;
  let count = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpuAtLast = 0;
  socket.on('message', () => {
    last = performance.now();
    if (count++ === 0) {
      first = last;
      cpu0 = process.cpuUsage();
    }
    // Sampled, not per datagram: cpuUsage() is a system call.
    if ((count & 255) === 0) cpuAtLast = cpuMs(cpu0);
  });
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  process.stdout.write(`READY ${socket.address().port}\n`);
  // The sender cannot signal the end in-band (that datagram could be lost): it says so on stdin.
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.startsWith('DONE')) {
      report({ kind: 'dgram', bytes: count * PAYLOAD_BYTES, ms: last - first, receiverCpuMs: cpuAtLast, datagrams: count, sent: Number(line.split(' ')[1]) });
      break;
    }
  }
  lines.close();
  socket.close();
}

function countStream(kind: Kind, socket: NodeJS.EventEmitter, done: () => void): void {
  let first = 0;
  let bytes = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (bytes === 0) {
      first = performance.now();
      cpu0 = process.cpuUsage();
    }
    bytes += chunk.length;
  });
  socket.on('end', () => {
    report({ kind, bytes, ms: performance.now() - first, receiverCpuMs: cpuMs(cpu0) });
    done();
  });
}

async function receiveUtp(): Promise<void> {
  const utp = loadUtp();
  const server = utp({ allowHalfOpen: true });
  server.on('connection', (socket: UtpSocket) => countStream('utp', socket, () => {
    socket.end();
    setTimeout(() => process.exit(0), 200);
  }));
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  server.setRecvBufferSize(SOCKET_BUFFER_BYTES);
  server.setSendBufferSize(SOCKET_BUFFER_BYTES);
  process.stdout.write(`READY ${server.address().port}\n`);
}

async function receiveRudp(kind: Kind): Promise<void> {
  const server = rudpCreateServer({ recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES, engine: RUDP_ENGINE, io: rudpIo(kind) });
  server.on('connection', (socket: RudpSocket) => countStream(kind, socket, () => {
    socket.end();
    socket.on('close', () => void server.close());
  }));
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  process.stdout.write(`READY ${server.address()?.port ?? 0}\n`);
}

// ---- sender side (this process) ----

async function sendDgram(port: number, totalBytes: number): Promise<number> {
  const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: SOCKET_BUFFER_BYTES });
  await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
  socket.connect(port, HOST);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  const total = Math.ceil(totalBytes / PAYLOAD_BYTES);
  let sent = 0;
  // Bounded outstanding sends: blast as fast as libuv takes them without queueing unboundedly.
  const maxQueued = 256;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < total && socket.getSendQueueCount() < maxQueued) {
        socket.send(payload);
        sent++;
      }
      if (sent < total) setImmediate(pump);
      else resolve();
    };
    pump();
  });
  while (socket.getSendQueueCount() > 0) await new Promise((r) => setImmediate(r));
  socket.close();
  return sent;
}

async function writeAll(socket: { write(b: Buffer): boolean; once(e: 'drain', f: () => void): unknown; end(): void }, totalBytes: number): Promise<void> {
  const chunk = Buffer.alloc(CHUNK_BYTES, 0x62);
  let left = totalBytes;
  while (left > 0) {
    const piece = left >= CHUNK_BYTES ? chunk : chunk.subarray(0, left);
    left -= piece.length;
    if (!socket.write(piece)) await new Promise<void>((resolve) => socket.once('drain', resolve));
  }
  socket.end();
}

async function sendUtp(port: number, totalBytes: number): Promise<void> {
  const utp = loadUtp();
  const client = utp({ allowHalfOpen: true });
  await new Promise<void>((resolve) => client.bind(0, HOST, resolve));
  client.setRecvBufferSize(SOCKET_BUFFER_BYTES);
  client.setSendBufferSize(SOCKET_BUFFER_BYTES);
  const socket = client.connect(port, HOST);
  socket.on('data', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('end', resolve));
  await writeAll(socket as unknown as Parameters<typeof writeAll>[0], totalBytes);
  await closed;
  socket.destroy();
  client.close();
}

async function sendRudp(kind: Kind, port: number, totalBytes: number): Promise<void> {
  const socket = rudpConnect({ port, host: HOST, recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES, engine: RUDP_ENGINE, io: rudpIo(kind) });
  socket.on('data', () => undefined);
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await writeAll(socket, totalBytes);
  await ended;
  socket.destroy();
}

async function trial(kind: Kind, totalBytes: number): Promise<TrialResult> {
  const self = fileURLToPath(import.meta.url);
  // The receiver gets this process's node flags, so `node --cpu-prof …bench.js` profiles both ends.
  const child = spawn(process.execPath, [...process.execArgv, self, 'receiver', kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const next = async (prefix: string): Promise<string> => {
    for (;;) {
      const r = await iterator.next();
      if (r.done) throw new Error(`${kind} receiver exited before ${prefix}`);
      if (r.value.startsWith(prefix)) return r.value.slice(prefix.length + 1);
    }
  };
  const port = Number(await next('READY'));
  const cpu0 = process.cpuUsage();
  let senderCpuMs = 0;
  if (kind === 'dgram') {
    const sent = await sendDgram(port, totalBytes);
    senderCpuMs = cpuMs(cpu0);
    // Let the receiver drain its socket buffer before it stops counting.
    await new Promise((r) => setTimeout(r, 300));
    child.stdin.write(`DONE ${sent}\n`);
  } else if (kind === 'utp') {
    await sendUtp(port, totalBytes);
    senderCpuMs = cpuMs(cpu0);
  } else {
    await sendRudp(kind, port, totalBytes);
    senderCpuMs = cpuMs(cpu0);
  }
  const result = { ...(JSON.parse(await next('RESULT')) as TrialResult), senderCpuMs };
  lines.close();
  child.stdin.end();
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  return result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mbps = (r: TrialResult): number => r.bytes / 1e6 / (r.ms / 1000);
/** CPU milliseconds per MiB moved, sender + receiver: the cost that matters on a shared, loaded machine. */
const cpuMsPerMiB = (r: TrialResult): number => ((r.senderCpuMs ?? 0) + r.receiverCpuMs) / (r.bytes / (1024 * 1024));
const cpuPerMiB = (r: TrialResult): string =>
  `${((r.senderCpuMs ?? 0) / (r.bytes / 1048576)).toFixed(1)}+${(r.receiverCpuMs / (r.bytes / 1048576)).toFixed(1)} ms/MiB`;

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
  const runs = Number(args[0] ?? process.env['BENCH_RUNS'] ?? 7);
  const mib = Number(args[1] ?? process.env['BENCH_MIB'] ?? 64);
  const totalBytes = mib * 1024 * 1024;
  const all: Kind[] = ['dgram', 'utp', 'rudp', 'rudp-dgram'];
  const only = process.env['BENCH_KINDS']?.split(',');
  const kinds = only ? all.filter((k) => only.includes(k)) : all;
  const results: Record<Kind, TrialResult[]> = { dgram: [], utp: [], rudp: [], 'rudp-dgram': [] };
  console.log(`rudp-bulk: ${mib} MiB one way over loopback, ${PAYLOAD_BYTES}-byte payloads, ${SOCKET_BUFFER_BYTES >> 20} MiB socket buffers, ${runs} runs; rudp on ${defaultUdpIo()} UDP I/O`);
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? kinds : [...kinds].reverse();
    const line: string[] = [];
    for (const kind of order) {
      const r = await trial(kind, totalBytes);
      results[kind].push(r);
      const extra = r.datagrams === undefined ? '' : ` (${r.datagrams}/${r.sent} datagrams, ${Math.round(r.datagrams / (r.ms / 1000))}/s)`;
      line.push(`${kind} ${mbps(r).toFixed(1)} MB/s${extra} cpu ${cpuPerMiB(r)}`);
    }
    console.log(`run ${run + 1}: ${line.join(', ')}`);
  }
  const med = (k: Kind): number => median(results[k].map(mbps));
  const dgramRate = median(results.dgram.map((r) => (r.datagrams ?? 0) / (r.ms / 1000)));
  console.log('\nmedians:');
  if (kinds.includes('dgram')) console.log(`  dgram (ceiling, lossy): ${med('dgram').toFixed(1)} MB/s = ${Math.round(dgramRate)} datagrams/s`);
  if (kinds.includes('utp')) console.log(`  utp-native:             ${med('utp').toFixed(1)} MB/s`);
  if (kinds.includes('rudp')) console.log(`  sockit rudp (${defaultUdpIo()} I/O):   ${med('rudp').toFixed(1)} MB/s`);
  if (kinds.includes('rudp-dgram')) console.log(`  sockit rudp (dgram I/O):    ${med('rudp-dgram').toFixed(1)} MB/s`);
  for (const k of kinds) console.log(`  ${k} CPU (sender + receiver): ${median(results[k].map(cpuMsPerMiB)).toFixed(1)} ms per MiB`);
  if (kinds.includes('rudp') && kinds.includes('utp')) console.log(`  rudp / utp-native = ${(med('rudp') / med('utp')).toFixed(2)}×`);
  if (kinds.includes('rudp') && kinds.includes('dgram')) console.log(`  rudp / dgram = ${(med('rudp') / med('dgram')).toFixed(2)}×`);
  if (kinds.includes('rudp-dgram') && kinds.includes('utp')) console.log(`  rudp on dgram / utp-native = ${(med('rudp-dgram') / med('utp')).toFixed(2)}×`);
  if (kinds.includes('rudp-dgram') && kinds.includes('dgram')) console.log(`  rudp on dgram / dgram = ${(med('rudp-dgram') / med('dgram')).toFixed(2)}×`);
}

if (process.argv[2] === 'receiver') {
  const kind = process.argv[3] as Kind;
  const run = kind === 'dgram' ? receiveDgram : kind === 'utp' ? receiveUtp : () => receiveRudp(kind);
  run().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
