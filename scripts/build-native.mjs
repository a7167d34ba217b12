#!/usr/bin/env node
// Builds sockit's native helpers at install time, on Linux: batched UDP I/O (native/udp_batch.c) and
// the sendfile(2) file sender (native/file_send.c). Optional: when the build fails (no compiler, no
// Node headers, another OS) sockit runs RUDP on node:dgram and sends files from JavaScript buffers
// instead, and this script says so and exits 0 so that `npm install` goes on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const note = (why) => {
  process.stderr.write(`sockit: native helpers not built (${why}); RUDP will use node:dgram and files are sent from JavaScript buffers (slower, same behaviour)\n`);
  process.exit(0);
};

if (process.platform !== 'linux') note(`it is for Linux, this is ${process.platform}`);
if (process.env.SOCKIT_SKIP_NATIVE === '1') note('SOCKIT_SKIP_NATIVE=1');

// npm tells install scripts where its bundled node-gyp is; otherwise look beside this node.
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((p) => p && existsSync(p));
if (candidates.length === 0) note('node-gyp not found');

// node-gyp reads npm_config_nodedir (set where npm builds against local Node headers) by itself;
// without it, use the headers installed beside this node if there are any (no download needed).
const args = [candidates[0], 'rebuild'];
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (result.status !== 0) {
  const lines = (result.stderr ?? '').trim().split('\n').filter((l) => /error|ERR!/.test(l)).slice(0, 3).join(' | ');
  note(`node-gyp rebuild failed: ${lines || `exit ${result.status}`}`);
}
process.stderr.write('sockit: built native helpers (build/Release/sockit_udp.node: batched UDP I/O; sockit_file_send.node: sendfile file sender)\n');
