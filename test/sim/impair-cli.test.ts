import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { collector, numbered, repoRoot, sendTo, waitFor } from './udp-helpers.js';

const SOCKIT = join(repoRoot(), 'bin', 'sockit.js');

/**
 * Starts `sockit impair ARGS` and resolves with the child and its port once the readiness line is
 * out. The child is killed when the test ends, whatever happens.
 */
async function startImpair(t: TestContext, args: string[]) {
  const child = spawn(process.execPath, [SOCKIT, 'impair', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The readiness line, then the seed line: two writes, which may arrive as two chunks.
  await waitFor(() => /^seed \d+$/m.test(stderr) || child.exitCode !== null, 'the readiness and seed lines');
  const m = /^impairing udp 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+)$/m.exec(stderr);
  assert.ok(m, `readiness line missing: ${stderr}`);
  return { child, port: Number(m[1]), targetPort: Number(m[2]), exited, stderr: () => stderr };
}

test('sockit impair relays with the given models and prints its counters on SIGTERM', async (t) => {
  const target = await collector();
  t.after(() => target.close());
  const client = await collector();
  t.after(() => client.close());
  const impair = await startImpair(t, ['--listen', '0', '--to', `127.0.0.1:${target.port}`, '--duplicate', '100%', '--seed', '7']);
  assert.equal(impair.targetPort, target.port);
  for (let i = 0; i < 5; i++) await sendTo(client.socket, impair.port, numbered(i));
  await waitFor(() => target.received.length === 10, 'ten arrivals');
  impair.child.kill('SIGTERM');
  assert.equal(await impair.exited, 0, impair.stderr());
  assert.match(impair.stderr(), /^client -> target: sent 5, delivered 10, dropped 0, duplicated 5, corrupted 0, reordered 0$/m);
  assert.match(impair.stderr(), /^target -> client: sent 0, delivered 0/m);
});

test('sockit impair --loss 100% lets nothing through and counts the losses; SIGINT exits 0', async (t) => {
  const target = await collector();
  t.after(() => target.close());
  const client = await collector();
  t.after(() => client.close());
  const impair = await startImpair(t, ['--listen', '127.0.0.1:0', '--to', `127.0.0.1:${target.port}`, '--loss', '100%', '--delay', '5ms', '--jitter', '1ms', '--rate', '10mbit']);
  for (let i = 0; i < 8; i++) await sendTo(client.socket, impair.port, numbered(i));
  // The seed was random and printed, so a run can be repeated.
  assert.match(impair.stderr(), /^seed \d+$/m);
  // Regression: the signal handlers were installed after the readiness line, so a SIGINT sent as
  // soon as that line was read killed the relay (exit by signal, no counters) about one time in three.
  impair.child.kill('SIGINT');
  assert.equal(await impair.exited, 0, impair.stderr());
  // Datagrams the kernel had not yet handed over when the signal came are simply not counted, so
  // the check is that whatever the relay saw, it dropped.
  const m = /^client -> target: sent (\d+), delivered 0, dropped (\d+)(?: \(loss (\d+)\))?,/m.exec(impair.stderr());
  assert.ok(m, impair.stderr());
  assert.equal(m[2], m[1]);
  assert.equal(m[3] ?? '0', m[1]);
  assert.equal(target.received.length, 0);
});

test('sockit impair --help prints usage; bad options exit 2 with a clear message', () => {
  const help = spawnSync(process.execPath, [SOCKIT, 'impair', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: sockit impair --listen/);
  const cases: Array<[string[], RegExp]> = [
    [['--to', '127.0.0.1:9'], /needs --listen/],
    [['--listen', '0'], /needs --to/],
    [['--listen', '0', '--to', '127.0.0.1:9', '--loss', '150%'], /--loss takes a percentage/],
    [['--listen', '0', '--to', '127.0.0.1:9', '--rate', 'fast'], /--rate takes a rate/],
    [['--listen', '0', '--to', 'nowhere'], /--to takes HOST:PORT/],
    [['--listen', '0', '--to', '127.0.0.1:9', '--bogus'], /bogus/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [SOCKIT, 'impair', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /\(ERR_SOCKIT_USAGE\)/);
  }
});

test('impair option values: percentages, durations, tc-style rates and sizes', async () => {
  const { parsePercent, parseDurationMs, parseRateBitsPerSec, parseBytes, impairmentsFrom } = await import('../../src/cli/impair.js');
  assert.equal(parsePercent('loss', '5%'), 0.05);
  assert.equal(parsePercent('loss', '5'), 0.05);
  assert.equal(parsePercent('corrupt', '0.1%'), 0.001);
  assert.equal(parseDurationMs('delay', '20ms'), 20);
  assert.equal(parseDurationMs('delay', '1.5s'), 1500);
  assert.equal(parseDurationMs('delay', '7'), 7);
  assert.equal(parseRateBitsPerSec('10mbit'), 10_000_000);
  assert.equal(parseRateBitsPerSec('500kbit'), 500_000);
  assert.equal(parseRateBitsPerSec('2mbps'), 16_000_000);
  assert.equal(parseRateBitsPerSec('1gbit'), 1_000_000_000);
  assert.equal(parseBytes('queue', '64k'), 65_536);
  assert.equal(parseBytes('mtu', '1400'), 1400);
  assert.deepEqual(impairmentsFrom({ loss: '1%', burst: '2%,50%', jitter: '5ms', rate: '10mbit' }), {
    loss: 0.01,
    burst: { pGoodToBad: 0.02, pBadToGood: 0.5 },
    jitterMs: 5,
    rateBitsPerSec: 10_000_000,
  });
  for (const bad of ['-1%', '101%', 'lots', '']) assert.throws(() => parsePercent('loss', bad), /--loss takes a percentage/);
  assert.throws(() => parseDurationMs('delay', '5min'), /--delay takes a duration/);
  assert.throws(() => parseRateBitsPerSec('10 furlongs'), /--rate takes a rate/);
});

test('sockit impair on a port already in use fails with exit 1 and says so', async (t) => {
  const busy = await collector();
  t.after(() => busy.close());
  const r = spawnSync(process.execPath, [SOCKIT, 'impair', '--listen', String(busy.port), '--to', '127.0.0.1:9'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^sockit: impair: listen on udp 127\.0\.0\.1:\d+: address already in use \(ERR_SOCKIT_ADDRESS_IN_USE\)$/m);
});
