#!/usr/bin/env node
// The sockit command. The TypeScript sources are built into dist/ by `npm install` (prepare).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`sockit: internal error: ${err?.stack ?? err}\n`); process.exitCode = 1; },
);
