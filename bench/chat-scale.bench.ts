/**
 * Chat at scale (issue 4): 10,000 TCP chat clients in one room on one server process, held by a
 * load generator in another process. Measures the server's peak RSS (VmHWM), the delivery latency
 * of single broadcasts to all clients, and 100 messages/s from 100 senders to every client for a
 * while, checking nothing is dropped. The peer, measured in the same run and alternated with it,
 * is the naive relay of bench/chat-naive-server.ts (the `ncat --chat` model).
 *
 * Run: npm run bench -- chat-scale   (RUNS=5 CLIENTS=10000 SUSTAIN_S=10 by default)
 * Both processes get the hard open-file limit through bash's `ulimit -n`.
 */
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env['RUNS'] ?? 5);
const CLIENTS = Number(process.env['CLIENTS'] ?? 10_000);
const SUSTAIN_S = Number(process.env['SUSTAIN_S'] ?? 10);

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

const root = repoRoot();
const node = process.execPath;

interface GeneratorResult {
  protocol: string;
  clients: number;
  connectMs: number;
  broadcast: { messages: number; deliveries: number; p50Ms: number; p99Ms: number; maxMs: number };
  sustain: {
    messages: number; sendSeconds: number; deliveredSeconds: number; worstSendLagMs: number;
    receiversShort: number; closed: number; sampledP50Ms: number; sampledP99Ms: number;
  };
}

interface RunResult extends GeneratorResult {
  server: string;
  peakRssMiB: number;
}

function withFileLimit(command: string): ReturnType<typeof spawn> {
  return spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" && exec ${command}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

function firstLine(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const m = pattern.exec(text);
      if (m) {
        stream.off('data', onData);
        resolve(m);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended without ${pattern}: ${text}`)));
  });
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]);
  return kb / 1024;
}

async function runOnce(server: 'sockit' | 'naive'): Promise<RunResult> {
  const serverCommand = server === 'sockit'
    ? `${node} bin/sockit.js listen 0 --host 127.0.0.1 --service chat --max-clients 0 --max-rate 0 --idle-timeout 0`
    : `${node} dist/bench/chat-naive-server.js`;
  const srv = withFileLimit(serverCommand);
  srv.stderr!.on('data', () => undefined);
  const port = Number((await firstLine(srv.stderr!, /listening on tcp 127\.0\.0\.1:(\d+)/))[1]);
  const gen = withFileLimit(`${node} dist/bench/chat-load-generator.js ${port} ${CLIENTS} ${server === 'sockit' ? 'sockit' : 'plain'} ${SUSTAIN_S}`);
  gen.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
  const json = (await firstLine(gen.stdout!, /^\{.*\}\n/m))[0];
  const result = JSON.parse(json) as GeneratorResult;
  const peak = peakRssMiB(srv.pid!);
  await new Promise((resolve) => gen.once('exit', resolve));
  srv.kill('SIGTERM');
  await new Promise((resolve) => srv.once('exit', resolve));
  return { ...result, server, peakRssMiB: peak };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const f1 = (n: number): string => n.toFixed(1);

async function main(): Promise<void> {
  console.log(`chat-scale: ${CLIENTS} clients, ${RUNS} runs alternating sockit/naive, sustain ${SUSTAIN_S} s at 100 msg/s from 100 senders`);
  const results: RunResult[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const order: Array<'sockit' | 'naive'> = run % 2 ? ['sockit', 'naive'] : ['naive', 'sockit'];
    for (const server of order) {
      const r = await runOnce(server);
      results.push(r);
      console.log(`run ${run} ${server.padEnd(6)} rss ${f1(r.peakRssMiB)} MiB  connect ${r.connectMs} ms  broadcast p50 ${f1(r.broadcast.p50Ms)} p99 ${f1(r.broadcast.p99Ms)} max ${f1(r.broadcast.maxMs)} ms (${r.broadcast.deliveries} deliveries)  sustain: delivered in ${f1(r.sustain.deliveredSeconds)} s (sent in ${f1(r.sustain.sendSeconds)} s), short ${r.sustain.receiversShort}, closed ${r.sustain.closed}, sampled p50 ${f1(r.sustain.sampledP50Ms)} p99 ${f1(r.sustain.sampledP99Ms)} ms`);
    }
  }
  const of = (server: string, pick: (r: RunResult) => number): number => median(results.filter((r) => r.server === server).map(pick));
  const rows: Array<[string, (r: RunResult) => number]> = [
    ['peak server RSS (MiB)', (r) => r.peakRssMiB],
    ['broadcast p50 (ms)', (r) => r.broadcast.p50Ms],
    ['broadcast p99 (ms)', (r) => r.broadcast.p99Ms],
    ['sustained: seconds to deliver all', (r) => r.sustain.deliveredSeconds],
    ['sustained p99, sampled (ms)', (r) => r.sustain.sampledP99Ms],
    ['receivers missing messages', (r) => r.sustain.receiversShort],
  ];
  console.log('\n| median over runs | sockit | naive relay | sockit / naive |\n| --- | --- | --- | --- |');
  for (const [name, pick] of rows) {
    const a = of('sockit', pick);
    const b = of('naive', pick);
    console.log(`| ${name} | ${f1(a)} | ${f1(b)} | ${b === 0 ? '–' : (a / b).toFixed(2)} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
