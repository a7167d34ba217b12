import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { checkLayers } from './support/layers.js';

// dist/test/layers.test.js -> repository root is three levels up.
const root = fileURLToPath(new URL('../../', import.meta.url));

test('pure folders touch no I/O, clock, timer or Math.random; nothing imports the CLI', () => {
  assert.deepEqual(checkLayers(root), []);
});
