/**
 * The layer rules of docs/architecture.md as code, so they are checked, not hoped for.
 *
 * 1. Pure folders import no node: module, read no clock, schedule nothing, draw no Math.random.
 * 2. Nothing outside src/cli imports from src/cli.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Folders (under src/) whose code must stay free of I/O, clocks, timers and ambient randomness. */
export const PURE_FOLDERS = ['core', 'framing', 'rudp', 'sim', 'transfer/protocol', 'chat/protocol'];

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+['"]node:/, 'imports a node: module'],
  [/require\(\s*['"]node:/, 'requires a node: module'],
  [/import\(\s*['"]node:/, 'imports a node: module'],
  [/\bDate\.now\s*\(/, 'reads the clock (Date.now)'],
  [/\bnew Date\s*\(\s*\)/, 'reads the clock (new Date())'],
  [/\bperformance\.now\s*\(/, 'reads the clock (performance.now)'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(|\bsetImmediate\s*\(/, 'schedules a timer'],
  [/\bMath\.random\s*\(/, 'draws Math.random'],
];

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Returns one line per broken rule (empty when the tree follows them). `root` is the repo root. */
export function checkLayers(root: string): string[] {
  const problems: string[] = [];
  for (const folder of PURE_FOLDERS) {
    for (const file of tsFiles(join(root, 'src', folder))) {
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const [re, what] of FORBIDDEN) {
        if (re.test(text)) problems.push(`${relative(root, file)}: pure folder src/${folder} ${what}`);
      }
    }
  }
  for (const file of tsFiles(join(root, 'src'))) {
    const rel = relative(join(root, 'src'), file);
    if (rel.startsWith('cli/')) continue;
    const text = readFileSync(file, 'utf8');
    if (/from\s+['"][./]*\/cli\//.test(text) || /from\s+['"]\.\.\/cli\//.test(text)) {
      problems.push(`src/${rel}: imports from src/cli (nothing may import the CLI)`);
    }
  }
  return problems;
}
