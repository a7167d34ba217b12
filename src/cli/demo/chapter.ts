/**
 * A chapter of `sockit demo`: a short, self-contained tour of one capability on loopback.
 * Each chapter starts what it needs (servers, clients) on port 0 and stops all of it before it
 * returns, so chapters run one after another in one process.
 */
import { CliCodes, SockitError } from '../../errors.js';

/** Where a chapter writes what a person reads. */
export interface DemoContext {
  /** A line of narration (what the seeds teach, what happens next). */
  say(text: string): void;
  /** What a program printed or sent, shown indented under a label such as `client →`. */
  show(label: string, text: string): void;
  /** True when output is a terminal (colours allowed unless NO_COLOR is set). */
  readonly color: boolean;
}

/** One chapter of the demo. */
export interface DemoChapter {
  /** Short title printed as the chapter heading. */
  readonly title: string;
  /** Runs the chapter; rejects (with a sockit error) if something it shows did not happen. */
  run(ctx: DemoContext): Promise<void>;
}

/** Fails the chapter (ERR_SOCKIT_DEMO_CHECK_FAILED) when what it shows did not happen. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new SockitError(CliCodes.DEMO_CHECK_FAILED, `demo: ${what}`);
}

/** Bytes as spaced hex, the way a packet dump shows them: `02 01 00 00`. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
