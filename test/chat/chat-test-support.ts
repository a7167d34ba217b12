/**
 * Helpers for the chat tests: a plain-socket line client (what a person with nc sees), a spawned
 * `sockit` process with line-wise stdout, and the repository root.
 */
import net from 'node:net';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
export { repoRoot };

/** Safety net for every wait: generous, never a timing assertion. */
export const SAFETY_MS = 15_000;


/** Collects lines from a byte stream and lets a test wait for the one it expects. */
export class LineLog {
  readonly lines: string[] = [];
  #partial = '';
  #waiters: Array<() => void> = [];
  ended = false;
  /** More context for failure messages (a process's stderr, say). */
  context: () => string = () => '';

  push(chunk: Buffer | string): void {
    const pieces = (this.#partial + chunk.toString()).split('\n');
    this.#partial = pieces.pop()!;
    for (const line of pieces) this.lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    this.#wake();
  }

  end(): void {
    if (this.#partial !== '') this.lines.push(this.#partial);
    this.#partial = '';
    this.ended = true;
    this.#wake();
  }

  /** Resolves with the first line (from index `from`) matching `pattern`; rejects after the safety net. */
  async waitFor(pattern: RegExp | string, from = 0): Promise<string> {
    const test = (l: string): boolean => (typeof pattern === 'string' ? l === pattern : pattern.test(l));
    const deadline = setTimeout(() => this.#wake(), SAFETY_MS);
    const started = Date.now();
    try {
      let next = from;
      for (;;) {
        for (; next < this.lines.length; next++) if (test(this.lines[next]!)) return this.lines[next]!;
        if (this.ended || Date.now() - started >= SAFETY_MS) {
          throw new Error(`no line matching ${pattern} (ended=${this.ended}); got:\n${this.lines.join('\n')}${this.context()}`);
        }
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Resolves once the stream ended. */
  async waitForEnd(): Promise<void> {
    const deadline = setTimeout(() => this.#wake(), SAFETY_MS);
    const started = Date.now();
    try {
      while (!this.ended) {
        if (Date.now() - started >= SAFETY_MS) throw new Error(`stream did not end; got:\n${this.lines.join('\n')}`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A chat client on a plain socket, like a person with nc. */
export class LineClient {
  readonly socket: net.Socket;
  readonly log = new LineLog();
  readonly #closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.log.push(chunk));
    socket.on('error', () => undefined);
    // Like nc: once the server has finished, finish our side too.
    socket.on('end', () => socket.end());
    this.#closed = new Promise((resolve) => socket.on('close', () => {
      this.log.end();
      resolve();
    }));
  }

  /** Resolves once the connection closed (rejects after the safety net). */
  get closed(): Promise<void> {
    return withSafety(this.#closed, 'connection close');
  }

  /** Connects to the chat server on 127.0.0.1:`port` and waits for the greeting. */
  static async connect(port: number, greeting: RegExp = /^\* welcome/): Promise<LineClient> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new LineClient(socket);
    await client.log.waitFor(greeting);
    return client;
  }

  /** Connects and registers as `nick`, waiting until the join of the default room is confirmed. */
  static async as(port: number, nick: string): Promise<LineClient> {
    const client = await LineClient.connect(port);
    const from = client.log.lines.length;
    client.send(`/nick ${nick}`);
    await client.log.waitFor(/^\* #\S+: /, from);
    return client;
  }

  get lines(): string[] {
    return this.log.lines;
  }

  send(line: string | Buffer): void {
    this.socket.write(typeof line === 'string' ? line + '\n' : line);
  }

  /** Sends `line` and resolves with the first line after it matching `pattern`. */
  async ask(line: string, pattern: RegExp | string): Promise<string> {
    const from = this.lines.length;
    this.send(line);
    return this.log.waitFor(pattern, from);
  }

  async close(): Promise<void> {
    this.socket.destroy();
    await this.#closed;
  }
}

/** A spawned `node bin/sockit.js ...` with stdout and stderr collected line by line. */
export class SockitProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout = new LineLog();
  readonly stderr = new LineLog();
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [join(repoRoot(), 'bin', 'sockit.js'), ...args], { env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout.on('data', (c: Buffer) => this.stdout.push(c));
    this.child.stderr.on('data', (c: Buffer) => this.stderr.push(c));
    this.child.stdout.on('end', () => this.stdout.end());
    this.child.stderr.on('end', () => this.stderr.end());
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.stdout.context = () => `\nstderr:\n${this.stderr.lines.join('\n')}`;
  }

  write(line: string): void {
    this.child.stdin.write(line + '\n');
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** Waits for exit (killing the process after the safety net) and returns the exit code. */
  async exit(): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), SAFETY_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `promise`, or a rejection naming `what` after the safety net. */
export function withSafety<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const safety = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what}`)), SAFETY_MS);
  });
  return Promise.race([promise, safety]).finally(() => clearTimeout(timer));
}
