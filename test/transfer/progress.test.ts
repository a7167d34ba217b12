// What put/get print: a progress line (bytes, rate, ETA) only on a TTY, JSON events with --json,
// nothing but failures otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createReporter, formatBytes } from '../../src/cli/progress.js';
import { FileTransferError } from '../../src/errors.js';
import type { CliIo } from '../../src/cli/command.js';
import type { TransferEvent } from '../../src/transfer/transfer-events.js';

function fakeIo(tty: boolean, columns = 200): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: tty, columns });
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  return { io: { stdin: new PassThrough(), stdout, stderr, env: {} }, out: () => out, err: () => err };
}

const EVENTS: TransferEvent[] = [
  { type: 'start', files: 2, bytes: 3 * 1024 * 1024 },
  { type: 'file-start', rel: 'a.bin', size: 3 * 1024 * 1024, offset: 0 },
  { type: 'progress', rel: 'a.bin', fileBytes: 1024 * 1024, size: 3 * 1024 * 1024, totalBytes: 1024 * 1024 },
  { type: 'file-done', result: { rel: 'a.bin', kind: 'file', ok: true, savedAs: 'a.bin', bytes: 3 * 1024 * 1024, resumedFrom: 0 } },
  { type: 'file-done', result: { rel: 'b.bin', kind: 'file', ok: false, bytes: 5, resumedFrom: 0, error: new FileTransferError('ERR_SOCKIT_FILE_EXISTS', 'taken') } },
];

test('sizes read like people write them', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(3 * 1024 * 1024), '3.00 MiB');
  assert.equal(formatBytes(200 * 1024 ** 3), '200.0 GiB');
});

test('on a TTY: a progress line with the file, bytes, total, rate and ETA, failures on their own line', () => {
  const { io, out, err } = fakeIo(true);
  // A clock that advances one second per reading: every event is drawn, rates are exact.
  let clockMs = 0;
  const r = createReporter(io, { json: false, nowMs: () => (clockMs += 1000) });
  for (const e of EVENTS) r.onEvent(e);
  r.finish({ results: [], ok: 1, failed: 1, unchanged: 0, bytesSent: 3 * 1024 * 1024 }, 'uploaded');
  assert.equal(out(), '');
  assert.match(err(), /\[0\/2\] a\.bin 0%  0 B of 3\.00 MiB/);
  // The progress event is read at 3 s: 1 MiB in 3 s is 341.3 KiB/s, so the 2 MiB left take 6 s.
  assert.match(err(), /\[0\/2\] a\.bin 33%  1\.00 MiB of 3\.00 MiB  341\.3 KiB\/s ETA 00:06/);
  assert.match(err(), /sockit: b\.bin: taken \(ERR_SOCKIT_FILE_EXISTS\)\n/);
  assert.match(err(), /uploaded 1 item\(s\), 3\.00 MiB in 6\.0 s \(512\.0 KiB\/s\), 1 failed\n$/);
});

test('a terminal that reports a width of 0 gets whole lines, not lines cut by one character', () => {
  const { io, err } = fakeIo(true, 0);
  let clockMs = 0;
  const r = createReporter(io, { json: false, nowMs: () => (clockMs += 1000) });
  for (const e of EVENTS.slice(0, 3)) r.onEvent(e);
  assert.match(err(), /341\.3 KiB\/s ETA 00:06/);
});

test('off a TTY: only failures', () => {
  const { io, out, err } = fakeIo(false);
  const r = createReporter(io, { json: false });
  for (const e of EVENTS) r.onEvent(e);
  r.finish({ results: [], ok: 1, failed: 1, unchanged: 0, bytesSent: 3 }, 'uploaded');
  assert.equal(out(), '');
  assert.equal(err(), 'sockit: b.bin: taken (ERR_SOCKIT_FILE_EXISTS)\n');
});

test('--json: one object per event and a summary', () => {
  const { io, out } = fakeIo(true);
  const r = createReporter(io, { json: true });
  for (const e of EVENTS) r.onEvent(e);
  r.finish({ results: [], ok: 1, failed: 1, unchanged: 0, bytesSent: 3 }, 'uploaded');
  const lines = out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l['event']), ['start', 'file-start', 'progress', 'file-done', 'file-done', 'summary']);
  assert.equal(lines[4]!['code'], 'ERR_SOCKIT_FILE_EXISTS');
  assert.deepEqual(lines[5], { event: 'summary', ok: 1, failed: 1, unchanged: 0, bytesSent: 3 });
});

test('an entry put leaves out is one line on stderr in every mode, and a skipped event with --json', () => {
  const skipped: TransferEvent = { type: 'skipped', rel: 'album/pipe', reason: 'a FIFO (named pipe)' };
  for (const mode of ['tty', 'quiet', 'json'] as const) {
    const { io, out, err } = fakeIo(mode === 'tty');
    const r = createReporter(io, { json: mode === 'json', nowMs: () => 0 });
    r.onEvent(skipped);
    r.onEvent(EVENTS[0]!);
    assert.match(err(), /^sockit: skipped album\/pipe: a FIFO \(named pipe\)\n/, mode);
    if (mode === 'json') assert.deepEqual(JSON.parse(out().split('\n')[0]!), { event: 'skipped', rel: 'album/pipe', reason: 'a FIFO (named pipe)' });
    else assert.equal(out(), '', mode);
  }
});
