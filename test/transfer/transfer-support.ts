/**
 * Shared helpers of the file-transfer tests: the repository root (found by walking up, so the
 * same code works from test/ under tsx and from dist/test/), temporary directories, random files,
 * SHA-256 of files and trees, loopback TCP pairs, an in-process files server, running the built
 * CLI, and file-protocol frames built by hand (for peers that a test drives byte by byte).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fsp, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { startFilesServer, type FilesServerOptions } from '../../src/transfer/files-server.js';
import { encodeMessage, MessageType, type ControlMessage } from '../../src/transfer/protocol/messages.js';
import { len32 } from '../../src/framing/len32.js';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json, found from this file's location. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** A fresh directory under the OS temp dir; removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `sockit-${prefix}-`));
  return { dir, cleanup: () => fsp.rm(dir, { recursive: true, force: true }) };
}

/** Writes `bytes` random bytes to `file` (parents created); returns the file path. */
export async function randomFile(file: string, bytes: number): Promise<string> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const fh = await fsp.open(file, 'w');
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(4 << 20, bytes - done);
      await fh.write(randomBytes(n));
      done += n;
    }
  } finally {
    await fh.close();
  }
  return file;
}

/** A connected loopback TCP pair, both half-open capable: [accepted side, connecting side, close the listener]. */
export async function tcpPair(): Promise<[net.Socket, net.Socket, () => void]> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((r) => client.once('connect', r));
  return [await accepted, client, () => server.close()];
}

/**
 * A files server in-process on a fresh temporary tree: `srv` is what it shares, `src` and `out` are
 * empty folders for the test's own files. Closed and removed afterwards.
 */
export async function withFilesServer(
  options: Omit<FilesServerOptions, 'dir'>,
  body: (ctx: { port: number; srv: string; src: string; out: string }) => Promise<void>,
): Promise<void> {
  const t = tempDir('files');
  const srv = path.join(t.dir, 'srv');
  const src = path.join(t.dir, 'src');
  const out = path.join(t.dir, 'out');
  await Promise.all([fsp.mkdir(srv), fsp.mkdir(src), fsp.mkdir(out)]);
  const server = await startFilesServer({ ...options, dir: srv });
  try {
    await body({ port: server.address.port, srv, src, out });
  } finally {
    await server.close(1000);
    await t.cleanup();
  }
}

/** SHA-256 of a file, hex. */
export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Every entry below `dir` as `rel -> 'dir' | sha256`, sorted; ignores nothing. */
export async function treeDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(abs)).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await fsp.lstat(a);
      if (st.isDirectory()) {
        out[r] = 'dir';
        await walk(a, r);
      } else out[r] = sha256File(a);
    }
  };
  await walk(dir, '');
  return out;
}

/** Every file and directory name below `dir`, relative, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  return Object.keys(await treeDigest(dir)).sort();
}

/** Result of a finished child process. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/sockit.js ...args` to completion (safety timeout kills it). */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return runProcess(process.execPath, [path.join(repoRoot(), 'bin', 'sockit.js'), ...args], options);
}

/** Runs a program to completion, collecting its output (safety timeout kills it). */
export function runProcess(file: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running child whose first stdout/stderr line matching `ready` is awaited. */
export async function startProcess(file: string, args: string[], ready: RegExp, options: { cwd?: string } = {}): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(file, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let text = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not print ${ready} within 20 s; output: ${text}`));
    }, 20_000);
    const onData = (s: string): void => {
      text += s;
      const m = text.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`process exited before it was ready; output: ${text}`));
    });
  });
  return {
    child,
    match,
    output: () => text,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A server must go promptly on SIGTERM: one that needs SIGKILL fails the test.
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
      if (killed) throw new Error(`${path.basename(file)} ${args.slice(0, 3).join(' ')} did not exit within 5 s of SIGTERM; output: ${text}`);
    },
  };
}

/** `sockit listen 0 --host 127.0.0.1 --service files ...extra`, started; resolves with its port. */
export async function startCliFilesServer(extra: string[]): Promise<{ port: number; output: () => string; stop: () => Promise<void> }> {
  const p = await startProcess(process.execPath, [path.join(repoRoot(), 'bin', 'sockit.js'), 'listen', '0', '--host', '127.0.0.1', '--service', 'files', ...extra], /listening on tcp 127\.0\.0\.1:(\d+)/);
  return { port: Number(p.match[1]), output: p.output, stop: p.stop };
}

/** Every path form the anchors' CVEs used, and the Windows ones. */
export const FORBIDDEN_PATHS = [
  '',
  '/etc/passwd',
  '\\windows\\system32',
  '../escape.txt',
  'a/../../escape.txt',
  'a/..',
  '..',
  '.',
  './a',
  'a/./b',
  'a//b',
  'a/',
  'C:\\evil.txt',
  'c:evil.txt',
  '\\\\server\\share\\x',
  'a\\..\\..\\evil',
  'nul\u0000.txt',
  'bell\u0007.txt',
  'line\nbreak.txt',
  'esc\u001b[31m.txt',
  'CON',
  'aux.txt',
  'dir/LPT1',
  'com3.log',
  'trailing-dot.',
  'trailing-space ',
  'stream.txt:hidden',
  'x'.repeat(256),
];

/** One file-protocol frame on the wire: the u32 big-endian length, then `payload` (type byte first). */
export function wireFrame(payload: Uint8Array): Buffer {
  return Buffer.concat(len32.encode(payload));
}

/** A control message as it travels. */
export function controlFrame(msg: ControlMessage): Buffer {
  return wireFrame(encodeMessage(msg));
}

/** A DATA frame carrying `bytes`. */
export function dataFrame(bytes: Uint8Array): Buffer {
  return wireFrame(Buffer.concat([Buffer.from([MessageType.DATA]), bytes]));
}
