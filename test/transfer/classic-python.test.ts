// The seeds' classic protocol against the seed-style Python programs in test/transfer/python:
// Python uploads to `sockit`'s classic receiver, `sockit put --protocol classic` uploads to the
// Python receiver, and a sender that vanishes early leaves nothing complete-looking behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startFilesServer, type FilesServer, type FilesServerOptions } from '../../src/transfer/files-server.js';
import { listTree, randomFile, repoRoot, runCli, runProcess, sha256File, startProcess, tempDir } from './transfer-support.js';

const PYTHON = 'python3';
const SENDER = (): string => path.join(repoRoot(), 'test', 'transfer', 'python', 'classic_sender.py');
const RECEIVER = (): string => path.join(repoRoot(), 'test', 'transfer', 'python', 'classic_receiver.py');

let work: ReturnType<typeof tempDir>;
let files: string[];

before(async () => {
  work = tempDir('classic');
  const src = path.join(work.dir, 'src');
  await fsp.mkdir(src);
  await fsp.writeFile(path.join(src, 'small.txt'), 'hello from the seeds\n');
  await fsp.writeFile(path.join(src, 'empty.bin'), '');
  await fsp.writeFile(path.join(src, '中文文件名.txt'), '文件传输\n');
  await randomFile(path.join(src, 'fifty.bin'), 50 * 1000 * 1000);
  files = ['small.txt', 'empty.bin', '中文文件名.txt', 'fifty.bin'].map((n) => path.join(src, n));
});

after(async () => {
  await work.cleanup();
});

/** A classic files server whose log lines can be awaited. */
async function classicServer(dir: string, extra: Partial<FilesServerOptions> = {}): Promise<{ server: FilesServer; logged: (re: RegExp) => Promise<string> }> {
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const server = await startFilesServer({
    dir,
    protocol: 'classic',
    ...extra,
    log: (line) => {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    },
  });
  const logged = (re: RegExp): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ re, resolve }));
  };
  return { server, logged };
}

test('a seed-style Python sender uploads small, empty, 50 MB and Chinese-named files to sockit', async () => {
  const dir = path.join(work.dir, 'from-python');
  await fsp.mkdir(dir);
  const { server, logged } = await classicServer(dir);
  try {
    for (const file of files) {
      const name = path.basename(file);
      const run = await runProcess(PYTHON, [SENDER(), '127.0.0.1', String(server.address.port), file]);
      assert.equal(run.code, 0, run.stderr);
      await logged(new RegExp(`received ${name.replace('.', '\\.')} `));
      assert.equal(sha256File(path.join(dir, name)), sha256File(file), name);
    }
    assert.deepEqual(await listTree(dir), files.map((f) => path.basename(f)).sort());
  } finally {
    await server.close();
  }
});

test('sockit put --protocol classic uploads to the seed-style Python receiver', async () => {
  for (const file of files) {
    const out = await fsp.mkdtemp(path.join(work.dir, 'to-python-'));
    const receiver = await startProcess(PYTHON, [RECEIVER(), out], /port (\d+)/);
    try {
      const put = await runCli(['put', '--protocol', 'classic', file, '127.0.0.1', receiver.match[1]!]);
      assert.equal(put.code, 0, put.stderr);
      assert.equal(put.stdout, '');
      await receiver.stop();
      assert.match(receiver.output(), /received .* \d+/);
      assert.equal(sha256File(path.join(out, path.basename(file))), sha256File(file), path.basename(file));
    } finally {
      await receiver.stop();
    }
  }
});

test('a classic sender that vanishes early is reported and leaves no complete-looking file', async () => {
  const dir = path.join(work.dir, 'short');
  await fsp.mkdir(dir);
  const { server, logged } = await classicServer(dir);
  try {
    const run = await runProcess(PYTHON, [SENDER(), '127.0.0.1', String(server.address.port), files[3]!, String(3 * 1000 * 1000)]);
    assert.equal(run.code, 0, run.stderr);
    const line = await logged(/classic upload failed/);
    assert.match(line, /closed after 3000000 of the 50000000 bytes.*ERR_SOCKIT_SHORT_TRANSFER/);
    assert.deepEqual(await listTree(dir), []);
  } finally {
    await server.close();
  }
});

test('classic uploads over --max-size or to a --read-only server are refused before data is stored', async () => {
  const dir = path.join(work.dir, 'limits');
  await fsp.mkdir(dir);
  const limited = await classicServer(dir, { maxFileBytes: 1000 });
  try {
    await runProcess(PYTHON, [SENDER(), '127.0.0.1', String(limited.server.address.port), files[3]!]);
    assert.match(await limited.logged(/classic upload failed/), /over the 1000-byte limit.*ERR_SOCKIT_FILE_TOO_LARGE/);
  } finally {
    await limited.server.close();
  }
  const readOnly = await classicServer(dir, { readOnly: true });
  try {
    await runProcess(PYTHON, [SENDER(), '127.0.0.1', String(readOnly.server.address.port), files[0]!]);
    assert.match(await readOnly.logged(/classic upload failed/), /ERR_SOCKIT_READ_ONLY/);
  } finally {
    await readOnly.server.close();
  }
  assert.deepEqual(await listTree(dir), []);
});
