/**
 * Test harness for the command line and real peers: spawns `node bin/sockit.js`, the seeds' Python
 * programs, nc and socat as real processes, collects their output, waits for what they print, and
 * makes sure none of them outlives the test.
 *
 * Waits are driven by output and exit events; the timers here are safety nets that turn a hang into
 * a clear failure, never assertions about speed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import dgram from 'node:dgram';
import { repoRoot } from '../../support/repo-root.js';
export { repoRoot };


/** Where the seeds' Python programs live. */
export function seedProgram(name: string): string {
  return join(repoRoot(), 'test', 'seeds', 'programs', name);
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link start}. */
export interface StartOptions {
  /** Written to stdin, which is then closed. `'open'` leaves stdin open (write with `proc.write`). Default: closed at once. */
  stdin?: string | Buffer | 'open';
  env?: NodeJS.ProcessEnv;
  /** Safety net: the process is killed after this long (default 20 s) and the test fails on its output. */
  killAfterMs?: number;
  /** Run as this user and group (only root may ask). */
  user?: { uid: number; gid: number };
}

const running = new Set<ChildProcess>();

/** A running process whose output is collected. */
export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  readonly exited: Promise<Exit>;
  #stdout: Buffer[] = [];
  #stderr: Buffer[] = [];
  #waiters: Array<() => void> = [];
  #exit: Exit | undefined;

  constructor(name: string, child: ChildProcess, killAfterMs: number) {
    this.name = name;
    this.child = child;
    running.add(child);
    const safety = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.stdout!.on('data', (b: Buffer) => { this.#stdout.push(b); this.#wake(); });
    child.stderr!.on('data', (b: Buffer) => { this.#stderr.push(b); this.#wake(); });
    // A peer that exits before reading all we wrote is the test's business, not an EPIPE crash.
    child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(safety);
        running.delete(child);
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      });
    });
  }

  /** Everything written to stdout so far, as bytes. */
  get stdoutBytes(): Buffer { return Buffer.concat(this.#stdout); }
  /** Everything written to stdout so far. */
  get stdout(): string { return this.stdoutBytes.toString('utf8'); }
  /** Everything written to stderr so far. */
  get stderr(): string { return Buffer.concat(this.#stderr).toString('utf8'); }

  /** Writes to stdin. */
  write(text: string | Buffer): void { this.child.stdin!.write(text); }
  /** Closes stdin (EOF for the process). */
  endInput(): void { this.child.stdin!.end(); }

  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
  waitForStdout(pattern: RegExp): Promise<RegExpMatchArray> { return this.#waitFor(() => this.stdout, pattern, 'stdout'); }
  /** Resolves with the first match of `pattern` in stderr; rejects if the process exits first. */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> { return this.#waitFor(() => this.stderr, pattern, 'stderr'); }

  /** Sends a signal (default SIGTERM) and resolves when the process has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (!this.#exit) this.child.kill(signal);
    return this.exited;
  }

  /** Resolves once the process exits, with its output (the process must end by itself). */
  async result(): Promise<Exit & { stdout: string; stderr: string }> {
    const exit = await this.exited;
    return { ...exit, stdout: this.stdout, stderr: this.stderr };
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #waitFor(text: () => string, pattern: RegExp, stream: string): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = text().match(pattern);
        if (m) return resolve(m);
        if (this.#exit) {
          return reject(new Error(`${this.name} exited (${JSON.stringify(this.#exit)}) before ${stream} matched ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
        }
        this.#waiters.push(check);
      };
      check();
    });
  }
}

/** Starts `command args` with piped stdio. */
export function start(command: string, args: string[], options: StartOptions = {}): Proc {
  const child = spawn(command, args, {
    cwd: repoRoot(),
    env: { ...process.env, NO_COLOR: '1', PYTHONIOENCODING: 'utf-8', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  const proc = new Proc(`${command} ${args.join(' ')}`, child, options.killAfterMs ?? 20_000);
  if (options.stdin !== 'open') {
    if (options.stdin !== undefined) child.stdin!.write(options.stdin);
    child.stdin!.end();
  }
  return proc;
}

/** Starts `node bin/sockit.js ARGS` (the built CLI in dist/). */
export function sockit(args: string[], options: StartOptions = {}): Proc {
  return start(process.execPath, [join(repoRoot(), 'bin', 'sockit.js'), ...args], options);
}

/** Starts one of the seeds' Python programs, unbuffered so its prints arrive as they happen. */
export function python(program: string, args: string[], options: StartOptions = {}): Proc {
  return start('python3', ['-u', seedProgram(program), ...args], options);
}

/**
 * Starts `sockit listen ARGS` and waits for its readiness line; resolves with the process and the
 * port it listens on.
 */
export async function sockitListener(args: string[], options: StartOptions = {}): Promise<{ proc: Proc; port: number }> {
  const proc = sockit(['listen', ...args], options);
  const m = await proc.waitForStderr(/listening on (?:tcp|udp|rudp) \S*:(\d+)\n/);
  return { proc, port: Number(m[1]) };
}

/** Kills every process still running (for `after()` hooks), and waits for them to go. */
export async function killAll(): Promise<void> {
  const all = [...running];
  await Promise.all(all.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('close', () => resolve());
    c.kill('SIGKILL');
  })));
}

/** A port that was free a moment ago on 127.0.0.1 (for peers that take a port number, not 0). */
export async function freePort(protocol: 'tcp' | 'udp'): Promise<number> {
  if (protocol === 'tcp') {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

// /proc/net/{tcp,tcp6,udp,udp6}: local address is column 2 as HEXIP:HEXPORT, state column 4
// (0A = LISTEN for TCP; 07 = bound/unconnected for UDP).
function isBound(port: number, protocol: 'tcp' | 'udp'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const wantState = protocol === 'tcp' ? '0A' : '07';
  for (const file of [`/proc/net/${protocol}`, `/proc/net/${protocol}6`]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1]!.endsWith(':' + hexPort) && cols[3] === wantState) return true;
    }
  }
  return false;
}

/**
 * Waits until some process listens on `port` (TCP) or has bound it (UDP), without connecting to
 * it: the seeds' servers accept exactly one client, so a probe connection would use it up.
 * Rejects if `proc` exits first.
 */
export async function waitForBound(port: number, protocol: 'tcp' | 'udp', proc: Proc): Promise<void> {
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  while (!isBound(port, protocol)) {
    if (exited) throw new Error(`${proc.name} exited before binding ${protocol} port ${port}\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
