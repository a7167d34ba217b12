// The file-transfer commands as a person runs them: `sockit listen --service files` with
// `sockit put`, `get` and `ls` as separate processes; exit codes, quiet output off a TTY, --json,
// and one-line errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomFile, runCli, sha256File, startCliFilesServer, startProcess, tempDir, treeDigest, listTree } from './transfer-support.js';
import { repoRoot } from '../support/repo-root.js';

let work: ReturnType<typeof tempDir>;
let src: string;

before(async () => {
  work = tempDir('cli');
  src = path.join(work.dir, 'src');
  await randomFile(path.join(src, 'album', 'track1.bin'), 2 * 1024 * 1024 + 5);
  await fsp.writeFile(path.join(src, 'album', '歌词.txt'), '歌词\n');
  await fsp.mkdir(path.join(src, 'album', 'empty'));
  await fsp.writeFile(path.join(src, 'note.txt'), 'note');
});

after(async () => {
  await work.cleanup();
});

async function serverDir(name: string): Promise<string> {
  const dir = path.join(work.dir, name);
  await fsp.mkdir(dir);
  return dir;
}

/** The bytes of every file under `dir`. */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fsp.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await fsp.stat(path.join(e.parentPath ?? e.path, e.name))).size;
  }
  return total;
}

test('put, ls and get round-trip a directory and a file between sockit processes', async () => {
  const shared = await serverDir('shared');
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const put = await runCli(['put', path.join(src, 'album'), path.join(src, 'note.txt'), '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout + put.stderr, '', 'quiet when not a TTY');
    assert.deepEqual(await treeDigest(shared), await treeDigest(src));

    const ls = await runCli(['ls', '127.0.0.1', String(server.port), '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual((JSON.parse(ls.stdout) as Array<{ name: string; kind: string }>).map((e) => `${e.name}:${e.kind}`), ['album:dir', 'note.txt:file']);
    const lsText = await runCli(['ls', '127.0.0.1', String(server.port), 'album']);
    assert.match(lsText.stdout, /track1\.bin\n/);
    assert.match(lsText.stdout, /empty\/\n/);

    const out = path.join(work.dir, 'downloaded');
    const get = await runCli(['get', '127.0.0.1', String(server.port), 'album', 'note.txt', '--out', out, '--json']);
    assert.equal(get.code, 0, get.stderr);
    const events = get.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; ok?: boolean; failed?: number; files?: number; bytes?: number });
    // The server announces what it is about to send, so get knows its total (and a TTY its ETA).
    assert.deepEqual(events[0], { event: 'start', files: 5, bytes: (await treeBytes(path.join(src, 'album'))) + (await fsp.stat(path.join(src, 'note.txt'))).size });
    assert.equal(events.at(-1)!.event, 'summary');
    assert.equal(events.at(-1)!.failed, 0);
    assert.equal(events.filter((e) => e.event === 'file-done' && e.ok).length, 5);
    assert.deepEqual(await treeDigest(out), await treeDigest(src));
  } finally {
    await server.stop();
  }
});

test('refusals are one clear line with the code, and exit status 1', async () => {
  const shared = await serverDir('limited');
  const server = await startCliFilesServer(['--dir', shared, '--max-size', '1K']);
  try {
    const put = await runCli(['put', path.join(src, 'album', 'track1.bin'), path.join(src, 'note.txt'), '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 1);
    assert.equal(put.stderr, `sockit: track1.bin: "track1.bin" is ${2 * 1024 * 1024 + 5} bytes, over the 1024-byte limit of this server (--max-size) (ERR_SOCKIT_FILE_TOO_LARGE)\n`);
    assert.deepEqual(await listTree(shared), ['note.txt']);

    const get = await runCli(['get', '127.0.0.1', String(server.port), 'missing.txt', '--out', path.join(work.dir, 'nowhere')]);
    assert.equal(get.code, 1);
    assert.equal(get.stderr, 'sockit: "missing.txt" does not exist (ERR_SOCKIT_NOT_FOUND)\n');

    // --out naming a file, or a path through a file: one line, and the file is left as it was.
    const aFile = path.join(work.dir, 'a-file');
    await fsp.writeFile(aFile, 'mine');
    const intoFile = await runCli(['get', '127.0.0.1', String(server.port), 'note.txt', '--out', aFile]);
    assert.equal(intoFile.code, 1);
    assert.equal(intoFile.stderr, `sockit: ${JSON.stringify(aFile)} is not a directory (ERR_SOCKIT_NOT_FOUND)\n`);
    // Through a file: the reason, not "does not exist".
    const below = path.join(aFile, 'below');
    const throughFile = await runCli(['get', '127.0.0.1', String(server.port), 'note.txt', '--out', below]);
    assert.equal(throughFile.code, 1);
    assert.equal(throughFile.stderr, `sockit: cannot create the --out directory ${JSON.stringify(below)}: not a directory (ENOTDIR) (ERR_SOCKIT_NOT_FOUND)\n`);
    assert.equal(await fsp.readFile(aFile, 'utf8'), 'mine');
  } finally {
    await server.stop();
  }
});

test('get of several names, one missing: the others arrive, the missing one is named, exit status 1', async () => {
  const shared = await serverDir('partly');
  await fsp.writeFile(path.join(shared, 'here.txt'), 'here');
  await fsp.mkdir(path.join(shared, 'docs'));
  await fsp.writeFile(path.join(shared, 'docs', 'a.md'), '# a');
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const out = path.join(work.dir, 'partly-out');
    const get = await runCli(['get', '127.0.0.1', String(server.port), 'here.txt', 'gone.txt', 'docs', '--out', out, '--json']);
    assert.equal(get.code, 1);
    assert.equal(get.stderr, 'sockit: gone.txt: "gone.txt" does not exist (ERR_SOCKIT_NOT_FOUND)\n');
    assert.deepEqual(await listTree(out), ['docs', 'docs/a.md', 'here.txt']);
    const events = get.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(events.find((e) => e['rel'] === 'gone.txt'), { event: 'file-done', rel: 'gone.txt', kind: 'file', ok: false, bytes: 0, resumedFrom: 0, code: 'ERR_SOCKIT_NOT_FOUND', message: '"gone.txt" does not exist' });
    assert.deepEqual(events.at(-1), { event: 'summary', ok: 3, failed: 1, unchanged: 0, bytesSent: 7 });
  } finally {
    await server.stop();
  }
});

test('a --read-only server refuses put but serves get', async () => {
  const shared = await serverDir('readonly');
  await fsp.writeFile(path.join(shared, 'readme.txt'), 'read me');
  const server = await startCliFilesServer(['--dir', shared, '--read-only']);
  try {
    const put = await runCli(['put', path.join(src, 'note.txt'), '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 1);
    assert.match(put.stderr, /^sockit: this server is read-only \(--read-only\): uploads are refused \(ERR_SOCKIT_READ_ONLY\)\n/);
    // With --json, a session that fails ends stdout with an error event, not in silence.
    const putJson = await runCli(['put', path.join(src, 'note.txt'), '127.0.0.1', String(server.port), '--json']);
    assert.equal(putJson.code, 1);
    const last = JSON.parse(putJson.stdout.trim().split('\n').at(-1)!) as { event: string; code?: string; message?: string };
    assert.deepEqual(last, { event: 'error', code: 'ERR_SOCKIT_READ_ONLY', message: 'this server is read-only (--read-only): uploads are refused' });
    const getJson = await runCli(['get', '127.0.0.1', String(server.port), 'nothing.txt', '--out', path.join(work.dir, 'ro-none'), '--json']);
    assert.equal(getJson.code, 1);
    assert.deepEqual(JSON.parse(getJson.stdout), { event: 'error', code: 'ERR_SOCKIT_NOT_FOUND', message: '"nothing.txt" does not exist' });
    const out = path.join(work.dir, 'ro-out');
    const get = await runCli(['get', '127.0.0.1', String(server.port), 'readme.txt', '--out', out]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(await fsp.readFile(path.join(out, 'readme.txt'), 'utf8'), 'read me');
  } finally {
    await server.stop();
  }
});

test('sockit put --protocol classic to sockit listen --protocol classic', async () => {
  const shared = await serverDir('classic');
  const server = await startCliFilesServer(['--dir', shared, '--protocol', 'classic']);
  try {
    const put = await runCli(['put', '--protocol', 'classic', path.join(src, 'album', '歌词.txt'), path.join(src, 'note.txt'), '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, '');
    // --json: one start for the whole run (not one per file's connection), a summary at the end.
    const json = await runCli(['put', '--protocol', 'classic', path.join(src, 'album', '歌词.txt'), path.join(src, 'note.txt'), '127.0.0.1', String(server.port), '--json']);
    assert.equal(json.code, 0, json.stderr);
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; files?: number; bytes?: number; ok?: number });
    const bytes = (await fsp.stat(path.join(src, 'album', '歌词.txt'))).size + (await fsp.stat(path.join(src, 'note.txt'))).size;
    assert.deepEqual(events.filter((e) => e.event === 'start'), [{ event: 'start', files: 2, bytes }]);
    assert.equal(events[0]!.event, 'start');
    assert.equal(events.at(-1)!.event, 'summary');
    assert.equal(events.at(-1)!.ok, 2);
  } finally {
    await server.stop();
  }
  assert.deepEqual(await listTree(shared), ['note (1).txt', 'note.txt', '歌词 (1).txt', '歌词.txt']);
  assert.equal(await fsp.readFile(path.join(shared, '歌词.txt'), 'utf8'), '歌词\n');
});

test('put --protocol classic to a sockit-protocol server fails in one line that names the protocol mix-up, exit 1 (it used to report success)', async () => {
  const shared = await serverDir('not-classic');
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const put = await runCli(['put', '--protocol', 'classic', path.join(src, 'note.txt'), '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 1);
    assert.equal(put.stderr, 'sockit: the server speaks the sockit file protocol, not the classic one, and refused the upload: use --protocol sockit, or start the server with --protocol classic (ERR_SOCKIT_BAD_HEADER)\n');
  } finally {
    await server.stop();
  }
  assert.deepEqual(await listTree(shared), []);
});

// A classic put of several files stopped at the first one missing, after sending those before it:
// half a command done. Like the sockit protocol's put, every path is now checked before anything goes.
test('put --protocol classic with a missing path sends nothing and names it in one line, exit 1', async () => {
  const shared = await serverDir('classic-missing');
  const server = await startCliFilesServer(['--dir', shared, '--protocol', 'classic']);
  try {
    const missing = path.join(src, 'no-such-file.txt');
    const put = await runCli(['put', '--protocol', 'classic', path.join(src, 'note.txt'), missing, '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 1, put.stderr);
    assert.equal(put.stderr, `sockit: ${JSON.stringify(missing)} does not exist (ERR_SOCKIT_NOT_FOUND)\n`);
  } finally {
    await server.stop();
  }
  assert.deepEqual(await listTree(shared), []);
});

test('put --json whose reader goes away after one line (| head -1): the upload carries on and lands, exit 0, no crash', async () => {
  const shared = await serverDir('reader-gone');
  const big = await randomFile(path.join(work.dir, 'reader-gone.bin'), 48 * 1024 * 1024);
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const put = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'sockit.js'), 'put', big, '127.0.0.1', String(server.port), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    put.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    // Like `head -1`: read the first line, then close the pipe. Every later progress line meets EPIPE.
    const firstLine = await new Promise<string>((resolve) => put.stdout.setEncoding('utf8').once('data', (s: string) => resolve(s.split('\n')[0]!)));
    put.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => put.on('close', (c) => resolve(c)));
    assert.equal(JSON.parse(firstLine).event, 'start');
    assert.equal(stderr, '', 'no EPIPE stack trace, no message: a closed stdout is the reader\'s choice');
    assert.equal(code, 0);
    assert.deepEqual(await treeDigest(shared), { 'reader-gone.bin': sha256File(big) });
  } finally {
    await server.stop();
  }
});

test('put of a directory names, on stderr and in --json, every entry it cannot send; the rest arrives and the exit status stays 0', async () => {
  const dir = path.join(work.dir, 'odd', 'things');
  await fsp.mkdir(path.join(dir, 'sub'), { recursive: true });
  await fsp.writeFile(path.join(dir, 'sub', 'kept.txt'), 'kept');
  await fsp.writeFile(path.join(dir, 'draft.part'), 'a user file with a temporary-looking name');
  assert.equal(spawnSync('mkfifo', [path.join(dir, 'pipe')]).status, 0);
  const unixServer = net.createServer().listen(path.join(dir, 'sock'));
  await new Promise((resolve) => unixServer.once('listening', resolve));
  await fsp.symlink('nowhere', path.join(dir, 'dangling'));
  await fsp.symlink('sub', path.join(dir, 'to-dir'));
  await fsp.symlink('sub/kept.txt', path.join(dir, 'to-file'));
  const shared = await serverDir('odd-things');
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const put = await runCli(['put', dir, '127.0.0.1', String(server.port)]);
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual(put.stderr.trim().split('\n').sort(), [
      "sockit: skipped things/dangling: a symlink that cannot be followed (ENOENT)",
      "sockit: skipped things/draft.part: its name ends like sockit's temporary files (.part), which receivers keep for themselves",
      'sockit: skipped things/pipe: a FIFO (named pipe)',
      'sockit: skipped things/sock: a socket',
      'sockit: skipped things/to-dir: a symlink to a directory (not followed)',
    ]);
    assert.deepEqual(Object.keys(await treeDigest(shared)).sort(), ['things', 'things/sub', 'things/sub/kept.txt', 'things/to-file']);

    const json = await runCli(['put', dir, '127.0.0.1', String(server.port), '--to', 'again', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const skipped = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; rel?: string }).filter((e) => e.event === 'skipped');
    assert.deepEqual(skipped.map((e) => e.rel).sort(), ['things/dangling', 'things/draft.part', 'things/pipe', 'things/sock', 'things/to-dir']);
  } finally {
    unixServer.close();
    await server.stop();
  }
});

test('ls prints a server\'s names with control characters escaped: no terminal repaint, no fake entry', async () => {
  const shared = await serverDir('odd-names');
  await fsp.writeFile(path.join(shared, 'nl\nevil.txt'), '');
  await fsp.writeFile(path.join(shared, '\x1b]0;pwned\x07\x1b[31mFAKE'), '');
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const ls = await runCli(['ls', '127.0.0.1', String(server.port)]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout.trim().split('\n').length, 2, ls.stdout);
    assert.ok(!ls.stdout.includes('\x1b'), 'no raw ESC reaches the terminal');
    assert.match(ls.stdout, /nl\\x0aevil\.txt\n/);
    assert.match(ls.stdout, /\\x1b\]0;pwned\\x07\\x1b\[31mFAKE\n/);
  } finally {
    await server.stop();
  }
});

// A peer's names and messages went raw into get's failure lines: a shared file named with an escape
// sequence repainted the terminal, and one with a newline split its line in two (scp's CVE-2019-6109).
test('get prints a refused name, and a peer\'s error message, with control characters escaped: one line each', async () => {
  const shared = await serverDir('odd-get');
  await fsp.mkdir(path.join(shared, 'odd'));
  await fsp.writeFile(path.join(shared, 'odd', 'nl\nevil.txt'), '');
  await fsp.writeFile(path.join(shared, 'odd', '\x1b[31mRED'), '');
  await fsp.writeFile(path.join(shared, 'odd', 'fine.txt'), 'fine');
  const server = await startCliFilesServer(['--dir', shared]);
  try {
    const out = path.join(work.dir, 'odd-out');
    const get = await runCli(['get', '127.0.0.1', String(server.port), 'odd', '--out', out]);
    assert.equal(get.code, 1, get.stderr);
    assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(get.stderr), `no raw control character reaches the terminal: ${JSON.stringify(get.stderr)}`);
    const lines = get.stderr.trim().split('\n');
    assert.equal(lines.length, 2, get.stderr);
    assert.match(get.stderr, /^sockit: odd\/\\x1b\[31mRED: .*\(ERR_SOCKIT_FORBIDDEN_PATH\)$/m);
    assert.match(get.stderr, /^sockit: odd\/nl\\x0aevil\.txt: .*\(ERR_SOCKIT_FORBIDDEN_PATH\)$/m);
    assert.equal(await fsp.readFile(path.join(out, 'odd', 'fine.txt'), 'utf8'), 'fine');

    // A C1 control (CSI, U+009B) survives JSON quoting in the server's "does not exist" message.
    const missing = await runCli(['get', '127.0.0.1', String(server.port), 'gone\u009b31m', '--out', out]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.ok(!missing.stderr.includes('\u009b'), `no raw CSI: ${JSON.stringify(missing.stderr)}`);
    assert.match(missing.stderr, /gone\\x9b31m/);
  } finally {
    await server.stop();
  }
});

test('usage errors exit 2', async () => {
  for (const args of [['put', 'only-a-path'], ['put', 'a', 'host', 'notaport'], ['get', '127.0.0.1'], ['ls'], ['put', '--protocol', 'ftp', 'a', 'h', '1']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^sockit: .*\(ERR_SOCKIT_USAGE\)\n/);
  }
});

test('the disk failing mid-file (a file-size limit: EFBIG) fails that file in one line; the session and the server go on', async () => {
  const shared = await serverDir('fsize');
  const big = path.join(work.dir, 'too-big.bin');
  await randomFile(big, 40 * 1024 * 1024);
  // RLIMIT_FSIZE of 16 MiB on the server process: its writes past that fail with EFBIG.
  const cmd = `ulimit -f 16384 && exec '${process.execPath}' '${path.join(repoRoot(), 'bin', 'sockit.js')}' listen 0 --host 127.0.0.1 --service files --dir '${shared}'`;
  const server = await startProcess('bash', ['-c', cmd], /listening on tcp 127\.0\.0\.1:(\d+)/);
  try {
    const port = String(server.match[1]);
    const put = await runCli(['put', big, path.join(src, 'note.txt'), '127.0.0.1', port]);
    assert.equal(put.code, 1);
    assert.match(put.stderr, /^sockit: too-big\.bin: .*EFBIG.* \(ERR_SOCKIT_FILE_TOO_LARGE\)\n$/);
    // The file after it in the same session arrived; the failed one never looks complete.
    const tree = await listTree(shared);
    assert.ok(tree.includes('note.txt'), tree.join(' '));
    assert.ok(!tree.includes('too-big.bin'), tree.join(' '));
    const again = await runCli(['put', path.join(src, 'album', '歌词.txt'), '127.0.0.1', port]);
    assert.equal(again.code, 0, again.stderr);
  } finally {
    await server.stop();
  }
});
