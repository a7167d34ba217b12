/**
 * The sockit file protocol's messages (docs/files.md is the specification; read it first).
 *
 * Every message is one len32 frame (uint32 big-endian length, see src/framing) whose payload starts
 * with a one-byte type. `DATA` carries raw file bytes after the type byte; every other message
 * carries a UTF-8 JSON object. This module encodes and validates messages; it does no I/O.
 *
 * Specs and prior art to read first: docs/files.md; magic-wormhole's transit protocol and croc's
 * message types (both: a versioned hello, offers answered by the receiver, per-file integrity);
 * CVE-2023-43621 (croc: a sender could write outside the destination) — why every path in an
 * OFFER goes through safe-path.ts before it reaches the disk.
 */
import { FileCodes, FileTransferError, LimitExceededError, ProtocolError } from '../../errors.js';

/** Protocol version spoken by this implementation (HELLO.version). */
export const PROTOCOL_VERSION = 1;

/** Features this implementation announces in HELLO (the peer may ignore unknown ones). */
export const PROTOCOL_FEATURES = ['sha256', 'resume', 'dirs', 'pipeline', 'totals'] as const;

/** Largest file block carried by one DATA message (docs/files.md §3). */
export const DATA_BLOCK_BYTES = 1024 * 1024;

/** Largest frame payload either side accepts: one type byte plus a full DATA block. */
export const MAX_FRAME_BYTES = DATA_BLOCK_BYTES + 1;

/** Largest JSON body of a control message (docs/files.md §3): caps what a peer makes us parse. */
export const MAX_CONTROL_BYTES = 256 * 1024;

/** Most names one GET asks for (and so most names a BYE reports missing). */
export const MAX_GET_NAMES = 10_000;

/** Most entries one LIST message carries; longer listings span several LIST messages. */
export const LIST_BATCH_ENTRIES = 500;

/** Message type bytes (docs/files.md §4). */
export const MessageType = {
  DATA: 0x01,
  HELLO: 0x10,
  PUT: 0x11,
  GET: 0x12,
  LS: 0x13,
  LIST: 0x14,
  OFFER: 0x20,
  ACCEPT: 0x21,
  REJECT: 0x22,
  BEGIN: 0x23,
  END: 0x24,
  DONE: 0x25,
  FAIL: 0x26,
  TOTAL: 0x27,
  BYE: 0x30,
  ERROR: 0x3f,
} as const;

/** Codes that travel in REJECT / FAIL / ERROR messages (the FileCodes of src/errors.ts). */
export type WireErrorCode = (typeof FileCodes)[keyof typeof FileCodes];

/** One entry of a directory listing. */
export interface ListEntry {
  name: string;
  kind: 'file' | 'dir';
  size: number;
  mtimeMs: number;
}

/** A requested name the sender could not send (GET of a name that is not shared), listed in its BYE. */
export interface MissingItem {
  name: string;
  code: WireErrorCode;
  message: string;
}

/** Every control message, discriminated by `type`. */
export type ControlMessage =
  | { type: 'hello'; version: number; features: string[]; agent: string }
  | { type: 'put'; dir: string }
  | { type: 'get'; names: string[] }
  | { type: 'ls'; dir: string }
  | { type: 'list'; entries: ListEntry[]; more: boolean }
  | { type: 'offer'; id: number; path: string; kind: 'file' | 'dir'; size: number }
  | { type: 'accept'; id: number; offset: number; prefixSha256: string }
  | { type: 'reject'; id: number; code: WireErrorCode; message: string }
  | { type: 'begin'; id: number; offset: number }
  | { type: 'end'; id: number; sha256: string }
  | { type: 'done'; id: number; savedAs: string; bytes: number; unchanged?: true }
  | { type: 'fail'; id: number; code: WireErrorCode; message: string }
  | { type: 'total'; files: number; bytes: number }
  | { type: 'bye'; files: number; bytes: number; missing?: MissingItem[] }
  | { type: 'error'; code: WireErrorCode; message: string };

/** A decoded message: a control message, or a block of file bytes. */
export type Message = ControlMessage | { type: 'data'; bytes: Buffer };

const TYPE_BYTE: Record<ControlMessage['type'], number> = {
  hello: MessageType.HELLO,
  put: MessageType.PUT,
  get: MessageType.GET,
  ls: MessageType.LS,
  list: MessageType.LIST,
  offer: MessageType.OFFER,
  accept: MessageType.ACCEPT,
  reject: MessageType.REJECT,
  begin: MessageType.BEGIN,
  end: MessageType.END,
  done: MessageType.DONE,
  fail: MessageType.FAIL,
  total: MessageType.TOTAL,
  bye: MessageType.BYE,
  error: MessageType.ERROR,
};

const TYPE_NAME = new Map<number, ControlMessage['type']>(
  Object.entries(TYPE_BYTE).map(([name, byte]) => [byte, name as ControlMessage['type']]),
);

const WIRE_CODES = new Set<string>(Object.values(FileCodes));

/** Encodes a control message as a frame payload (type byte + JSON). */
export function encodeMessage(msg: ControlMessage): Buffer {
  const { type, ...body } = msg;
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  if (json.length > MAX_CONTROL_BYTES) {
    throw new LimitExceededError(FileCodes.BAD_HEADER, `${type} message of ${json.length} bytes exceeds the ${MAX_CONTROL_BYTES}-byte limit`, MAX_CONTROL_BYTES, json.length);
  }
  const out = Buffer.allocUnsafe(1 + json.length);
  out[0] = TYPE_BYTE[type];
  json.copy(out, 1);
  return out;
}

function bad(what: string): ProtocolError {
  return new ProtocolError(FileCodes.BAD_HEADER, `malformed file-protocol message: ${what}`);
}

type Json = Record<string, unknown>;

function str(o: Json, key: string, maxChars = 4096): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > maxChars) throw bad(`'${key}' must be a string of at most ${maxChars} characters`);
  return v;
}

function uint(o: Json, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`'${key}' must be a non-negative integer`);
  return v;
}

function hex64(o: Json, key: string, allowEmpty: boolean): string {
  const v = str(o, key, 64);
  if (!(allowEmpty && v === '') && !/^[0-9a-f]{64}$/.test(v)) throw bad(`'${key}' must be a SHA-256 in lowercase hex`);
  return v;
}

function code(o: Json): WireErrorCode {
  const v = str(o, 'code', 64);
  // An unknown code from a newer peer still reads as a clear failure, never as success.
  return (WIRE_CODES.has(v) ? v : FileCodes.BAD_HEADER) as WireErrorCode;
}

function kind(o: Json): 'file' | 'dir' {
  const v = o['kind'];
  if (v !== 'file' && v !== 'dir') throw bad(`'kind' must be "file" or "dir"`);
  return v;
}

function strings(o: Json, key: string, maxItems: number): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > maxItems || !v.every((s) => typeof s === 'string' && s.length <= 4096)) {
    throw bad(`'${key}' must be a list of at most ${maxItems} strings`);
  }
  return v as string[];
}

/** A list of at most `maxItems` objects under `key`, each read by `read` (`what` names one in errors). */
function objects<T>(o: Json, key: string, maxItems: number, what: string, read: (j: Json) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > maxItems) throw bad(`'${key}' must be a list of at most ${maxItems}`);
  return v.map((e: unknown) => {
    if (typeof e !== 'object' || e === null) throw bad(`${what} must be an object`);
    return read(e as Json);
  });
}

function missing(o: Json): MissingItem[] {
  return objects(o, 'missing', MAX_GET_NAMES, 'a missing item', (j) => ({ name: str(j, 'name'), code: code(j), message: str(j, 'message', 1000) }));
}

function entries(o: Json): ListEntry[] {
  return objects(o, 'entries', LIST_BATCH_ENTRIES, 'a list entry', (j) => ({ name: str(j, 'name'), kind: kind(j), size: uint(j, 'size'), mtimeMs: uint(j, 'mtimeMs') }));
}

/**
 * Decodes and validates one frame payload. DATA payloads are returned without copying.
 * Throws ProtocolError `ERR_SOCKIT_BAD_HEADER` for an unknown type, bad JSON or a missing field.
 */
export function decodeMessage(frame: Buffer): Message {
  if (frame.length === 0) throw bad('empty frame');
  const typeByte = frame[0]!;
  if (typeByte === MessageType.DATA) return { type: 'data', bytes: frame.subarray(1) };
  const type = TYPE_NAME.get(typeByte);
  if (type === undefined) throw bad(`unknown message type 0x${typeByte.toString(16)}`);
  if (frame.length - 1 > MAX_CONTROL_BYTES) {
    throw new LimitExceededError(FileCodes.BAD_HEADER, `${type} message of ${frame.length - 1} bytes exceeds the ${MAX_CONTROL_BYTES}-byte limit`, MAX_CONTROL_BYTES, frame.length - 1);
  }
  let o: Json;
  try {
    const parsed: unknown = JSON.parse(frame.subarray(1).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(`${type} body is not a JSON object`);
    o = parsed as Json;
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw bad(`${type} body is not valid JSON`);
  }
  switch (type) {
    case 'hello':
      return { type, version: uint(o, 'version'), features: strings(o, 'features', 64), agent: str(o, 'agent', 200) };
    case 'put':
      return { type, dir: str(o, 'dir') };
    case 'get':
      return { type, names: strings(o, 'names', MAX_GET_NAMES) };
    case 'ls':
      return { type, dir: str(o, 'dir') };
    case 'list':
      return { type, entries: entries(o), more: o['more'] === true };
    case 'offer':
      return { type, id: uint(o, 'id'), path: str(o, 'path'), kind: kind(o), size: uint(o, 'size') };
    case 'accept':
      return { type, id: uint(o, 'id'), offset: uint(o, 'offset'), prefixSha256: hex64(o, 'prefixSha256', true) };
    case 'reject':
      return { type, id: uint(o, 'id'), code: code(o), message: str(o, 'message', 1000) };
    case 'begin':
      return { type, id: uint(o, 'id'), offset: uint(o, 'offset') };
    case 'end':
      return { type, id: uint(o, 'id'), sha256: hex64(o, 'sha256', false) };
    case 'done':
      return { type, id: uint(o, 'id'), savedAs: str(o, 'savedAs'), bytes: uint(o, 'bytes'), ...(o['unchanged'] === true ? { unchanged: true as const } : {}) };
    case 'fail':
      return { type, id: uint(o, 'id'), code: code(o), message: str(o, 'message', 1000) };
    case 'total':
      return { type, files: uint(o, 'files'), bytes: uint(o, 'bytes') };
    case 'bye':
      return o['missing'] === undefined ? { type, files: uint(o, 'files'), bytes: uint(o, 'bytes') } : { type, files: uint(o, 'files'), bytes: uint(o, 'bytes'), missing: missing(o) };
    case 'error':
      return { type, code: code(o), message: str(o, 'message', 1000) };
  }
}

/** The error a REJECT / FAIL / ERROR message stands for, as the local side raises it. */
export function wireError(code: WireErrorCode, message: string): FileTransferError {
  return new FileTransferError(code, message);
}
