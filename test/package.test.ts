// The package as a user installs it: the `exports` entry loads and carries the public API, the
// type declarations exist, and the `sockit` bin answers --version with package.json's version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './support/repo-root.js';

const root = repoRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  exports: { '.': { import: string; types: string } };
  bin: { sockit: string };
};

test('the exports entry loads and carries the public API', async () => {
  const api = (await import(pathToFileURL(join(root, pkg.exports['.'].import)).href)) as Record<string, unknown>;
  for (const name of [
    'SockitError', 'getFraming', 'listenTcp', 'connectTcp', 'MessageConnection', 'UdpEndpoint',
    'serveStream', 'tcpTransport', 'createRudpTransport', 'putFiles', 'listenChat', 'newReno', 'cubic',
  ]) {
    assert.ok(api[name], `public API lacks ${name}`);
  }
  assert.ok(existsSync(join(root, pkg.exports['.'].types)), 'type declarations are missing');
});

test('sockit --version prints the package version', () => {
  const out = execFileSync(process.execPath, [join(root, pkg.bin.sockit), '--version'], { encoding: 'utf8' });
  assert.equal(out.trim(), `sockit ${pkg.version}`);
});
