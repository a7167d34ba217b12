/**
 * The chat server's state machine: clients, nicks, rooms, commands, flood control and idle pings,
 * with no I/O (sans-IO, like the RUDP core).
 *
 * Read first: docs/chat.md (the line protocol), RFC 2812 §3.1–3.3 (IRC registration, channel
 * membership, PRIVMSG), RFC 2813 §5.8 (flood control), RFC 2812 §3.7.2 (PING, the idle check).
 *
 * The I/O layer hands the hub one event per call — `connect`, `receive` (a line, an invalid line),
 * `disconnect`, `tick` — each with `now`, and the hub answers through a {@link ChatSink}: lines for
 * one connection, lines for a set of connections (one encoding, many writes), and closes. `C` is the
 * I/O layer's connection handle; the hub only stores and hands it back.
 *
 * Every line the server writes starts with a marker so both people and scripts can read it:
 * `[#room] <nick> text` (a message), `[pm] <nick> text` (a private message), `* ...` (a notice),
 * `! ... (ERR_SOCKIT_...)` (an error, with its stable code).
 */
import { ChatCodes } from '../../errors.js';
import type { Instant } from '../../core/time.js';
import { escapeControls } from './chat-text.js';
import { parseChatInput, splitFirstWord, type ChatInput } from './chat-command.js';
import { nickKey, nickProblem, normalizeRoomName, roomKey, roomProblem } from './names.js';
import { errorLine, registeredLine } from './server-line.js';
import { TokenBucket } from './token-bucket.js';

/** Where the hub's output goes. Calls are synchronous; the I/O layer queues the bytes. */
export interface ChatSink<C> {
  /** One line (no terminator) for one connection. */
  send(to: C, line: string): void;
  /** The same line for every connection in `to` (a live set: iterate it now, do not keep it). */
  broadcast(to: Iterable<C>, line: string): void;
  /** Close `conn` after what was sent to it is flushed. The hub has already forgotten it. */
  close(conn: C, reason: string): void;
}

/** Limits and defaults of a hub. */
export interface ChatHubOptions {
  /** Connections allowed at once (registered or not); 0 = unlimited. */
  maxClients: number;
  /** Lines per second a client may send on average; 0 = unlimited. */
  maxRateLinesPerS: number;
  /** Lines a client may send at once before the rate applies (a pasted screenful). */
  floodBurstLines: number;
  /** Room every client joins on registration. */
  defaultRoom: string;
  /** Rooms one client may be in at once. */
  maxRoomsPerClient: number;
  /** Rooms larger than this do not announce joins, parts and nick changes (like big IRC channels). */
  quietRoomMembers: number;
  /** Silence after which the server sends a ping; 0 = never. */
  idleTimeoutMs: number;
  /** Time to answer a ping (any line counts) before the client is disconnected. */
  pingTimeoutMs: number;
}

/** The defaults `sockit listen --service chat` uses. */
export const DEFAULT_CHAT_HUB_OPTIONS: ChatHubOptions = {
  maxClients: 10_000,
  maxRateLinesPerS: 5,
  floodBurstLines: 50,
  defaultRoom: '#lobby',
  maxRoomsPerClient: 16,
  quietRoomMembers: 100,
  idleTimeoutMs: 300_000,
  pingTimeoutMs: 60_000,
};

/** A line as the I/O layer received it. */
export type ReceivedLine =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'invalid-utf8' }
  | { readonly kind: 'too-long'; readonly lineBytes: number; readonly maxLineBytes: number };

/** Why a connection went away, as the room is told. */
export type LeaveReason = 'quit' | 'connection lost' | 'send queue exceeded' | 'ping timeout' | 'server shutdown';

interface Room<C> {
  readonly name: string;
  readonly members: Set<C>;
}

interface Client<C> {
  readonly conn: C;
  nick: string | undefined;
  /** Rooms in join order; the last one is where plain text goes. */
  rooms: Room<C>[];
  readonly bucket: TokenBucket;
  /** True once a flood notice was sent, until a line is accepted again (one notice per burst). */
  throttled: boolean;
  lastHeardAt: Instant;
  pingSentAt: Instant | undefined;
}

const LIST_MAX_NAMES = 50;

const HELP = [
  '* commands:',
  '*   /nick NAME        change your nick',
  '*   /join #room       join a room (and talk there)',
  '*   /part [#room]     leave the room you talk in (or the one named)',
  '*   /rooms            list rooms',
  '*   /who [#room]      list who is in a room',
  '*   /msg NICK text    private message',
  '*   /me action        say what you do: * alice waves',
  '*   /quit [reason]    leave',
  '*   //text            send text that starts with /',
];

/**
 * Chat server state. One instance serves every connection of one server. Methods never throw on
 * anything a client sends; protocol trouble becomes an error line for that client only.
 */
export class ChatHub<C> {
  readonly options: ChatHubOptions;
  readonly #sink: ChatSink<C>;
  readonly #clients = new Map<C, Client<C>>();
  readonly #byNick = new Map<string, Client<C>>();
  readonly #rooms = new Map<string, Room<C>>();
  #closed = false;

  constructor(sink: ChatSink<C>, options: Partial<ChatHubOptions> = {}) {
    this.#sink = sink;
    this.options = { ...DEFAULT_CHAT_HUB_OPTIONS, ...options };
  }

  /** Connections known to the hub (registered or not). */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** The nick of `conn`, if it registered. */
  nickOf(conn: C): string | undefined {
    return this.#clients.get(conn)?.nick;
  }

  /** Members of `room`, by nick, sorted. */
  roomNicks(room: string): string[] {
    const r = this.#rooms.get(roomKey(normalizeRoomName(room)));
    return r ? this.#nicksIn(r) : [];
  }

  /** A new connection: greets it, or refuses it when the server is full or shutting down. */
  connect(now: Instant, conn: C): void {
    if (this.#closed) {
      this.#sink.send(conn, `! the server is shutting down (${ChatCodes.SERVER_SHUTDOWN})`);
      this.#sink.close(conn, 'server shutdown');
      return;
    }
    const max = this.options.maxClients;
    if (max > 0 && this.#clients.size >= max) {
      this.#sink.send(conn, `! server full: ${max} ${max === 1 ? 'client' : 'clients'} connected; try again later (${ChatCodes.SERVER_FULL})`);
      this.#sink.close(conn, 'server full');
      return;
    }
    const client: Client<C> = {
      conn,
      nick: undefined,
      rooms: [],
      bucket: new TokenBucket(this.options.maxRateLinesPerS, this.options.floodBurstLines, now),
      throttled: false,
      lastHeardAt: now,
      pingSentAt: undefined,
    };
    this.#clients.set(conn, client);
    const online = this.#byNick.size;
    this.#sink.send(conn, `* welcome to sockit chat (${online} ${online === 1 ? 'person' : 'people'} online). Who are you? Type a nick, or /nick NAME; /help lists commands`);
  }

  /** One line from `conn`. */
  receive(now: Instant, conn: C, line: ReceivedLine): void {
    const client = this.#clients.get(conn);
    if (!client) return;
    client.lastHeardAt = now;
    client.pingSentAt = undefined;
    if (line.kind === 'text' && line.text.trim() === '') return;
    const input = line.kind === 'text' ? parseChatInput(line.text) : line;
    if (input.kind === 'command' && (input.name === 'pong' || input.name === 'quit')) {
      this.#command(client, input);
      return;
    }
    // Every other line counts against the rate, invalid ones too: errors cost output.
    if (!client.bucket.take(now)) {
      if (!client.throttled) {
        client.throttled = true;
        this.#error(client, `flood: more than ${this.options.maxRateLinesPerS} lines/s; lines dropped until you slow down`, ChatCodes.FLOOD);
      }
      return;
    }
    client.throttled = false;
    if (input.kind === 'invalid-utf8') this.#error(client, 'line is not valid UTF-8; not sent', ChatCodes.INVALID_UTF8);
    else if (input.kind === 'too-long') this.#error(client, `line too long (${input.lineBytes} bytes, at most ${input.maxLineBytes}); not sent`, ChatCodes.LINE_TOO_LONG);
    else if (client.nick === undefined) this.#register(client, input);
    else if (input.kind === 'text') this.#say(client, input.text);
    else if (input.kind === 'unknown-command') this.#error(client, `unknown command /${escapeControls(input.name)}; /help lists commands`, ChatCodes.UNKNOWN_COMMAND);
    else this.#command(client, input);
  }

  /** The connection is gone (or must go): tells its rooms why, forgets it, closes it if needed. */
  disconnect(conn: C, reason: LeaveReason): void {
    const client = this.#clients.get(conn);
    if (!client) return;
    this.#forget(client, reason);
    this.#sink.close(conn, reason);
  }

  /** Periodic check (call about once a second): pings idle clients, drops those that stay silent. */
  tick(now: Instant): void {
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs <= 0) return;
    const expired: Client<C>[] = [];
    for (const client of this.#clients.values()) {
      if (client.pingSentAt === undefined) {
        if (now - client.lastHeardAt >= idleMs) {
          client.pingSentAt = now;
          const s = Math.round(this.options.pingTimeoutMs / 1000);
          this.#sink.send(client.conn, `* PING ${Math.floor(now)} (idle: send any line or /pong within ${s} s to stay connected)`);
        }
      } else if (now - client.pingSentAt >= this.options.pingTimeoutMs) {
        expired.push(client);
      }
    }
    for (const client of expired) {
      this.#sink.send(client.conn, `! ping timeout: no answer within ${Math.round(this.options.pingTimeoutMs / 1000)} s; disconnecting (${ChatCodes.PING_TIMEOUT})`);
      this.disconnect(client.conn, 'ping timeout');
    }
  }

  /** Graceful shutdown: tells everyone, closes every connection, refuses new ones. */
  shutdown(message = 'the server is shutting down'): void {
    this.#closed = true;
    const all = [...this.#clients.keys()];
    this.#sink.broadcast(all, `* ${message}; bye`);
    for (const conn of all) {
      const client = this.#clients.get(conn);
      if (client) this.#forgetQuietly(client);
      this.#sink.close(conn, 'server shutdown');
    }
  }

  #register(client: Client<C>, input: ChatInput): void {
    let wanted: string;
    if (input.kind === 'text') wanted = input.text.trim();
    else if (input.kind === 'command' && input.name === 'nick') wanted = input.arg;
    else if (input.kind === 'command' && input.name === 'help') return this.#help(client);
    else return this.#error(client, 'choose a nick first: type a nick, or /nick NAME', ChatCodes.NOT_REGISTERED);
    if (!this.#nickAvailable(client, wanted)) return;
    client.nick = wanted;
    this.#byNick.set(nickKey(wanted), client);
    this.#sink.send(client.conn, registeredLine(wanted));
    this.#join(client, this.options.defaultRoom);
  }

  #command(client: Client<C>, input: Extract<ChatInput, { kind: 'command' }>): void {
    switch (input.name) {
      case 'nick':
        return this.#rename(client, input.arg);
      case 'join':
        if (input.arg === '') return this.#error(client, 'usage: /join #room', ChatCodes.BAD_ROOM);
        return this.#join(client, input.arg);
      case 'part':
        return this.#part(client, input.arg);
      case 'rooms':
        return this.#listRooms(client);
      case 'who':
        return this.#who(client, input.arg);
      case 'msg':
        return this.#privateMessage(client, input.arg);
      case 'me':
        if (input.arg === '') return this.#error(client, 'usage: /me action', ChatCodes.UNKNOWN_COMMAND);
        return this.#say(client, input.arg, true);
      case 'quit':
        this.#sink.send(client.conn, '* bye');
        this.#forget(client, 'quit', input.arg);
        this.#sink.close(client.conn, 'quit');
        return;
      case 'help':
        return this.#help(client);
      case 'pong':
        return;
    }
  }

  #nickAvailable(client: Client<C>, wanted: string): boolean {
    const problem = nickProblem(wanted);
    if (problem) {
      this.#error(client, `bad nick '${escapeControls(wanted)}': ${problem}`, ChatCodes.BAD_NICK);
      return false;
    }
    const holder = this.#byNick.get(nickKey(wanted));
    if (holder && holder !== client) {
      this.#error(client, `nick ${wanted} is in use; choose another`, ChatCodes.NICK_IN_USE);
      return false;
    }
    return true;
  }

  #rename(client: Client<C>, wanted: string): void {
    if (!this.#nickAvailable(client, wanted)) return;
    const old = client.nick!;
    if (old === wanted) return;
    this.#byNick.delete(nickKey(old));
    this.#byNick.set(nickKey(wanted), client);
    client.nick = wanted;
    this.#sink.send(client.conn, `* you are now known as ${wanted}`);
    // Everyone sharing a room hears it once, however many rooms they share.
    const told = new Set<C>([client.conn]);
    for (const room of client.rooms) {
      if (room.members.size > this.options.quietRoomMembers) continue;
      for (const member of room.members) {
        if (told.has(member)) continue;
        told.add(member);
        this.#sink.send(member, `* ${old} is now known as ${wanted}`);
      }
    }
  }

  #join(client: Client<C>, requested: string): void {
    const name = normalizeRoomName(requested);
    const problem = roomProblem(name);
    if (problem) return this.#error(client, `bad room '${escapeControls(name)}': ${problem}`, ChatCodes.BAD_ROOM);
    const key = roomKey(name);
    const at = client.rooms.findIndex((r) => roomKey(r.name) === key);
    if (at !== -1) {
      const [room] = client.rooms.splice(at, 1);
      client.rooms.push(room!);
      this.#sink.send(client.conn, `* you now talk in ${room!.name}`);
      return;
    }
    if (client.rooms.length >= this.options.maxRoomsPerClient) {
      return this.#error(client, `you are in ${client.rooms.length} rooms already; /part one first`, ChatCodes.TOO_MANY_ROOMS);
    }
    let room = this.#rooms.get(key);
    if (!room) {
      room = { name, members: new Set() };
      this.#rooms.set(key, room);
    }
    room.members.add(client.conn);
    client.rooms.push(room);
    this.#announce(client, room, `* ${client.nick} joined ${room.name}`);
    const others = room.members.size - 1;
    this.#sink.send(client.conn, `* ${room.name}: ${others === 0 ? 'nobody else here yet' : `${others} other${others === 1 ? '' : 's'} here; /who lists them`}`);
  }

  #part(client: Client<C>, requested: string): void {
    let room: Room<C> | undefined;
    if (requested === '') room = client.rooms.at(-1);
    else {
      const key = roomKey(normalizeRoomName(requested));
      room = client.rooms.find((r) => roomKey(r.name) === key);
    }
    if (!room) return this.#error(client, requested === '' ? 'you are not in a room' : `you are not in ${escapeControls(normalizeRoomName(requested))}`, ChatCodes.NOT_IN_ROOM);
    this.#announce(client, room, `* ${client.nick} left ${room.name}`);
    this.#leaveRoom(client, room);
    const current = client.rooms.at(-1);
    this.#sink.send(client.conn, current ? `* you now talk in ${current.name}` : '* you are in no room; /join #room to talk');
  }

  #listRooms(client: Client<C>): void {
    const rooms = [...this.#rooms.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    if (rooms.length === 0) return this.#sink.send(client.conn, '* no rooms; /join #room makes one');
    this.#sink.send(client.conn, `* rooms: ${shortList(rooms.map((r) => `${r.name} (${r.members.size})`))}`);
  }

  #who(client: Client<C>, requested: string): void {
    let room: Room<C> | undefined;
    if (requested === '') {
      room = client.rooms.at(-1);
      if (!room) return this.#error(client, 'you are not in a room; /who #room names one', ChatCodes.NOT_IN_ROOM);
    } else {
      const name = normalizeRoomName(requested);
      room = this.#rooms.get(roomKey(name));
      if (!room) return this.#error(client, `no room ${escapeControls(name)}`, ChatCodes.BAD_ROOM);
    }
    const nicks = this.#nicksIn(room);
    this.#sink.send(client.conn, `* ${room.name} (${nicks.length}): ${shortList(nicks)}`);
  }

  #privateMessage(client: Client<C>, arg: string): void {
    const [target, text] = splitFirstWord(arg);
    if (target === '' || text === '') return this.#error(client, 'usage: /msg NICK text', ChatCodes.UNKNOWN_COMMAND);
    const to = this.#byNick.get(nickKey(target));
    if (!to) return this.#error(client, `no such nick: ${escapeControls(target)}`, ChatCodes.NO_SUCH_NICK);
    const safe = escapeControls(text);
    this.#sink.send(to.conn, `[pm] <${client.nick}> ${safe}`);
    if (to !== client) this.#sink.send(client.conn, `[pm to ${to.nick}] <${client.nick}> ${safe}`);
  }

  #say(client: Client<C>, text: string, action = false): void {
    const room = client.rooms.at(-1);
    if (!room) return this.#error(client, 'you are not in a room; /join #room to talk', ChatCodes.NOT_IN_ROOM);
    const safe = escapeControls(text);
    // The sender is a member, so it gets its own line back: the echo shows what everyone saw, in order.
    this.#sink.broadcast(room.members, action ? `[${room.name}] * ${client.nick} ${safe}` : `[${room.name}] <${client.nick}> ${safe}`);
  }

  /** Tells a room something about `client`; a room too big to announce in tells only `client`. */
  #announce(client: Client<C>, room: Room<C>, notice: string): void {
    if (room.members.size > this.options.quietRoomMembers) this.#sink.send(client.conn, notice);
    else this.#sink.broadcast(room.members, notice);
  }

  /** The nicks of a room's members, sorted (members are always registered). */
  #nicksIn(room: Room<C>): string[] {
    return [...room.members].map((c) => this.#clients.get(c)!.nick!).sort();
  }

  #help(client: Client<C>): void {
    for (const line of HELP) this.#sink.send(client.conn, line);
  }

  #error(client: Client<C>, message: string, code: string): void {
    this.#sink.send(client.conn, errorLine(message, code));
  }

  #forget(client: Client<C>, reason: LeaveReason, quitMessage = ''): void {
    const why = reason === 'quit' && quitMessage !== '' ? `quit: ${escapeControls(quitMessage)}` : reason;
    const verb = reason === 'send queue exceeded' || reason === 'ping timeout' ? 'was dropped from' : 'left';
    const rooms = client.rooms;
    this.#forgetQuietly(client);
    if (client.nick === undefined) return;
    for (const room of rooms) {
      if (room.members.size >= this.options.quietRoomMembers) continue;
      this.#sink.broadcast(room.members, `* ${client.nick} ${verb} ${room.name} (${why})`);
    }
  }

  #forgetQuietly(client: Client<C>): void {
    for (const room of [...client.rooms]) this.#leaveRoom(client, room);
    if (client.nick !== undefined && this.#byNick.get(nickKey(client.nick)) === client) this.#byNick.delete(nickKey(client.nick));
    this.#clients.delete(client.conn);
  }

  #leaveRoom(client: Client<C>, room: Room<C>): void {
    room.members.delete(client.conn);
    client.rooms = client.rooms.filter((r) => r !== room);
    if (room.members.size === 0) this.#rooms.delete(roomKey(room.name));
  }
}

/** At most {@link LIST_MAX_NAMES} names, then how many more there are: `a, b, c and 12 more`. */
function shortList(names: readonly string[]): string {
  const shown = names.slice(0, LIST_MAX_NAMES);
  return shown.join(', ') + (names.length > shown.length ? ` and ${names.length - shown.length} more` : '');
}
