/**
 * `sockit demo` (what `npm start` runs): a short tour on loopback of what the seeds teach, one
 * chapter per capability, each starting and stopping its own servers and clients on port 0.
 *
 * Add a chapter: one line in {@link DEMO_CHAPTERS} loading a module that exports a DemoChapter.
 */
import { TimeoutError, UsageError } from '../errors.js';
import { ExitCode, type CliIo, type Command } from './command.js';
import type { DemoChapter, DemoContext } from './demo/chapter.js';
import { parseCommandLine } from './cli-options.js';
import { reportError } from './report-error.js';

/** Loads one chapter (lazily, so the demo only loads what it runs). */
export type DemoChapterLoader = () => Promise<DemoChapter>;

/** The chapters, in the order they are shown. */
export const DEMO_CHAPTERS: readonly DemoChapterLoader[] = [
  async () => (await import('./demo/core.js')).tcpChapter,
  async () => (await import('./demo/core.js')).stickyPacketChapter,
  async () => (await import('./demo/core.js')).udpChapter,
  async () => (await import('./demo/core.js')).broadcastChapter,
  async () => (await import('./demo/files.js')).filesChapter,
  async () => (await import('./demo/chat.js')).chatChapter,
  async () => (await import('./demo/rudp.js')).rudpChapter,
];

/** A chapter that has not finished after this long failed (a safety net; chapters take milliseconds). */
export const CHAPTER_TIMEOUT_MS = 15_000;

const HELP = `usage: sockit demo [N...]

A short self-contained tour on loopback (127.0.0.1) of what the seed tutorials teach: a TCP
server and client, the "sticky packet" problem and its fix, UDP datagrams answered to their
sender, broadcast, and the later capabilities. Give chapter numbers to run only those.

options:
  --help, -h          show this help
`;

interface Style {
  heading(text: string): string;
  label(text: string): string;
  dim(text: string): string;
}

const PLAIN: Style = { heading: (t) => t, label: (t) => t, dim: (t) => t };
const ANSI: Style = {
  heading: (t) => `\x1b[1;36m${t}\x1b[0m`,
  label: (t) => `\x1b[33m${t}\x1b[0m`,
  dim: (t) => `\x1b[2m${t}\x1b[0m`,
};

/** Colours only on a terminal, and never with NO_COLOR set (https://no-color.org). */
function wantsColor(io: CliIo): boolean {
  return io.stdout.isTTY === true && (io.env.NO_COLOR === undefined || io.env.NO_COLOR === '');
}

function contextFor(io: CliIo, style: Style, color: boolean): DemoContext {
  return {
    color,
    say(text) {
      io.stdout.write(text.replace(/^/gm, '  ') + '\n');
    },
    show(label, text) {
      const pad = ' '.repeat(label.length + 1);
      const lines = text.split('\n');
      io.stdout.write(`    ${style.label(label)} ${lines[0]}\n`);
      for (const line of lines.slice(1)) io.stdout.write(`    ${pad}${line}\n`);
    },
  };
}

async function runChapter(chapter: DemoChapter, ctx: DemoContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError('reply', CHAPTER_TIMEOUT_MS, `demo chapter '${chapter.title}' did not finish within ${CHAPTER_TIMEOUT_MS} ms`)), CHAPTER_TIMEOUT_MS);
  });
  try {
    await Promise.race([chapter.run(ctx), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `sockit demo` command. */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'a short loopback tour of TCP, UDP, sticky packets and the rest (npm start)',
  help: HELP,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { positionals } = parseCommandLine('demo', argv, {});
    const picked = positionals.map((p) => {
      const n = /^\d+$/.test(p) ? Number(p) : NaN;
      if (!(n >= 1 && n <= DEMO_CHAPTERS.length)) throw new UsageError(`demo: no chapter '${p}': chapters are 1 to ${DEMO_CHAPTERS.length}`);
      return n;
    });
    const numbers = picked.length > 0 ? picked : DEMO_CHAPTERS.map((_, i) => i + 1);
    const color = wantsColor(io);
    const style = color ? ANSI : PLAIN;
    const ctx = contextFor(io, style, color);
    io.stdout.write(`sockit ${style.dim('demo: everything below runs on 127.0.0.1, in this process')}\n`);
    let failed = 0;
    for (const n of numbers) {
      const chapter = await DEMO_CHAPTERS[n - 1]!();
      io.stdout.write(`\n${style.heading(`${n}. ${chapter.title}`)}\n`);
      try {
        await runChapter(chapter, ctx);
      } catch (err) {
        failed++;
        reportError(err, io);
      }
    }
    io.stdout.write(`\n${failed === 0 ? `${numbers.length} chapter${numbers.length === 1 ? '' : 's'}, all done.` : `${failed} of ${numbers.length} chapters failed.`}\n`);
    return failed === 0 ? ExitCode.OK : ExitCode.FAILURE;
  },
};
