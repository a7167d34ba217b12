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
import { ChatCodes, ProtocolError } from '../../errors.js';
import { MAX_LINE_BYTES } from './chat-text.js';
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

/** Encodes `msg`; throws ProtocolError when it would not fit one datagram. */
export function encodeLanMessage(msg: LanMessage): Uint8Array {
  const wire: Record<string, unknown> = { p: LAN_PROTOCOL, k: msg.kind, f: msg.from, n: msg.nick, r: msg.room, s: msg.seq };
  if (msg.text !== undefined) wire['t'] = msg.text;
  const bytes = new TextEncoder().encode(JSON.stringify(wire));
  if (bytes.length > MAX_LAN_DATAGRAM_BYTES) {
    throw new ProtocolError(ChatCodes.BAD_LAN_MESSAGE, `LAN chat message of ${bytes.length} bytes does not fit one datagram (at most ${MAX_LAN_DATAGRAM_BYTES})`);
  }
  return bytes;
}

/**
 * Decodes and validates one datagram. Returns undefined for traffic that is not sockit LAN chat;
 * throws ProtocolError `ERR_SOCKIT_BAD_LAN_MESSAGE` for a sockit datagram that breaks the format.
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
  const bad = (what: string): never => {
    throw new ProtocolError(ChatCodes.BAD_LAN_MESSAGE, `bad LAN chat datagram: ${what}`);
  };
  const kind = w['k'];
  if (typeof kind !== 'string' || !(LAN_KINDS as readonly string[]).includes(kind)) bad('unknown kind');
  const from = w['f'];
  if (typeof from !== 'string' || !ID.test(from)) bad('bad sender id');
  const nick = w['n'];
  if (typeof nick !== 'string' || nickProblem(nick) !== undefined) bad('bad nick');
  const room = w['r'];
  if (typeof room !== 'string' || roomProblem(room) !== undefined) bad('bad room');
  const seq = w['s'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) bad('bad sequence number');
  const text = w['t'];
  const chat = isChatKind(kind as LanKind);
  if (chat && (typeof text !== 'string' || text.length === 0 || new TextEncoder().encode(text).length > MAX_LINE_BYTES)) bad('bad text');
  if (chat && seq === 0) bad('message number 0');
  const msg: LanMessage = { kind: kind as LanKind, from: from as string, nick: nick as string, room: room as string, seq: seq as number };
  return chat ? { ...msg, text: text as string } : msg;
}
