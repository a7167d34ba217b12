#!/usr/bin/env node
// Runs benchmarks: every dist/bench/*.bench.js, or those whose name contains an argument.
// Usage: npm run bench [-- NAME ...]. Each benchmark prints its own table; see BENCHMARKS.md.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = join('dist', 'bench');
const filters = process.argv.slice(2);
const all = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort() : [];
const chosen = filters.length ? all.filter((f) => filters.some((n) => f.includes(n))) : all;
if (chosen.length === 0) {
  console.error(`run-bench: no benchmark matches ${filters.join(' ') || '(any)'}; have: ${all.join(', ') || 'none'}`);
  process.exit(1);
}
let failed = 0;
for (const f of chosen) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
