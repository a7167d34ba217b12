/**
 * File transfer over loopback (issue 3), `sockit` as a user runs it against its peers:
 *
 * 1. throughput: one 1 GiB file, `sockit put` → `sockit listen --service files` (SHA-256 computed
 *    by both ends while streaming and compared by the receiver) against `nc -N 127.0.0.1 P < file`
 *    → `nc -l -p P > out` (netcat-openbsd, no integrity check), and against the same nc pair with
 *    SHA-256 on both ends done by OpenSSL through `tee` (`tee >(openssl dgst -sha256) < file | nc`
 *    → `nc -l | tee out | openssl dgst -sha256`): the work sockit does, by C tools. Clock: from
 *    spawning the client to the moment both client and (for nc) the listener have exited — the
 *    file is on disk.
 * 2. memory: one 2 GiB `sockit put`, peak RSS (VmHWM) of the sender and the receiver process.
 * 3. many small files: 10,000 × 1 KiB files in one `sockit put` against `tar cf - DIR | nc -N`
 *    → `nc -l -p P | tar xf -` (the "zip it first" way), files per second.
 *
 * The throughput part also reports the CPU time (user + system) of sockit's two processes and of
 * nc's two, read from /proc every 20 ms: on 2 vCPUs the CPU bill is what decides the race. And it
 * runs a yardstick, bench/floor/transfer-floor.c: sockit's job (sendfile, SHA-256 on both ends,
 * O_DIRECT writes) in C with no start-up cost, so the ratio "C floor / nc" says what any
 * implementation of the protocol can reach on this machine. It prints the start-up time of a bare
 * `node -e 0` too, the part of sockit's wall time that is Node's and not sockit's.
 *
 * Runs alternate A/B (A first on even rounds, B first on odd), RUNS rounds (default 5), medians.
 * Everything lives in a temp dir under /tmp, deleted at the end.
 *
 * Usage: npm run bench -- files-transfer
 *   (env: RUNS=5, GIB=1, MEM_GIB=2, SMALL_FILES=10000, PARTS=throughput,memory,small)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync, createReadStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const RUNS = Number(process.env['RUNS'] ?? 5);
const GIB = Number(process.env['GIB'] ?? 1);
const SMALL_FILES = Number(process.env['SMALL_FILES'] ?? 10_000);
const MEM_GIB = Number(process.env['MEM_GIB'] ?? 2);
const PARTS = (process.env['PARTS'] ?? 'throughput,memory,small').split(',');
const ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!safeExists(path.join(dir, 'package.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
})();
const SOCKIT = path.join(ROOT, 'bin', 'sockit.js');

function safeExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function makeFile(file: string, bytes: number): void {
  // Random blocks (nothing compresses), repeated: generating 2 GiB of fresh randomness is not the point.
  const block = randomBytes(16 * 1024 * 1024);
  const fd = openSync(file, 'w');
  for (let done = 0; done < bytes; done += block.length) writeSync(fd, block, 0, Math.min(block.length, bytes - done));
  closeSync(fd);
}

/** sync(1), then a short pause: the kernel's writeback of an earlier run must not land in the next. */
function settle(): void {
  spawnSync('sync');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('close', (code) => resolve(code))));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True once something listens on 127.0.0.1:port (read from /proc/net/tcp, state 0A). */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1]?.endsWith(`:${hex}`) && f[3] === '0A';
  });
}

async function waitListening(port: number): Promise<void> {
  while (!listening(port)) await new Promise((r) => setTimeout(r, 5));
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system, ms) a process has used so far, from /proc/PID/stat; undefined once it is gone. */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * Peak RSS (VmHWM, KiB) and CPU time (ms) of a running process, sampled every 20 ms until it exits:
 * the CPU of its last 20 ms may be missed.
 */
function watchProcess(pid: number): { peakKiB: () => number; cpuMs: () => number; stop: () => void } {
  let peak = 0;
  let cpu = 0;
  const sample = (): void => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // The process has exited: the last sample stands.
    }
    cpu = cpuMs(pid) ?? cpu;
  };
  const timer = setInterval(sample, 20);
  sample();
  return { peakKiB: () => (sample(), peak), cpuMs: () => (sample(), cpu), stop: () => clearInterval(timer) };
}

interface SockitServer {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startSockitServer(dir: string): Promise<SockitServer> {
  const child = spawn(process.execPath, [SOCKIT, 'listen', '0', '--host', '127.0.0.1', '--service', 'files', '--dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const onData = (s: string): void => {
      text += s;
      const m = /listening on tcp 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        // From here on the server logs a line per file: drop them unread (a slow reader of its
        // stderr pipe would slow the server down, and that is not what is measured).
        child.stderr!.off('data', onData);
        child.stderr!.on('data', () => undefined);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.once('close', () => reject(new Error(`sockit listen exited: ${text}`)));
  });
  return {
    child,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited(child);
      clearTimeout(timer);
      if (code !== 0) throw new Error(`sockit listen did not exit cleanly on SIGTERM (exit ${code})`);
    },
  };
}

async function runSockitPut(args: string[], port: number): Promise<{ ms: number; clientPeakKiB: number; clientCpuMs: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [SOCKIT, 'put', ...args, '127.0.0.1', String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const watch = watchProcess(child.pid!);
  const code = await exited(child);
  const ms = performance.now() - t0;
  watch.stop();
  if (code !== 0) throw new Error(`sockit put exited ${code}`);
  return { ms, clientPeakKiB: watch.peakKiB(), clientCpuMs: watch.cpuMs() };
}

/**
 * `nc -l -p P > out` and `nc -N 127.0.0.1 P < file`; with `hashed`, SHA-256 by OpenSSL on both ends
 * through tee; or with tar on both ends for a directory. `cpuMs` (both nc processes) only for the
 * plain file pair, whose processes are nc itself.
 */
async function runNc(input: { file?: string; dir?: string; hashed?: boolean }, outDir: string): Promise<{ ms: number; cpuMs?: number }> {
  const port = await freePort();
  const outFile = path.join(outDir, 'nc.out');
  const listener = input.file
    ? input.hashed
      ? spawn('bash', ['-c', `set -o pipefail; nc -l -p ${port} | tee '${outFile}' | openssl dgst -sha256 > '${outFile}.sha256'`], { stdio: 'ignore' })
      : spawn('sh', ['-c', `exec nc -l -p ${port} > '${outFile}'`], { stdio: 'ignore' })
    : spawn('sh', ['-c', `nc -l -p ${port} | tar xf - -C '${outDir}'`], { stdio: 'ignore' });
  await waitListening(port);
  const plain = input.file !== undefined && !input.hashed;
  const listenerWatch = plain ? watchProcess(listener.pid!) : undefined;
  const t0 = performance.now();
  const client = input.file
    ? input.hashed
      ? spawn('bash', ['-c', `tee >(openssl dgst -sha256 > '${outFile}.sent.sha256') < '${input.file}' | nc -N 127.0.0.1 ${port}; wait`], { stdio: 'ignore' })
      : spawn('sh', ['-c', `exec nc -N 127.0.0.1 ${port} < '${input.file}'`], { stdio: 'ignore' })
    : spawn('sh', ['-c', `tar cf - -C '${path.dirname(input.dir!)}' '${path.basename(input.dir!)}' | nc -N 127.0.0.1 ${port}`], { stdio: 'ignore' });
  const clientWatch = plain ? watchProcess(client.pid!) : undefined;
  const [c1, c2] = await Promise.all([exited(client), exited(listener)]);
  const ms = performance.now() - t0;
  for (const w of [listenerWatch, clientWatch]) w?.stop();
  if (c1 !== 0 || c2 !== 0) throw new Error(`nc exited ${c1}/${c2}`);
  return { ms, cpuMs: plain ? listenerWatch!.cpuMs() + clientWatch!.cpuMs() : undefined };
}

/** Wall time of `node -e 0` (median of 5), as sockit's processes start; and without NODE_EXTRA_CA_CERTS if it is set. */
function nodeStartMs(): { asIs: number; withoutExtraCa?: number } {
  const time = (env: NodeJS.ProcessEnv): number => {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      spawnSync(process.execPath, ['-e', '0'], { env });
      runs.push(performance.now() - t0);
    }
    return median(runs);
  };
  if (process.env['NODE_EXTRA_CA_CERTS'] === undefined) return { asIs: time(process.env) };
  const { NODE_EXTRA_CA_CERTS: _, ...rest } = process.env;
  return { asIs: time(process.env), withoutExtraCa: time(rest) };
}

/**
 * bench/floor/transfer-floor.c, built into the work dir: the same job as sockit (SHA-256 by both
 * ends, O_DIRECT writes), in C, with no start-up cost. Undefined when it cannot be built (no cc or
 * no libssl-dev): that contestant is then skipped.
 */
function buildFloor(work: string): string | undefined {
  const exe = path.join(work, 'transfer-floor');
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', exe, path.join(ROOT, 'bench', 'floor', 'transfer-floor.c'), '-lcrypto'], { encoding: 'utf8' });
  if (r.status === 0) return exe;
  console.log(`  (C floor skipped: cc failed: ${(r.stderr ?? String(r.error)).trim().split('\n')[0]})`);
  return undefined;
}

/** One transfer-floor run: `recv` writes `out`, `send` sends `file`; both exit 0 only if the SHA-256s match. */
async function runFloor(exe: string, file: string, out: string): Promise<{ ms: number; cpuMs: number }> {
  const port = await freePort();
  const receiver = spawn(exe, ['recv', String(port), out], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitListening(port);
  const receiverWatch = watchProcess(receiver.pid!);
  const t0 = performance.now();
  const sender = spawn(exe, ['send', String(port), file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const senderWatch = watchProcess(sender.pid!);
  const [c1, c2] = await Promise.all([exited(sender), exited(receiver)]);
  const ms = performance.now() - t0;
  for (const w of [receiverWatch, senderWatch]) w.stop();
  if (c1 !== 0 || c2 !== 0) throw new Error(`transfer-floor exited ${c1}/${c2}`);
  return { ms, cpuMs: receiverWatch.cpuMs() + senderWatch.cpuMs() };
}

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/sockit-bench-files-');
  try {
    if (PARTS.includes('throughput')) await throughput(work);
    if (PARTS.includes('memory')) await memory(work);
    if (PARTS.includes('small')) await smallFiles(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function throughput(work: string): Promise<void> {
  const bytes = GIB * 1024 ** 3;
  const src = path.join(work, 'big.bin');
  makeFile(src, bytes);
  const srcHash = await sha256(src);

  // --- 1. throughput, alternating sockit, nc, and nc with OpenSSL's SHA-256 on both ends ---
  const sockitMs: number[] = [];
  const ncMs: number[] = [];
  const ncShaMs: number[] = [];
  const sockitCpu: Array<{ client: number; server: number }> = [];
  const ncCpu: number[] = [];
  const floorMs: number[] = [];
  const floorCpu: number[] = [];
  const floor = buildFloor(work);
  const nodeStart = nodeStartMs();
  for (let round = 0; round < RUNS; round++) {
    const order = round % 2 === 0 ? ['sockit', 'nc', 'nc+sha', 'floor'] : ['floor', 'nc+sha', 'nc', 'sockit'];
    for (const who of order) {
      if (who === 'floor' && !floor) continue;
      const dir = path.join(work, `recv-${who}-${round}`);
      mkdirSync(dir);
      // Every contestant starts with no dirty pages of the previous one still being written back.
      settle();
      if (who === 'sockit') {
        const server = await startSockitServer(dir);
        const serverCpu0 = cpuMs(server.child.pid!) ?? 0;
        const r = await runSockitPut([src], server.port);
        const serverCpu = (cpuMs(server.child.pid!) ?? serverCpu0) - serverCpu0;
        await server.stop();
        sockitMs.push(r.ms);
        sockitCpu.push({ client: r.clientCpuMs, server: serverCpu });
        if (round === 0 && (await sha256(path.join(dir, 'big.bin'))) !== srcHash) throw new Error('sockit: received file differs');
      } else if (who === 'nc') {
        const r = await runNc({ file: src }, dir);
        ncMs.push(r.ms);
        ncCpu.push(r.cpuMs!);
        if (round === 0 && (await sha256(path.join(dir, 'nc.out'))) !== srcHash) throw new Error('nc: received file differs');
      } else if (who === 'floor') {
        const r = await runFloor(floor!, src, path.join(dir, 'floor.out'));
        floorMs.push(r.ms);
        floorCpu.push(r.cpuMs);
        if (round === 0 && (await sha256(path.join(dir, 'floor.out'))) !== srcHash) throw new Error('transfer-floor: received file differs');
      } else {
        ncShaMs.push((await runNc({ file: src, hashed: true }, dir)).ms);
        const digests = ['nc.out.sha256', 'nc.out.sent.sha256'].map((f) => readFileSync(path.join(dir, f), 'utf8').trim().split(/\s+/).pop());
        if (round === 0 && (digests[0] !== srcHash || digests[1] !== srcHash)) throw new Error(`nc+sha: digests ${digests.join(' ')} differ from ${srcHash}`);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const mbps = (ms: number): number => bytes / 1e6 / (ms / 1000);
  console.log(`\n${GIB} GiB file over loopback, ${RUNS} alternating runs (wall time of the client, process start included)`);
  console.log(`  sockit put → listen --service files : median ${median(sockitMs).toFixed(0)} ms  ${mbps(median(sockitMs)).toFixed(0)} MB/s   runs ${sockitMs.map((m) => m.toFixed(0)).join(' ')}`);
  console.log(`  nc -N → nc -l                        : median ${median(ncMs).toFixed(0)} ms  ${mbps(median(ncMs)).toFixed(0)} MB/s   runs ${ncMs.map((m) => m.toFixed(0)).join(' ')}`);
  console.log(`  nc + OpenSSL SHA-256 on both ends    : median ${median(ncShaMs).toFixed(0)} ms  ${mbps(median(ncShaMs)).toFixed(0)} MB/s   runs ${ncShaMs.map((m) => m.toFixed(0)).join(' ')}`);
  if (floor) console.log(`  C floor (bench/floor, SHA-256 too)   : median ${median(floorMs).toFixed(0)} ms  ${mbps(median(floorMs)).toFixed(0)} MB/s   runs ${floorMs.map((m) => m.toFixed(0)).join(' ')}`);
  console.log(`  ratio sockit / nc throughput         : ${(median(ncMs) / median(sockitMs)).toFixed(2)}×`);
  if (floor) console.log(`  ratio C floor / nc                   : ${(median(ncMs) / median(floorMs)).toFixed(2)}×   (what any implementation of the protocol can reach here)`);
  if (floor) console.log(`  ratio sockit / C floor               : ${(median(floorMs) / median(sockitMs)).toFixed(2)}×`);
  console.log(`  ratio (nc + SHA-256) / nc            : ${(median(ncMs) / median(ncShaMs)).toFixed(2)}×`);
  console.log(`  ratio sockit / (nc + SHA-256)        : ${(median(ncShaMs) / median(sockitMs)).toFixed(2)}×`);
  console.log(`  node -e 0 start-up, median of 5     : ${nodeStart.asIs.toFixed(0)} ms${nodeStart.withoutExtraCa === undefined ? '' : ` (${nodeStart.withoutExtraCa.toFixed(0)} ms without this shell's NODE_EXTRA_CA_CERTS)`}`);
  // CPU, from /proc sampled every 20 ms (10 ms ticks): what each contestant asks of the machine.
  const sc = median(sockitCpu.map((c) => c.client));
  const ss = median(sockitCpu.map((c) => c.server));
  console.log(`  CPU per run, medians: sockit ${(sc + ss).toFixed(0)} ms (put ${sc.toFixed(0)}, listen ${ss.toFixed(0)}); nc ${median(ncCpu).toFixed(0)} ms (both processes)${floor ? `; C floor ${median(floorCpu).toFixed(0)} ms` : ''}`);

  rmSync(src);
}

async function memory(work: string): Promise<void> {
  const src2 = path.join(work, 'big2.bin');
  makeFile(src2, MEM_GIB * 1024 ** 3);
  const dir2 = path.join(work, 'recv-mem');
  mkdirSync(dir2);
  const server = await startSockitServer(dir2);
  const serverWatch = watchProcess(server.child.pid!);
  const r2 = await runSockitPut([src2], server.port);
  const serverPeak = serverWatch.peakKiB();
  serverWatch.stop();
  await server.stop();
  console.log(`\n${MEM_GIB} GiB sockit put: peak RSS sender ${(r2.clientPeakKiB / 1024).toFixed(0)} MiB, receiver ${(serverPeak / 1024).toFixed(0)} MiB (limit 150 MiB), ${((MEM_GIB * 1024 ** 3) / 1e6 / (r2.ms / 1000)).toFixed(0)} MB/s`);
  rmSync(src2);
  rmSync(dir2, { recursive: true, force: true });
}

async function smallFiles(work: string): Promise<void> {
  const many = path.join(work, 'many');
  mkdirSync(many);
  const block = Buffer.alloc(1024);
  for (let i = 0; i < SMALL_FILES; i++) {
    block.writeUInt32BE(i, 0);
    const fd = openSync(path.join(many, `f${i}.dat`), 'w');
    writeSync(fd, block);
    closeSync(fd);
  }
  const sockitSmall: number[] = [];
  const tarSmall: number[] = [];
  for (let round = 0; round < RUNS; round++) {
    const order = round % 2 === 0 ? ['sockit', 'tar'] : ['tar', 'sockit'];
    for (const who of order) {
      const dir = path.join(work, `small-${who}-${round}`);
      mkdirSync(dir);
      if (who === 'sockit') {
        const s = await startSockitServer(dir);
        sockitSmall.push((await runSockitPut([many], s.port)).ms);
        await s.stop();
      } else {
        tarSmall.push((await runNc({ dir: many }, dir)).ms);
      }
    }
  }
  // Received trees are deleted only now: ext4 skips inodes freed in the last minute or so when it
  // allocates new ones (ialloc.c, recently_deleted), so deleting 10,000 files between rounds made
  // the next round's creations (sockit's and tar's alike) scan past them: perf showed the kernel's
  // inode search as the top cost, and a bare create+write+close loop took 250–500 µs per file.
  // A user does not delete 10,000 files just before receiving 10,000.
  for (let round = 0; round < RUNS; round++) {
    for (const who of ['sockit', 'tar']) rmSync(path.join(work, `small-${who}-${round}`), { recursive: true, force: true });
  }
  const fps = (ms: number): number => SMALL_FILES / (ms / 1000);
  console.log(`\n${SMALL_FILES} × 1 KiB files in one transfer, ${RUNS} alternating runs`);
  console.log(`  sockit put DIR        : median ${median(sockitSmall).toFixed(0)} ms  ${fps(median(sockitSmall)).toFixed(0)} files/s   runs ${sockitSmall.map((m) => m.toFixed(0)).join(' ')}`);
  console.log(`  tar cf - | nc → nc | tar xf - : median ${median(tarSmall).toFixed(0)} ms  ${fps(median(tarSmall)).toFixed(0)} files/s   runs ${tarSmall.map((m) => m.toFixed(0)).join(' ')}`);
  console.log(`  ratio sockit / tar|nc : ${(median(tarSmall) / median(sockitSmall)).toFixed(2)}×`);
}

await main();
