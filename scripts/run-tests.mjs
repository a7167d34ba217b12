#!/usr/bin/env node
// Runs the compiled test suite (dist/test/**/*.test.js) with node:test, whose closing summary CI reads.
// Usage: node scripts/run-tests.mjs [test/subdir ...]   (defaults to all of test/)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
}
for (const r of roots) walk(join('dist', r.replace(/^dist\//, '')));
if (files.length === 0) {
  console.error('run-tests: no compiled tests found under', roots.join(', '));
  process.exit(1);
}
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
