/**
 * `chat`: the multi-user line chat server (`sockit listen PORT --service chat`), over kernel TCP or
 * RUDP. The protocol is in docs/chat.md; the state machine in src/chat/protocol/chat-hub.ts.
 */
import { UsageError } from '../errors.js';
import { parseByteSize } from '../core/byte-size.js';
import { ChatServer, DEFAULT_MAX_SEND_QUEUE_BYTES, type ChatServerOptions } from '../chat/chat-server.js';
import { DEFAULT_CHAT_HUB_OPTIONS } from '../chat/protocol/chat-hub.js';
import { normalizeRoomName, roomProblem } from '../chat/protocol/names.js';
import type { ServiceDefinition } from './types.js';

/** The chat service's own command-line options, as parsed strings. */
export interface ChatServiceExtra {
  'max-clients'?: string;
  'max-rate'?: string;
  'max-queue'?: string;
  'idle-timeout'?: string;
  room?: string;
}

function wholeNumber(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${option} must be a whole number (0 = unlimited), not '${text}'`);
  return n;
}

function byteCount(text: string | undefined, option: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = parseByteSize(text);
  if (n === undefined || n < 1024) throw new UsageError(`--${option} must be a byte count of at least 1024 such as 262144 or 256k, not '${text}'`);
  return n;
}

/** Turns the parsed CLI options into server options (UsageError on a bad value). */
export function chatServerOptionsFrom(extra: ChatServiceExtra): ChatServerOptions {
  const room = extra.room === undefined ? DEFAULT_CHAT_HUB_OPTIONS.defaultRoom : normalizeRoomName(extra.room);
  const problem = roomProblem(room);
  if (problem) throw new UsageError(`--room: ${problem}`);
  return {
    maxClients: wholeNumber(extra['max-clients'], 'max-clients', DEFAULT_CHAT_HUB_OPTIONS.maxClients),
    maxRateLinesPerS: wholeNumber(extra['max-rate'], 'max-rate', DEFAULT_CHAT_HUB_OPTIONS.maxRateLinesPerS),
    maxSendQueueBytes: byteCount(extra['max-queue'], 'max-queue', DEFAULT_MAX_SEND_QUEUE_BYTES),
    idleTimeoutMs: wholeNumber(extra['idle-timeout'], 'idle-timeout', DEFAULT_CHAT_HUB_OPTIONS.idleTimeoutMs),
    defaultRoom: room,
  };
}

/** The chat service definition. */
export const chatService: ServiceDefinition<ChatServiceExtra> = {
  name: 'chat',
  summary: 'multi-user line chat: rooms, nicks, /commands; works with nc, telnet and sockit chat',
  transports: ['stream'],
  cliOptions: {
    'max-clients': { type: 'string' },
    'max-rate': { type: 'string' },
    'max-queue': { type: 'string' },
    'idle-timeout': { type: 'string' },
    room: { type: 'string' },
  },
  cliHelp: [
    `  --max-clients N     chat: clients at once, more are refused (default ${DEFAULT_CHAT_HUB_OPTIONS.maxClients}, 0 = no limit)`,
    `  --max-rate N        chat: lines/s per client after a burst of ${DEFAULT_CHAT_HUB_OPTIONS.floodBurstLines} (default ${DEFAULT_CHAT_HUB_OPTIONS.maxRateLinesPerS}, 0 = no limit)`,
    `  --max-queue BYTES   chat: bytes waiting for a slow client before it is dropped (default ${DEFAULT_MAX_SEND_QUEUE_BYTES / 1024}k)`,
    `  --idle-timeout MS   chat: ping after MS of silence, drop if still silent (default ${DEFAULT_CHAT_HUB_OPTIONS.idleTimeoutMs}, 0 = off)`,
    `  --room NAME         chat: the room clients join first (default ${DEFAULT_CHAT_HUB_OPTIONS.defaultRoom})`,
  ].join('\n'),
  create(options, extra) {
    const server = new ChatServer({ ...chatServerOptionsFrom(extra), encoding: options.encoding, log: options.log });
    return {
      onConnection: (socket) => server.handle(socket),
      close: (graceMs) => server.close(graceMs),
      get connectionCount() {
        return server.connectionCount;
      },
    };
  },
};
