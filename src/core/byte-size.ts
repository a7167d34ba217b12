/**
 * Byte sizes as people write them on a command line: `65536`, `64k`, `16M`, `2G`, `1T`, with an
 * optional `B`/`iB` (`512KiB`), case-insensitive, powers of 1024. One parser for every option that
 * takes a size (`--max-frame`, `--max-size`, `--max-queue`); each caller words its own error.
 */

const POWERS = ' kmgt';

/** The number of bytes `text` names, or undefined when it is not a size or not a safe integer. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * 1024 ** POWERS.indexOf((m[2] || ' ').toLowerCase());
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
