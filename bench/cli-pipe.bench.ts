/**
 * The command line as a byte pipe: SIZE_MIB of random bytes from a file through
 * `sockit connect` → `sockit listen` on loopback, against the same bytes through netcat-openbsd
 * (`nc -N` → `nc -l`) and socat (`socat -u FILE TCP` → `socat -u TCP-LISTEN STDOUT`) in the same run.
 *
 * Each run spawns a fresh listener and sender; the clock runs from spawning the sender until the
 * listener has exited and all bytes were counted on its stdout (the bench reads it, so every tool
 * pays the same pipe into this process). The three tools alternate, rotating order each round,
 * after one untimed warm-up round; the table reports medians of MB/s and the ratio to nc.
 *
 * Usage: npm run bench -- cli-pipe   (RUNS=5, SIZE_MIB=256 to change)
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, writeSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, repoRoot, sockitListener, start, waitForBound, type Proc } from '../test/cli/support/processes.js';

const RUNS = Number(process.env['RUNS'] ?? 5);
const SIZE_MIB = Number(process.env['SIZE_MIB'] ?? 256);
const TOOLS = ['sockit', 'nc', 'socat'] as const;
type Tool = (typeof TOOLS)[number];

/** Counts the bytes a process writes to stdout without keeping them. */
function countStdout(proc: Proc): () => number {
  let bytes = 0;
  proc.child.stdout!.removeAllListeners('data');
  proc.child.stdout!.on('data', (b: Buffer) => {
    bytes += b.length;
  });
  return () => bytes;
}

/** Spawns a sender whose stdin is the file (so no tool pays for a pipe on the sending side). */
function sender(command: string, args: string[], file: string): Promise<number | null> {
  const fd = openSync(file, 'r');
  const child = spawn(command, args, { cwd: repoRoot(), stdio: [fd, 'ignore', 'inherit'] });
  closeSync(fd);
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

async function runOnce(tool: Tool, file: string): Promise<{ ms: number; bytes: number }> {
  let listener: Proc;
  let port: number;
  if (tool === 'sockit') {
    ({ proc: listener, port } = await sockitListener(['0', '--host', '127.0.0.1'], { killAfterMs: 600_000 }));
  } else {
    port = await freePort('tcp');
    listener = tool === 'nc'
      ? start('nc', ['-l', '127.0.0.1', String(port)], { killAfterMs: 600_000 })
      : start('socat', ['-u', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'STDOUT'], { killAfterMs: 600_000 });
    await waitForBound(port, 'tcp', listener);
  }
  const bytes = countStdout(listener);
  const t0 = performance.now();
  const senderDone = tool === 'sockit'
    ? sender(process.execPath, [join(repoRoot(), 'bin', 'sockit.js'), 'connect', '127.0.0.1', String(port)], file)
    : tool === 'nc'
      ? sender('nc', ['-N', '127.0.0.1', String(port)], file)
      : sender('socat', ['-u', 'STDIN', `TCP:127.0.0.1:${port}`], file);
  const [code, exit] = await Promise.all([senderDone, listener.exited]);
  const ms = performance.now() - t0;
  if (code !== 0 || exit.code !== 0) throw new Error(`${tool}: sender exit ${code}, listener exit ${JSON.stringify(exit)}: ${listener.stderr}`);
  return { ms, bytes: bytes() };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sockit-cli-bench-'));
  const file = join(dir, 'data.bin');
  const fd = openSync(file, 'w');
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < SIZE_MIB; i++) writeSync(fd, block);
  closeSync(fd);
  const total = SIZE_MIB * 1024 * 1024;
  const rates: Record<Tool, number[]> = { sockit: [], nc: [], socat: [] };
  try {
    for (const tool of TOOLS) await runOnce(tool, file);
    for (let round = 0; round < RUNS; round++) {
      const order = TOOLS.map((_, i) => TOOLS[(i + round) % TOOLS.length]!);
      for (const tool of order) {
        const { ms, bytes } = await runOnce(tool, file);
        if (bytes !== total) throw new Error(`${tool}: ${bytes} of ${total} bytes arrived`);
        rates[tool].push(total / 1e6 / (ms / 1000));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`cli-pipe: ${SIZE_MIB} MiB file → loopback TCP → stdout, ${RUNS} rounds, medians (node ${process.version})`);
  console.log('| tool | MB/s (median) | runs | ÷ nc |');
  console.log('| --- | --- | --- | --- |');
  const nc = median(rates.nc);
  for (const tool of TOOLS) {
    const m = median(rates[tool]);
    console.log(`| ${tool} | ${m.toFixed(0)} | ${rates[tool].map((r) => r.toFixed(0)).join(', ')} | ${(m / nc).toFixed(2)}x |`);
  }
}

await main();
