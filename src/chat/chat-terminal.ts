/**
 * The chat client's terminal side, shared by `sockit chat HOST PORT` and `sockit chat --lan`.
 *
 * On a TTY it is an interactive line editor (node:readline) whose input line survives incoming
 * messages: each message clears the prompt line, prints, and redraws the prompt with what was
 * typed so far (the trick irssi and every IRC client do). Lines get a timestamp and, unless
 * NO_COLOR is set, a colour by kind. When stdin is not a TTY it reads lines and prints lines,
 * nothing else, so it can be scripted.
 */
import { EventEmitter } from 'node:events';
import readline from 'node:readline';
import stringWidth from 'string-width';

/** The standard streams the terminal uses (the CLI passes its own; the demo passes in-memory ones). */
export interface TerminalStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
}

/** Options of {@link ChatTerminal}. */
export interface ChatTerminalOptions {
  /** Prefix lines with HH:MM:SS; default: only on a TTY. */
  timestamps?: boolean;
  /** The prompt shown on a TTY. */
  prompt?: string;
}

const COLORS = {
  error: '\x1b[31m',
  notice: '\x1b[36m',
  private: '\x1b[35m',
  reset: '\x1b[0m',
} as const;

/** Emits `'line'` for each line typed and `'end'` once input ends (EOF, Ctrl-D, Ctrl-C). */
export class ChatTerminal extends EventEmitter {
  readonly #io: TerminalStreams;
  readonly #rl: readline.Interface;
  readonly #tty: boolean;
  readonly #color: boolean;
  readonly #timestamps: boolean;
  #closed = false;
  #pastedLine = false;

  constructor(io: TerminalStreams, options: ChatTerminalOptions = {}) {
    super();
    this.#io = io;
    this.#tty = Boolean(io.stdin.isTTY && io.stdout.isTTY);
    // https://no-color.org: NO_COLOR set to anything but the empty string turns colour off.
    this.#color = this.#tty && !io.env['NO_COLOR'];
    this.#timestamps = options.timestamps ?? this.#tty;
    this.#rl = readline.createInterface({
      input: io.stdin,
      ...(this.#tty ? { output: io.stdout, prompt: options.prompt ?? '> ', terminal: true } : { terminal: false }),
    });
    // Before readline sees a chunk: does a line end in it after text of the same chunk?
    if (this.#tty) io.stdin.prependListener('data', (chunk: Buffer | string) => (this.#pastedLine = /[^\r\n][\r\n]/.test(String(chunk))));
    this.#rl.on('line', (line: string) => {
      // The typed line is already on screen above the prompt; erase it so the server's echo
      // (which shows what everyone saw, in order) is the only copy. A line wider than the
      // terminal wrapped onto several rows: all of them go (CJK characters are two columns).
      if (this.#tty) {
        const columns = this.#io.stdout.columns || 80;
        const width = stringWidth(this.#rl.getPrompt() + line);
        // A line that exactly fills its last row: typed key by key, readline then moves to a fresh
        // row (it writes a space to force the wrap), one more to erase; text that came in one chunk
        // with its Enter (a paste) is written as it is, and the Enter alone starts the next row.
        const rows = this.#pastedLine ? Math.max(1, Math.ceil(width / columns)) : Math.floor(width / columns) + 1;
        this.#io.stdout.write(`\x1b[${rows}A\r\x1b[J`);
      }
      this.emit('line', line);
      if (this.#tty && !this.#closed) this.#rl.prompt();
    });
    // Ctrl-C leaves like Ctrl-D (readline would otherwise only pause input and hang).
    this.#rl.on('SIGINT', () => this.#rl.close());
    this.#rl.on('close', () => {
      this.#closed = true;
      this.emit('end');
    });
    // stdout closed under us (`sockit chat ... | head`): nobody reads the chat any more, so leave.
    io.stdout.on('error', () => {
      if (this.#closed) return;
      this.close();
    });
    if (this.#tty) this.#rl.prompt();
  }

  /** True when input is an interactive terminal. */
  get interactive(): boolean {
    return this.#tty;
  }

  /** Prints one received line, keeping the user's half-typed input intact. */
  print(line: string): void {
    let text = line;
    if (this.#color) {
      const color = line.startsWith('! ') ? COLORS.error : line.startsWith('* ') ? COLORS.notice : line.startsWith('[pm') ? COLORS.private : undefined;
      if (color) text = `${color}${line}${COLORS.reset}`;
    }
    if (this.#timestamps) text = `${clock()} ${text}`;
    if (this.#io.stdout.writable === false) return;
    if (!this.#tty) {
      this.#io.stdout.write(text + '\n');
      return;
    }
    // Over the prompt line (even after input closed: the last prompt is still on screen).
    readline.clearLine(this.#io.stdout, 0);
    readline.cursorTo(this.#io.stdout, 0);
    this.#io.stdout.write(text + '\n');
    if (!this.#closed) this.#rl.prompt(true);
  }

  /**
   * A message from the client itself (connection lost, ...), on stderr so stdout stays the chat.
   * `final`: the session is ending, so the prompt is not drawn again.
   */
  notice(text: string, final = false): void {
    if (this.#tty) {
      readline.clearLine(this.#io.stdout, 0);
      readline.cursorTo(this.#io.stdout, 0);
    }
    this.#io.stderr.write(`${this.#color ? COLORS.error : ''}sockit: ${text}${this.#color ? COLORS.reset : ''}\n`);
    if (this.#tty && !this.#closed && !final) this.#rl.prompt(true);
  }

  /** Changes the prompt; it shows from the next redraw (the next line printed or typed). */
  setPrompt(prompt: string): void {
    this.#rl.setPrompt(prompt);
  }

  /** Stops reading input (for piped input: lets the process exit). */
  pause(): void {
    this.#rl.pause();
  }

  /** Resumes reading input after {@link pause}. */
  resume(): void {
    if (!this.#closed) this.#rl.resume();
  }

  /** Stops reading and restores the terminal. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rl.close();
    // A piped stdin that is still open would keep the process alive after the chat ended.
    if (!this.#tty) (this.#io.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

function clock(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
