/**
 * Demo chapter: file transfer, twice. First the seeds' classic protocol (seed 001's "custom
 * protocol 2": header length, JSON header, bytes) with the exact bytes on the wire shown; then
 * the sockit protocol moving a small folder, every file SHA-256 checked and acknowledged, and a
 * second upload of the same name landing beside the first instead of over it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFilesServer } from '../../transfer/files-server.js';
import { sendClassic } from '../../transfer/classic.js';
import { putFiles } from '../../transfer/files-client.js';
import { encodeClassicHeader } from '../../transfer/protocol/classic-header.js';
import { check, hex, type DemoChapter, type DemoContext } from './chapter.js';

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function run(ctx: DemoContext): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'sockit-demo-files-'));
  try {
    const src = path.join(work, 'outbox');
    const classicDir = path.join(work, 'classic-inbox');
    const sockitDir = path.join(work, 'sockit-inbox');
    await Promise.all([mkdir(path.join(src, 'photos', 'empty-album'), { recursive: true }), mkdir(classicDir), mkdir(sockitDir)]);
    const letter = path.join(src, '中文文件名.txt');
    await writeFile(letter, '你好！这是一个通过 sockit 传输的文件。\n');
    await writeFile(path.join(src, 'photos', 'cat.jpg'), Buffer.alloc(64 * 1024, 0xca));

    ctx.say('Seed 001 sends a file with "protocol 2": the length of a header dict, the dict, then the bytes.');
    const header = encodeClassicHeader({ filename: path.basename(letter), filesize: (await readFile(letter)).length });
    ctx.show('wire →', `${hex(header.subarray(0, 4))}   (int32 little-endian: ${header.readInt32LE(0)} header bytes)`);
    ctx.show('wire →', header.subarray(4).toString('utf8'));
    const classic = await startFilesServer({ dir: classicDir, protocol: 'classic' });
    try {
      await sendClassic({ host: '127.0.0.1', port: classic.address.port, file: letter });
    } finally {
      await classic.close();
    }
    const got = await readFile(path.join(classicDir, path.basename(letter)));
    check(sha256(got) === sha256(await readFile(letter)), 'the classic upload arrived different');
    ctx.show('server →', `saved ${path.basename(letter)} (${got.length} bytes): the byte count matched — all this protocol can check`);

    ctx.say('');
    ctx.say('The sockit protocol: one connection, many files and folders (empty ones too), each file');
    ctx.say('SHA-256 checked and acknowledged, names that never overwrite, resumable .part files.');
    const server = await startFilesServer({ dir: sockitDir });
    try {
      const first = await putFiles({ host: '127.0.0.1', port: server.address.port, paths: [letter, path.join(src, 'photos')] });
      for (const r of first.results) ctx.show('server →', `${r.ok ? 'stored' : 'refused'} ${r.savedAs ?? r.rel}${r.kind === 'dir' ? '/' : ` (${r.bytes} bytes, SHA-256 verified)`}`);
      const second = await putFiles({ host: '127.0.0.1', port: server.address.port, paths: [letter] });
      ctx.show('server →', `the same name again is kept beside it: ${second.results[0]?.savedAs}`);
      check(first.failed + second.failed === 0, 'a sockit upload failed');
    } finally {
      await server.close();
    }
    ctx.say('Try it: sockit listen 9000 --service files --dir inbox   and   sockit put FILES... 127.0.0.1 9000');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The file-transfer chapter of `sockit demo`. */
export const filesChapter: DemoChapter = {
  title: 'File transfer: the seeds\' protocol, then a robust one',
  run,
};
