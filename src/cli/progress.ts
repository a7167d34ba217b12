/**
 * What `put` and `get` print while they run: on a TTY a one-line progress display on stderr (the
 * current file and the total: bytes, rate, ETA), redrawn at most ten times a second; with `--json`
 * one JSON object per event on stdout and a summary at the end; otherwise nothing but failures.
 *
 * A renderer of our own rather than a progress-bar package: it is one line of text, it must write
 * to an injected stream (tests and the demo run commands in-process) and stay silent off a TTY,
 * and cli-progress / progress would add a dependency for less than a hundred lines.
 */
import type { CliIo } from './command.js';
import type { TransferEvent, TransferSummary } from '../transfer/transfer-events.js';
import { escapeControls } from '../chat/protocol/chat-text.js';

const REDRAW_MS = 100;

/** `1.5 MiB` style sizes. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mm = String(m).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** How a command reports a transfer. */
export interface TransferReporter {
  onEvent(event: TransferEvent): void;
  /**
   * Clears the progress line and prints the summary (json) or a closing line (TTY). Without a
   * summary the session failed with `error`: json prints it as a last `error` event (the command
   * still prints it on stderr too).
   */
  finish(summary: TransferSummary | undefined, verb: string, error?: unknown): void;
}

/**
 * Runs a transfer and reports how it ended: its summary, or the error that ended it (rethrown,
 * for the command to print and exit on).
 */
export async function reportedTransfer(reporter: TransferReporter, verb: string, run: () => Promise<TransferSummary>): Promise<TransferSummary> {
  let summary;
  try {
    summary = await run();
  } catch (err) {
    reporter.finish(undefined, verb, err);
    throw err;
  }
  reporter.finish(summary, verb);
  return summary;
}

/** Picks the reporter for the streams and flags: json, TTY progress, or quiet. `nowMs` is the clock (tests pass their own). */
export function createReporter(io: CliIo, options: { json: boolean; nowMs?: () => number }): TransferReporter {
  if (options.json) return new JsonReporter(io);
  if (io.stderr.isTTY) return new TtyProgress(io, options.nowMs ?? (() => performance.now()));
  return { onEvent: (e) => reportProblem(io, e), finish: () => undefined };
}

/**
 * Prints a failed file, or an entry left out, as one line on stderr (every mode shows them). A
 * name may come from the peer (get: what the server offered, even one refused for its control
 * characters) and so may the message: control characters print as visible escapes, so no escape
 * sequence repaints the terminal and no newline fakes another line (scp's CVE-2019-6109).
 */
function reportProblem(io: CliIo, event: TransferEvent): void {
  if (event.type === 'file-done' && !event.result.ok) {
    io.stderr.write(`sockit: ${escapeControls(event.result.rel)}: ${escapeControls(String(event.result.error?.message))} (${event.result.error?.code})\n`);
  } else if (event.type === 'skipped') {
    io.stderr.write(`sockit: skipped ${escapeControls(event.rel)}: ${event.reason}\n`);
  }
}

class JsonReporter implements TransferReporter {
  readonly #io: CliIo;
  constructor(io: CliIo) {
    this.#io = io;
  }
  onEvent(event: TransferEvent): void {
    const out =
      event.type === 'file-done'
        ? { event: event.type, rel: event.result.rel, kind: event.result.kind, ok: event.result.ok, savedAs: event.result.savedAs, bytes: event.result.bytes, resumedFrom: event.result.resumedFrom, unchanged: event.result.unchanged, code: event.result.error?.code, message: event.result.error?.message }
        : { event: event.type, ...event, type: undefined };
    this.#io.stdout.write(JSON.stringify(out) + '\n');
    reportProblem(this.#io, event);
  }
  finish(summary: TransferSummary | undefined, _verb: string, error?: unknown): void {
    if (!summary) {
      // A reader of stdout learns that the session ended without a summary, and why.
      if (error !== undefined) {
        const e = error as { code?: unknown; message?: unknown };
        this.#io.stdout.write(JSON.stringify({ event: 'error', code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? error) }) + '\n');
      }
      return;
    }
    this.#io.stdout.write(JSON.stringify({ event: 'summary', ok: summary.ok, failed: summary.failed, unchanged: summary.unchanged, bytesSent: summary.bytesSent }) + '\n');
  }
}

class TtyProgress implements TransferReporter {
  readonly #io: CliIo;
  readonly #nowMs: () => number;
  readonly #startMs: number;
  #lastDrawMs = Number.NEGATIVE_INFINITY;
  #totalFiles = 0;
  #totalBytes = 0;
  #doneFiles = 0;
  #movedBytes = 0;
  #file = '';
  #fileBytes = 0;
  #fileSize = 0;
  #drawn = false;

  constructor(io: CliIo, nowMs: () => number) {
    this.#io = io;
    this.#nowMs = nowMs;
    this.#startMs = nowMs();
  }

  onEvent(event: TransferEvent): void {
    switch (event.type) {
      case 'start':
        this.#totalFiles = event.files;
        this.#totalBytes = event.bytes;
        break;
      case 'file-start':
        this.#file = event.rel;
        this.#fileSize = event.size;
        this.#fileBytes = event.offset;
        break;
      case 'progress':
        this.#file = event.rel;
        this.#fileBytes = event.fileBytes;
        this.#fileSize = event.size;
        this.#movedBytes = event.totalBytes;
        break;
      case 'file-done':
        this.#doneFiles++;
        if (!event.result.ok) {
          this.#clear();
          reportProblem(this.#io, event);
        }
        break;
      case 'skipped':
        this.#clear();
        reportProblem(this.#io, event);
        break;
    }
    this.#draw(false);
  }

  #clear(): void {
    if (this.#drawn) this.#io.stderr.write('\r\x1b[K');
    this.#drawn = false;
  }

  #draw(force: boolean): void {
    const now = this.#nowMs();
    if (!force && now - this.#lastDrawMs < REDRAW_MS) return;
    this.#lastDrawMs = now;
    const seconds = Math.max(0.001, (now - this.#startMs) / 1000);
    const rate = this.#movedBytes / seconds;
    const files = this.#totalFiles > 0 ? `[${this.#doneFiles}/${this.#totalFiles}]` : `[${this.#doneFiles}]`;
    const name = escapeControls(this.#file);
    const file = this.#fileSize > 0 ? `${name} ${Math.floor((100 * this.#fileBytes) / this.#fileSize)}%` : name;
    const total = this.#totalBytes > 0 ? ` of ${formatBytes(this.#totalBytes)}` : '';
    const eta = this.#totalBytes > 0 && rate > 0 ? ` ETA ${formatDuration((this.#totalBytes - this.#movedBytes) / rate)}` : '';
    const line = `${files} ${file}  ${formatBytes(this.#movedBytes)}${total}  ${formatBytes(rate)}/s${eta}`;
    // A terminal that reports no width (0, as some do under script(1) or a serial line) gets 100.
    const width = (this.#io.stderr as { columns?: number }).columns || 100;
    this.#io.stderr.write(`\r\x1b[K${line.length >= width ? line.slice(0, width - 1) : line}`);
    this.#drawn = true;
  }

  finish(summary: TransferSummary | undefined, verb: string): void {
    this.#clear();
    if (!summary) return;
    const seconds = Math.max(0.001, (this.#nowMs() - this.#startMs) / 1000);
    this.#io.stderr.write(`${verb} ${summary.ok} item(s), ${formatBytes(summary.bytesSent)} in ${seconds.toFixed(1)} s (${formatBytes(summary.bytesSent / seconds)}/s)${summary.unchanged ? `, ${summary.unchanged} already there` : ''}${summary.failed ? `, ${summary.failed} failed` : ''}\n`);
  }
}
