// The command line's contract with scripts: help on every command, the version, and usage errors
// as one line on stderr with exit status 2.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll, repoRoot, sockit } from './support/processes.js';

after(killAll);

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  const r = await sockit(['--version']).result();
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `sockit ${version}\n`);
});

test('sockit --help lists listen, connect and demo', async () => {
  const r = await sockit(['--help']).result();
  assert.equal(r.code, 0);
  for (const name of ['listen', 'connect', 'demo']) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'));
});

describe('help', { concurrency: 4 }, () => {
  for (const [command, mustMention] of [
    ['listen', ['--udp', '--service', '--keep-open', '--framing', '--encoding', '--max-frame', '--rudp', 'echo', 'upper', 'discard']],
    ['connect', ['--udp', '--broadcast', '--timeout', '--framing', '--encoding', '--rudp']],
    ['demo', ['loopback']],
  ] as const) {
    test(`sockit ${command} --help explains its options`, async () => {
      const r = await sockit([command, '--help']).result();
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^usage: sockit ${command}`));
      for (const word of mustMention) assert.ok(r.stdout.includes(word), `help of ${command} mentions ${word}`);
    });
  }
});

const USAGE_ERRORS: Array<[string[], RegExp]> = [
  [['listen'], /listen: missing PORT/],
  [['listen', 'http'], /PORT must be a number/],
  [['listen', '70000'], /PORT must be a number from 0 to 65535/],
  [['listen', '0', '--frobnicate'], /Unknown option '--frobnicate'/],
  [['listen', '0', '--service', 'nosuch'], /unknown service 'nosuch': use one of .*echo/],
  [['listen', '0', '--framing', 'xml'], /unknown framing 'xml'/],
  [['listen', '0', '--encoding', 'latin9'], /unknown encoding 'latin9'/],
  [['listen', '0', '--max-frame', 'lots'], /--max-frame must be a positive byte count/],
  [['listen', '0', '--udp', '--framing', 'len32'], /--framing may be raw or lines/],
  [['listen', '0', '--udp', '--rudp'], /--udp and --rudp exclude each other/],
  [['listen', '0', '--trace'], /--trace needs --rudp/],
  [['listen', '0', '--service', 'echo', '--keep-open'], /--keep-open is for nc mode/],
  [['connect'], /connect: missing HOST and PORT/],
  [['connect', '127.0.0.1'], /connect: missing PORT/],
  [['connect', '127.0.0.1', '0'], /PORT must be a number from 1 to 65535/],
  [['connect', '127.0.0.1', '9', 'extra'], /unexpected argument 'extra'/],
  [['connect', '127.0.0.1', '9', '--timeout', 'soon'], /--timeout must be a whole number of milliseconds/],
  // These two used to ignore --trace without --rudp silently.
  [['connect', '--udp', '127.0.0.1', '9', '--trace'], /connect: --trace needs --rudp/],
  [['chat', '127.0.0.1', '9', '--trace'], /chat: --trace needs --rudp/],
  [['impair', '--listen', '0', '--to', '127.0.0.1:9', 'extra'], /impair: unexpected argument 'extra'/],
  // put/get/ls name themselves like the other commands (they used parseArgs' raw message).
  [['put', 'a', '127.0.0.1', '9', '--bogus'], /^sockit: put: Unknown option '--bogus' \(ERR_SOCKIT_USAGE\)\n/],
  [['get', '127.0.0.1', '9', 'x', '--out'], /^sockit: get: Option '--out <value>' argument missing \(ERR_SOCKIT_USAGE\)\n/],
  [['ls', '127.0.0.1', '9', '--what'], /^sockit: ls: Unknown option '--what' \(ERR_SOCKIT_USAGE\)\n/],
  // parseArgs says this in three lines; the CLI says it in one.
  [['connect', '127.0.0.1', '9', '--timeout', '-5'], /^sockit: connect: Option '--timeout' argument is ambiguous: a value starting with '-' is written --timeout=-XYZ \(ERR_SOCKIT_USAGE\)\n/],
  [['connect', '', '9'], /^sockit: connect: HOST is empty \(ERR_SOCKIT_USAGE\)\n/],
  [['listen', '0', '--host', ''], /^sockit: listen: --host is empty \(ERR_SOCKIT_USAGE\)\n/],
  [['put', 'a', ' ', '9'], /^sockit: put: HOST is empty \(ERR_SOCKIT_USAGE\)\n/],
  [['chat', '', '9'], /^sockit: chat: HOST is empty \(ERR_SOCKIT_USAGE\)\n/],
  [['connect', '127.0.0.1', '9', '--broadcast'], /^sockit: connect: --broadcast needs --udp \(ERR_SOCKIT_USAGE\)\n/],
  [['demo', '99'], /no chapter '99'/],
  [['frobnicate'], /unknown command 'frobnicate'/],
];

// Independent short-lived processes: run them side by side.
describe('usage errors exit 2 with one line naming the problem', { concurrency: 6 }, () => {
  for (const [args, message] of USAGE_ERRORS) {
    test(`sockit ${args.join(' ')}`, async () => {
      const r = await sockit(args).result();
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^sockit: .* \(ERR_SOCKIT_USAGE\)\n/);
      assert.match(r.stderr, message);
    });
  }
});
