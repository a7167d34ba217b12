/**
 * Messages over one loopback TCP connection (issue 2 §7): 2,000,000 messages of 100 bytes in len32
 * framing, decoded and counted by a sockit server (MessageServer, 'message' events), sent by
 *
 * - `sockit`:  MessageConnection.send(), one call per message, `await drained()` when it says so;
 * - `batched`: hand-written Node `net`: one buffer of ~64 KiB of frames per write, 'drain' honoured;
 * - `naive`:   hand-written Node `net`: one `write()` of one frame per message, 'drain' honoured.
 *
 * Sender and receiver are separate processes (the same receiver process for all three senders), so
 * each sender has a core of its own as a real client would. The clock runs on the receiver from
 * accepting the connection to decoding the last message. Runs alternate the order of the three
 * senders (rotating each round, after one untimed warm-up run) and the table reports medians, with
 * the CPU time each side used.
 *
 * Usage: npm run bench -- tcp-messages   (RUNS=5, MESSAGES=2000000 to change)
 */
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { listenTcp } from '../src/tcp/message-server.js';
import { connectTcp } from '../src/tcp/connect-tcp.js';

const MESSAGE_BYTES = 100;
const MESSAGES = Number(process.env['MESSAGES'] ?? 2_000_000);
const RUNS = Number(process.env['RUNS'] ?? 5);
const BATCH_BYTES = 64 * 1024;
const SENDERS = ['sockit', 'batched', 'naive'] as const;
type SenderName = (typeof SENDERS)[number];

const self = fileURLToPath(import.meta.url);

// ---------- receiver process: a sockit server counting messages, one result line per connection ----------

async function receiver(): Promise<void> {
  const server = await listenTcp({ host: '127.0.0.1', port: 0, framing: 'len32' }, (conn) => {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let count = 0;
    let bytes = 0;
    conn.on('message', (m: Buffer) => {
      count++;
      bytes += m.length;
    });
    conn.on('close', (err?: Error) => {
      if (err) process.stdout.write(`${JSON.stringify({ error: err.message, count })}\n`);
    });
    conn.on('end', () => {
      const ms = performance.now() - start;
      const cpu = process.cpuUsage(cpuStart);
      process.stdout.write(`${JSON.stringify({ count, bytes, ms, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
      void conn.end();
    });
  });
  process.stdout.write(`${JSON.stringify({ port: server.address.port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close(0));
}

// ---------- sender processes ----------

const payload = Buffer.alloc(MESSAGE_BYTES, 0x61);

async function sendSockit(port: number): Promise<void> {
  const conn = await connectTcp({ host: '127.0.0.1', port, framing: 'len32' });
  for (let i = 0; i < MESSAGES; i++) {
    if (!conn.send(payload)) await conn.drained();
  }
  await conn.end();
  for await (const _ of conn) throw new Error('the receiver sends nothing');
}

function connectNet(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

function drain(s: net.Socket): Promise<void> {
  return new Promise((resolve) => s.once('drain', resolve));
}

async function finish(s: net.Socket): Promise<void> {
  s.end();
  s.resume();
  await new Promise((resolve) => s.once('close', resolve));
}

async function sendBatched(port: number): Promise<void> {
  const s = await connectNet(port);
  const frameBytes = 4 + MESSAGE_BYTES;
  const perBatch = Math.floor(BATCH_BYTES / frameBytes);
  for (let sent = 0; sent < MESSAGES; ) {
    const n = Math.min(perBatch, MESSAGES - sent);
    const buf = Buffer.allocUnsafe(n * frameBytes);
    for (let i = 0, at = 0; i < n; i++, at += frameBytes) {
      buf.writeUInt32BE(MESSAGE_BYTES, at);
      payload.copy(buf, at + 4);
    }
    sent += n;
    if (!s.write(buf)) await drain(s);
  }
  await finish(s);
}

async function sendNaive(port: number): Promise<void> {
  const s = await connectNet(port);
  for (let i = 0; i < MESSAGES; i++) {
    const frame = Buffer.allocUnsafe(4 + MESSAGE_BYTES);
    frame.writeUInt32BE(MESSAGE_BYTES, 0);
    payload.copy(frame, 4);
    if (!s.write(frame)) await drain(s);
  }
  await finish(s);
}

const SEND: Record<SenderName, (port: number) => Promise<void>> = { sockit: sendSockit, batched: sendBatched, naive: sendNaive };

// ---------- orchestration ----------

/** Runs one sender process; resolves with the CPU time it used (user + system), in ms. */
function runSender(name: SenderName, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, 'sender', name, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sender ${name} exited with ${code}`));
      resolve((JSON.parse(out) as { cpuMs: number }).cpuMs);
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const recv = spawn(process.execPath, [self, 'receiver'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: recv.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number>> => JSON.parse((await lines.next()).value as string) as Record<string, number>;
  const { port } = await next();

  const rates: Record<SenderName, number[]> = { sockit: [], batched: [], naive: [] };
  const senderCpuMs: Record<SenderName, number[]> = { sockit: [], batched: [], naive: [] };
  const receiverCpuMs: Record<SenderName, number[]> = { sockit: [], batched: [], naive: [] };
  console.log(`tcp-messages: ${MESSAGES} messages of ${MESSAGE_BYTES} B, len32, one loopback connection, ${RUNS} runs`);
  // Warm the shared receiver's JIT once, untimed, so the first sender measured is not penalised.
  await runSender('batched', port!);
  await next();
  for (let run = 0; run < RUNS; run++) {
    const order = SENDERS.map((_, i) => SENDERS[(i + run) % SENDERS.length]!);
    for (const name of order) {
      const cpuMs = await runSender(name, port!);
      const r = await next();
      if (r['error'] !== undefined) throw new Error(`${name}: receiver failed after ${r['count']} messages: ${String(r['error'])}`);
      if (r['count'] !== MESSAGES || r['bytes'] !== MESSAGES * MESSAGE_BYTES) throw new Error(`${name}: receiver counted ${r['count']} messages`);
      const rate = MESSAGES / (r['ms']! / 1000);
      rates[name].push(rate);
      senderCpuMs[name].push(cpuMs);
      receiverCpuMs[name].push(r['cpuMs']!);
      console.log(`  run ${run + 1} ${name.padEnd(7)} ${(rate / 1e6).toFixed(2)} M msg/s  (${r['ms']!.toFixed(0)} ms; CPU: sender ${cpuMs.toFixed(0)} ms, receiver ${r['cpuMs']!.toFixed(0)} ms)`);
    }
  }
  recv.stdin!.end();

  const m = { sockit: median(rates.sockit), batched: median(rates.batched), naive: median(rates.naive) };
  console.log('\nmedians: M messages/s, sender CPU ms, receiver CPU ms');
  for (const name of SENDERS) {
    console.log(`  ${name.padEnd(7)} ${(m[name] / 1e6).toFixed(2)}  ${median(senderCpuMs[name]).toFixed(0)}  ${median(receiverCpuMs[name]).toFixed(0)}`);
  }
  const ratioRuns = (peer: SenderName): number => median(rates.sockit.map((r, i) => r / rates[peer][i]!));
  console.log(`sockit / batched: ${(m.sockit / m.batched).toFixed(2)}x (median of per-run ratios ${ratioRuns('batched').toFixed(2)}x; target >= 0.9x)`);
  console.log(`sockit / naive:   ${(m.sockit / m.naive).toFixed(2)}x (median of per-run ratios ${ratioRuns('naive').toFixed(2)}x; target >= 4x)`);
}

const [role, sender, portArg] = process.argv.slice(2);
if (role === 'receiver') await receiver();
else if (role === 'sender') {
  const before = process.cpuUsage();
  await SEND[sender as SenderName](Number(portArg));
  const cpu = process.cpuUsage(before);
  process.stdout.write(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 }));
}
else await main();
