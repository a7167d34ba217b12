/**
 * The LAN chat datagram: one JSON object per UDP datagram, sent to a multicast group.
 *
 * Read first: RFC 768 (UDP: datagrams may be lost, duplicated, reordered), RFC 2365 (the
 * administratively scoped 239.0.0.0/8 block LAN chat's default group comes from), RFC 8085 §3.2
 * (keep datagrams under the path MTU), RFC 3550 §6 (RTP's periodic session reports: the idea behind
 * the heartbeat that also carries the last sequence number sent, so trailing losses show up).
 *
 * Every datagram names its sender by a random instance id (nicks may clash, ids do not) and
 * carries that sender's sequence number: for a message, its own number (the message id is
 * `id:seq`); for presence datagrams, the last message number sent.
 */
import { ChatCodes, LimitExceededError, NetCodes, ProtocolError, SockitError } from '../../errors.js';
import { escapeControls, MAX_LINE_BYTES } from './chat-text.js';
import { nickProblem, roomProblem } from './names.js';

/** Marks sockit LAN chat datagrams, so other traffic on the group is ignored. */
export const LAN_PROTOCOL = 'sockit-chat/1';

/** Default multicast group (RFC 2365 §6.1: 239.255.0.0/16 is the local scope). */
export const DEFAULT_LAN_GROUP = { address: '239.255.77.77', port: 47777 } as const;

/** Largest datagram LAN chat sends or accepts: inside a 1500-byte Ethernet MTU (RFC 8085 §3.2). */
export const MAX_LAN_DATAGRAM_BYTES = 1400;

/** Kinds of datagram: a message or an action (`/me`), and presence (hello, heartbeat, bye). */
export const LAN_KINDS = ['msg', 'me', 'hello', 'beat', 'bye'] as const;

/** One of {@link LAN_KINDS}. */
export type LanKind = (typeof LAN_KINDS)[number];

/** A decoded, validated LAN chat datagram. */
export interface LanMessage {
  readonly kind: LanKind;
  /** Sender instance id: 1–16 hex digits, random per run. */
  readonly from: string;
  readonly nick: string;
  readonly room: string;
  /** Message kinds: this message's number. Presence kinds: the last message number sent (0 = none). */
  readonly seq: number;
  /** Message kinds only. */
  readonly text?: string;
}

/** True for the kinds that carry a chat line (and consume a sequence number). */
export function isChatKind(kind: LanKind): boolean {
  return kind === 'msg' || kind === 'me';
}

const ID = /^[0-9a-f]{1,16}$/;

const UTF8 = new TextEncoder();

/** A field of a {@link LanMessage} that breaks the format, and why (for people). */
export interface LanMessageProblem {
  readonly field: 'kind' | 'from' | 'nick' | 'room' | 'seq' | 'text';
  readonly why: string;
}

/**
 * The one rule of what a LAN chat message may be: returns what is wrong with `msg`, or undefined
 * when nothing is. The decoder rejects a datagram it names ({@link decodeLanMessage}), and the
 * sender refuses the same message before sending it ({@link encodeLanMessage}, {@link lanMessageError}),
 * so a node never sends what the others would drop. Nicks and rooms follow names.ts, text is
 * 1 to {@link MAX_LINE_BYTES} bytes of UTF-8 (the TCP chat's line limit).
 */
export function lanMessageProblem(msg: LanMessage): LanMessageProblem | undefined {
  if (!(LAN_KINDS as readonly string[]).includes(msg.kind)) return { field: 'kind', why: `a kind is one of ${LAN_KINDS.join(', ')}` };
  if (!ID.test(msg.from)) return { field: 'from', why: 'a sender id is 1 to 16 lower-case hex digits' };
  const nick = nickProblem(msg.nick);
  if (nick !== undefined) return { field: 'nick', why: nick };
  const room = roomProblem(msg.room);
  if (room !== undefined) return { field: 'room', why: room };
  if (!Number.isSafeInteger(msg.seq) || msg.seq < 0) return { field: 'seq', why: 'a sequence number is a whole number from 0' };
  if (!isChatKind(msg.kind)) return undefined;
  if (msg.seq === 0) return { field: 'seq', why: 'messages are numbered from 1' };
  const text = msg.text ?? '';
  if (text.length === 0) return { field: 'text', why: 'a message cannot be empty' };
  const bytes = UTF8.encode(text).length;
  if (bytes > MAX_LINE_BYTES) return { field: 'text', why: `a message has at most ${MAX_LINE_BYTES} bytes of text, this one ${bytes}` };
  return undefined;
}

/**
 * The error a sender gets for a message the others would reject ({@link lanMessageProblem}), or
 * undefined when they would accept it. Codes, as the TCP chat server uses them:
 * `ERR_SOCKIT_BAD_NICK`, `ERR_SOCKIT_BAD_ROOM`, `ERR_SOCKIT_CHAT_LINE_TOO_LONG` (a
 * LimitExceededError with `limit` and `actual` in bytes), and `ERR_SOCKIT_INVALID_ARGUMENT` for the
 * rest (empty text, a bad sender id or number). Messages read like the server's `!` lines.
 */
export function lanMessageError(msg: LanMessage): SockitError | undefined {
  const problem = lanMessageProblem(msg);
  if (problem === undefined) return undefined;
  switch (problem.field) {
    case 'nick':
      return new SockitError(ChatCodes.BAD_NICK, `bad nick '${escapeControls(msg.nick)}': ${problem.why}`);
    case 'room':
      return new SockitError(ChatCodes.BAD_ROOM, `bad room '${escapeControls(msg.room)}': ${problem.why}`);
    case 'text': {
      const bytes = UTF8.encode(msg.text ?? '').length;
      if (bytes > MAX_LINE_BYTES) {
        return new LimitExceededError(ChatCodes.LINE_TOO_LONG, `line too long (${bytes} bytes, at most ${MAX_LINE_BYTES}); not sent`, MAX_LINE_BYTES, bytes);
      }
      return new SockitError(NetCodes.INVALID_ARGUMENT, `${problem.why}; not sent`);
    }
    default:
      return new SockitError(NetCodes.INVALID_ARGUMENT, `bad LAN chat ${FIELD_NAMES[problem.field]}: ${problem.why}`);
  }
}

const FIELD_NAMES: Record<LanMessageProblem['field'], string> = {
  kind: 'kind', from: 'sender id', nick: 'nick', room: 'room', seq: 'sequence number', text: 'text',
};

/**
 * Encodes `msg`. Refuses, before anything is sent, what a receiver would reject: the error of
 * {@link lanMessageError}, or ProtocolError `ERR_SOCKIT_BAD_LAN_MESSAGE` when it would not fit one
 * datagram (text within the limit can still be too big once JSON escapes its control characters).
 */
export function encodeLanMessage(msg: LanMessage): Uint8Array {
  const refused = lanMessageError(msg);
  if (refused !== undefined) throw refused;
  const wire: Record<string, unknown> = { p: LAN_PROTOCOL, k: msg.kind, f: msg.from, n: msg.nick, r: msg.room, s: msg.seq };
  if (msg.text !== undefined) wire['t'] = msg.text;
  const bytes = UTF8.encode(JSON.stringify(wire));
  if (bytes.length > MAX_LAN_DATAGRAM_BYTES) {
    throw new ProtocolError(ChatCodes.BAD_LAN_MESSAGE, `LAN chat message of ${bytes.length} bytes does not fit one datagram (at most ${MAX_LAN_DATAGRAM_BYTES}); not sent`);
  }
  return bytes;
}

/**
 * Decodes and validates one datagram. Returns undefined for traffic that is not sockit LAN chat;
 * throws ProtocolError `ERR_SOCKIT_BAD_LAN_MESSAGE` for a sockit datagram that breaks the format
 * ({@link lanMessageProblem}).
 */
export function decodeLanMessage(bytes: Uint8Array): LanMessage | undefined {
  if (bytes.length > MAX_LAN_DATAGRAM_BYTES) return undefined;
  let wire: unknown;
  try {
    wire = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof wire !== 'object' || wire === null || (wire as { p?: unknown }).p !== LAN_PROTOCOL) return undefined;
  const w = wire as Record<string, unknown>;
  const bad = (field: LanMessageProblem['field'], why: string): never => {
    throw new ProtocolError(ChatCodes.BAD_LAN_MESSAGE, `bad LAN chat datagram: bad ${FIELD_NAMES[field]}: ${why}`);
  };
  const string = (key: string, field: LanMessageProblem['field']): string => {
    const value = w[key];
    return typeof value === 'string' ? value : bad(field, 'not a string');
  };
  const kind = string('k', 'kind');
  const from = string('f', 'from');
  const nick = string('n', 'nick');
  const room = string('r', 'room');
  const seq = w['s'];
  if (typeof seq !== 'number') return bad('seq', 'not a number');
  const base = { kind: kind as LanKind, from, nick, room, seq };
  const msg: LanMessage = isChatKind(base.kind) ? { ...base, text: string('t', 'text') } : base;
  const problem = lanMessageProblem(msg);
  if (problem !== undefined) bad(problem.field, problem.why);
  return msg;
}
