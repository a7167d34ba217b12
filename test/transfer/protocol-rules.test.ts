// The pure parts of file transfer: which paths are refused, numbered names, the classic header
// and the sockit messages (encode, decode, and what a hostile peer may not make us accept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSafeRelativePath, safeDirSegments, safeSegments } from '../../src/transfer/protocol/safe-path.js';
import { numberedName } from '../../src/transfer/protocol/unique-name.js';
import { decodeClassicHeader, decodeClassicLength, encodeClassicHeader } from '../../src/transfer/protocol/classic-header.js';
import { decodeMessage, encodeMessage, MAX_CONTROL_BYTES, MAX_FRAME_BYTES, MessageType, type ControlMessage } from '../../src/transfer/protocol/messages.js';
import { FrameSplitter } from '../../src/transfer/protocol/frame-splitter.js';
import { FileTransferError, isSockitError } from '../../src/errors.js';
import { FORBIDDEN_PATHS, wireFrame } from './transfer-support.js';

test('every forbidden path form is refused with ERR_SOCKIT_FORBIDDEN_PATH and a reason', () => {
  for (const p of FORBIDDEN_PATHS) {
    assert.throws(
      () => safeSegments(p),
      (err: unknown) => err instanceof FileTransferError && err.code === 'ERR_SOCKIT_FORBIDDEN_PATH' && err.message.startsWith('refused path'),
      `expected ${JSON.stringify(p)} to be refused`,
    );
  }
});

test('ordinary relative paths, Unicode included, are split into segments', () => {
  assert.deepEqual(safeSegments('中文文件名.txt'), ['中文文件名.txt']);
  assert.deepEqual(safeSegments('photos/2024/a b (1).jpg'), ['photos', '2024', 'a b (1).jpg']);
  assert.deepEqual(safeSegments('.bashrc'), ['.bashrc']);
  assert.deepEqual(safeSegments('console.log'), ['console.log']);
  assert.equal(isSafeRelativePath('..hidden'), true);
  assert.deepEqual(safeDirSegments(''), []);
  assert.deepEqual(safeDirSegments('.'), []);
  assert.deepEqual(safeDirSegments('in/box/'), ['in', 'box']);
  assert.throws(() => safeDirSegments('../up'), /refused path/);
});

test('numbered names keep the extension and handle dotfiles', () => {
  assert.equal(numberedName('report.pdf', 0), 'report.pdf');
  assert.equal(numberedName('report.pdf', 1), 'report (1).pdf');
  assert.equal(numberedName('archive.tar.gz', 2), 'archive.tar (2).gz');
  assert.equal(numberedName('README', 3), 'README (3)');
  assert.equal(numberedName('.bashrc', 1), '.bashrc (1)');
});

test('the classic header is int32 little-endian length + UTF-8 JSON, as struct.pack("i") writes it', () => {
  const bytes = encodeClassicHeader({ filename: '中文文件名.txt', filesize: 258 });
  const json = Buffer.from(JSON.stringify({ filename: '中文文件名.txt', filesize: 258 }), 'utf8');
  assert.equal(bytes.readInt32LE(0), json.length);
  assert.deepEqual(bytes.subarray(4), json);
  assert.equal(decodeClassicLength(bytes.subarray(0, 4)), json.length);
  assert.deepEqual(decodeClassicHeader(bytes.subarray(4)), { filename: '中文文件名.txt', filesize: 258 });
  // Python's json.dumps escapes non-ASCII by default: the same header, spelled differently.
  assert.deepEqual(decodeClassicHeader(Buffer.from('{"filename": "\\u4e2d.txt", "filesize": 0}')), { filename: '中.txt', filesize: 0 });
});

test('classic header limits: negative, zero and oversized lengths and bad JSON are refused', () => {
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n, 0);
    return b;
  };
  assert.throws(() => decodeClassicLength(len(-1)), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_BAD_HEADER'));
  assert.throws(() => decodeClassicLength(len(0)), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_BAD_HEADER'));
  assert.throws(() => decodeClassicLength(len(1 << 30)), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_BAD_HEADER') && (e as Error).name === 'LimitExceededError');
  assert.throws(() => decodeClassicHeader(Buffer.from('not json')), /not UTF-8 JSON/);
  assert.throws(() => decodeClassicHeader(Buffer.from('{"filename": "a", "filesize": -5}')), /filesize/);
  assert.throws(() => decodeClassicHeader(Buffer.from('{"filesize": 5}')), /filename/);
  assert.throws(() => decodeClassicHeader(Buffer.from([0x7b, 0xff, 0x7d])), /not UTF-8 JSON/);
});

test('sockit messages round-trip through encode and decode', () => {
  const messages: ControlMessage[] = [
    { type: 'hello', version: 1, features: ['sha256', 'resume'], agent: 'sockit' },
    { type: 'put', dir: 'in' },
    { type: 'get', names: ['a', 'b/c'] },
    { type: 'ls', dir: '' },
    { type: 'list', entries: [{ name: 'x', kind: 'file', size: 3, mtimeMs: 5 }], more: false },
    { type: 'offer', id: 7, path: '中文文件名.txt', kind: 'file', size: 1 << 40 },
    { type: 'accept', id: 7, offset: 0, prefixSha256: '' },
    { type: 'reject', id: 7, code: 'ERR_SOCKIT_NO_SPACE', message: 'full' },
    { type: 'begin', id: 7, offset: 1024 },
    { type: 'end', id: 7, sha256: 'ab'.repeat(32) },
    { type: 'done', id: 7, savedAs: 'x (1).txt', bytes: 9 },
    { type: 'done', id: 8, savedAs: 'x.txt', bytes: 9, unchanged: true },
    { type: 'fail', id: 7, code: 'ERR_SOCKIT_BAD_HASH', message: 'mismatch' },
    { type: 'total', files: 10_000, bytes: 2 ** 40 },
    { type: 'bye', files: 1, bytes: 9 },
    { type: 'error', code: 'ERR_SOCKIT_READ_ONLY', message: 'no' },
  ];
  for (const m of messages) assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  const data = Buffer.from([MessageType.DATA, 1, 2, 3]);
  const decoded = decodeMessage(data);
  assert.equal(decoded.type, 'data');
  assert.deepEqual(decoded.type === 'data' && [...decoded.bytes], [1, 2, 3]);
});

test('malformed sockit messages are ProtocolErrors with ERR_SOCKIT_BAD_HEADER', () => {
  const bad = (payload: Buffer): void =>
    assert.throws(() => decodeMessage(payload), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_BAD_HEADER'), payload.toString('hex').slice(0, 40));
  bad(Buffer.alloc(0));
  bad(Buffer.from([0x7e, 0x7b, 0x7d]));
  bad(Buffer.concat([Buffer.from([MessageType.OFFER]), Buffer.from('{"id": -1, "path": "a", "kind": "file", "size": 1}')]));
  bad(Buffer.concat([Buffer.from([MessageType.OFFER]), Buffer.from('{"id": 1, "path": "a", "kind": "link", "size": 1}')]));
  bad(Buffer.concat([Buffer.from([MessageType.OFFER]), Buffer.from('{"id": 1, "path": "a", "kind": "file", "size": 1.5}')]));
  bad(Buffer.concat([Buffer.from([MessageType.END]), Buffer.from('{"id": 1, "sha256": "XYZ"}')]));
  bad(Buffer.concat([Buffer.from([MessageType.TOTAL]), Buffer.from('{"files": 1}')]));
  bad(Buffer.concat([Buffer.from([MessageType.HELLO]), Buffer.from('[1,2]')]));
  bad(Buffer.concat([Buffer.from([MessageType.HELLO]), Buffer.from('{')]));
  bad(Buffer.concat([Buffer.from([MessageType.LS]), Buffer.alloc(MAX_CONTROL_BYTES + 1, 0x20)]));
});

/** Feeds `stream` to a fresh splitter in chunks of `chunkBytes`; returns what came out, in order. */
function split(stream: Buffer, chunkBytes: number): Array<{ control: Buffer } | { data: Buffer }> {
  const out: Array<{ control: Buffer } | { data: Buffer }> = [];
  const splitter = new FrameSplitter(MAX_FRAME_BYTES);
  for (let at = 0; at < stream.length; at += chunkBytes) {
    splitter.push(stream.subarray(at, at + chunkBytes), {
      control: (payload) => out.push({ control: Buffer.from(payload) }),
      data: (bytes) => out.push({ data: Buffer.from(bytes) }),
    });
  }
  splitter.end();
  return out;
}

test('the frame splitter hands DATA on in slices and control frames whole, whatever the chunking', () => {
  const hello = encodeMessage({ type: 'hello', version: 1, features: Array.from({ length: 40 }, (_, i) => `feature-${i}`), agent: 'test' });
  const fileBytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff));
  const dataPayload = Buffer.concat([Buffer.from([MessageType.DATA]), fileBytes]);
  const end = encodeMessage({ type: 'end', id: 0, sha256: 'a'.repeat(64) });
  const stream = Buffer.concat([wireFrame(hello), wireFrame(dataPayload), wireFrame(Buffer.from([MessageType.DATA])), wireFrame(end)]);
  for (const chunkBytes of [1, 3, 4, 5, 64, 4099, stream.length]) {
    const out = split(stream, chunkBytes);
    const controls = out.flatMap((o) => ('control' in o ? [o.control] : []));
    const data = Buffer.concat(out.flatMap((o) => ('data' in o ? [o.data] : [])));
    assert.deepEqual(controls.map((c) => decodeMessage(c)), [decodeMessage(hello), decodeMessage(end)], `chunks of ${chunkBytes}`);
    assert.deepEqual(data, fileBytes, `chunks of ${chunkBytes}`);
    // Data slices arrive between the control frames around them, never after the next one.
    const firstData = out.findIndex((o) => 'data' in o);
    const lastData = out.findLastIndex((o) => 'data' in o);
    assert.ok(firstData > 0 && lastData < out.length - 1, `chunks of ${chunkBytes}`);
    assert.ok(out.every((o) => !('data' in o) || o.data.length > 0), 'no empty data slices');
  }
});

test('headLeft counts the bytes until the next frame\'s type is known, so reads between frames never reach into a DATA body', () => {
  const dataPayload = Buffer.concat([Buffer.from([MessageType.DATA]), Buffer.alloc(3, 9)]);
  const end = encodeMessage({ type: 'end', id: 0, sha256: 'a'.repeat(64) });
  const stream = Buffer.concat([wireFrame(dataPayload), wireFrame(end), wireFrame(dataPayload)]);
  const splitter = new FrameSplitter(MAX_FRAME_BYTES);
  const seen: number[] = [];
  for (let at = 0; at < stream.length; at++) {
    seen.push(splitter.headLeft);
    splitter.push(stream.subarray(at, at + 1), { control: () => undefined, data: () => undefined });
  }
  seen.push(splitter.headLeft);
  const controlBody = end.length - 1;
  assert.deepEqual(seen, [
    ...[5, 4, 3, 2, 1, 0, 0, 0], // DATA: header and type byte, then 3 body bytes with the type known
    ...[5, 4, 3, 2, 1, ...Array<number>(controlBody).fill(0)], // END: the same, then its JSON
    ...[5, 4, 3, 2, 1, 0, 0, 0, 5],
  ]);
});

test('the frame splitter refuses oversized, empty, oversized-control and truncated frames', () => {
  const push = (bytes: Buffer): void => new FrameSplitter(MAX_FRAME_BYTES).push(bytes, { control: () => undefined, data: () => undefined });
  const tooBig = Buffer.alloc(5);
  tooBig.writeUInt32BE(MAX_FRAME_BYTES + 1);
  assert.throws(() => push(tooBig), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_FRAME_TOO_LARGE'));
  assert.throws(() => push(Buffer.alloc(4)), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_BAD_HEADER'));
  // A control message over the limit is refused at its type byte, before its body is buffered.
  const bigControl = Buffer.alloc(5);
  bigControl.writeUInt32BE(MAX_CONTROL_BYTES + 2);
  bigControl[4] = MessageType.LS;
  assert.throws(() => push(bigControl), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_BAD_HEADER'));
  const truncated = new FrameSplitter(MAX_FRAME_BYTES);
  truncated.push(wireFrame(Buffer.from([MessageType.DATA, 1, 2, 3])).subarray(0, 6), { control: () => undefined, data: () => undefined });
  assert.throws(() => truncated.end(), (e: unknown) => isSockitError(e, 'ERR_SOCKIT_TRUNCATED_FRAME'));
});
