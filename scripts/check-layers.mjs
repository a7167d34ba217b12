#!/usr/bin/env node
// Enforces the layer rules of docs/architecture.md (also run as a test: test/layers.test.ts):
// pure folders import no node: module, read no clock, set no timer, draw no Math.random;
// nothing outside src/cli imports src/cli.
import { checkLayers } from '../dist/test/support/layers.js';
const problems = checkLayers(process.cwd());
for (const p of problems) console.error(p);
process.exit(problems.length ? 1 : 0);
