/**
 * Names for a file that must not replace an existing one: `name (1).ext`, `name (2).ext`, ...
 * (what browsers and desktop file managers do). Pure: the caller tries the names on the disk.
 */

/** Most alternative names tried before giving up with ERR_SOCKIT_FILE_EXISTS. */
export const MAX_RENAME_ATTEMPTS = 1000;

/**
 * The `n`-th alternative of `name`: n = 0 is the name itself, n = 1 is `name (1).ext`.
 * The extension is the part after the last dot, unless the dot starts the name (`.bashrc (1)`).
 */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return `${name} (${n})`;
  return `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}
