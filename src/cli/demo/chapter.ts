/**
 * A chapter of `sockit demo`: a short, self-contained tour of one capability on loopback.
 * Each chapter starts what it needs (servers, clients) on port 0 and stops all of it before it
 * returns, so chapters run one after another in one process.
 */

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
