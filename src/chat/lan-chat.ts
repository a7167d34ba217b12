/**
 * Serverless LAN chat: every instance joins one UDP multicast group and talks to all the others,
 * no server in between. The I/O driver of {@link LanChatState}.
 *
 * Read first: RFC 1112 (host multicast: joining a group, IGMP), RFC 2365 (239/8 local scope),
 * RFC 919 (broadcast, the fallback when the group cannot be joined), Node's dgram docs
 * (reuseAddr so several instances share the port, multicast loopback so they hear each other).
 *
 * Several instances on one machine work: each binds the group's port with SO_REUSEADDR, joins the
 * group, and keeps multicast loopback on (own datagrams come back and are ignored by sender id).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { UdpEndpoint } from '../udp/udp-endpoint.js';
import { InvalidStateError, isSockitError } from '../errors.js';
import { LanChatState, type LanChatTiming, type LanEvent, type LanPeer } from './protocol/lan-chat-state.js';
import { decodeLanMessage, DEFAULT_LAN_GROUP, lanMessageError, type LanMessage } from './protocol/lan-message.js';

/** Options of {@link LanChatNode.start}. */
export interface LanChatOptions extends Partial<LanChatTiming> {
  nick: string;
  /** Room to start in; default `#lobby`. */
  room?: string;
  /** Multicast group and port; default {@link DEFAULT_LAN_GROUP}. */
  group?: { address: string; port: number };
  /** Address of the interface to join and send on (127.0.0.1 for one machine); default: the OS's choice. */
  iface?: string;
  /** Use broadcast to this address instead of multicast (e.g. 255.255.255.255). */
  broadcastAddress?: string;
  /** Interval of presence heartbeats; default 2000 ms. */
  heartbeatMs?: number;
  /** Instance id (hex); default 8 random hex digits. */
  id?: string;
  /**
   * Called for every datagram received before it is decoded; returning false drops it. Tests use
   * it to simulate a lossy path (or to count duplicates) without touching the network.
   */
  receiveFilter?: (datagram: Buffer) => boolean;
}

/**
 * One LAN chat participant. Events: `'event'` (a {@link LanEvent}: message, joined, left,
 * renamed, lost), `'error'` (a SockitError: a malformed datagram from someone, a failed heartbeat;
 * emitted only when someone listens, since none of them is fatal).
 *
 * A node refuses to send what the others would reject (the rule is {@link lanMessageError}'s, the
 * same the receivers apply): `say`/`act` reject with `ERR_SOCKIT_CHAT_LINE_TOO_LONG` over 510 bytes,
 * `setNick`/`start` with `ERR_SOCKIT_BAD_NICK`, `join`/`start` with `ERR_SOCKIT_BAD_ROOM`; nothing is
 * sent and nick, room and message numbering stay as they were. After {@link close} every send
 * rejects with InvalidStateError `ERR_SOCKIT_INVALID_STATE`.
 */
export class LanChatNode extends EventEmitter {
  readonly #endpoint: UdpEndpoint;
  readonly #state: LanChatState;
  readonly #destination: { address: string; port: number };
  readonly #filter: ((datagram: Buffer) => boolean) | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  #deadline: NodeJS.Timeout | undefined;
  /** Set by the first {@link close}: from then on nothing is sent or received but the goodbye. */
  #closing: Promise<void> | undefined;
  /** The socket is closed. */
  #closed = false;
  /** How the group is reached: `multicast` or `broadcast` (fallback). */
  readonly mode: 'multicast' | 'broadcast';

  /**
   * Binds the group's port, joins the group (or falls back to broadcast) and says hello. A nick,
   * room or id the others would reject is refused first (see {@link lanMessageError}), before
   * anything is bound.
   */
  static async start(options: LanChatOptions): Promise<LanChatNode> {
    const id = options.id ?? randomBytes(4).toString('hex');
    const room = options.room ?? '#lobby';
    const refused = lanMessageError({ kind: 'hello', from: id, nick: options.nick, room, seq: 0 });
    if (refused !== undefined) throw refused;
    const group = options.group ?? DEFAULT_LAN_GROUP;
    const endpoint = await UdpEndpoint.bind({ host: '0.0.0.0', port: group.port, type: 'udp4', reuseAddr: true });
    let route: Route;
    try {
      route = reachGroup(endpoint, group, options);
    } catch (err) {
      await endpoint.close();
      throw err;
    }
    const node = new LanChatNode(endpoint, { ...options, id, room }, route.destination, route.mode);
    await node.#announce('hello');
    return node;
  }

  private constructor(endpoint: UdpEndpoint, options: LanChatOptions & { id: string; room: string }, destination: { address: string; port: number }, mode: 'multicast' | 'broadcast') {
    super();
    this.#endpoint = endpoint;
    this.#destination = destination;
    this.mode = mode;
    this.#filter = options.receiveFilter;
    const timing: Partial<LanChatTiming> = {};
    if (options.lossDelayMs !== undefined) timing.lossDelayMs = options.lossDelayMs;
    if (options.peerTimeoutMs !== undefined) timing.peerTimeoutMs = options.peerTimeoutMs;
    this.#state = new LanChatState(options.id, options.nick, options.room, timing);
    endpoint.on('message', (datagram: Buffer) => this.#onDatagram(datagram));
    endpoint.on('error', (err) => this.#report(err));
    this.#heartbeat = setInterval(() => void this.#announce('beat'), options.heartbeatMs ?? 2000);
  }

  /** This instance's id (what other instances track it by). */
  get id(): string {
    return this.#state.selfId;
  }

  /** Current nick. */
  get nick(): string {
    return this.#state.nick;
  }

  /** Current room. */
  get room(): string {
    return this.#state.room;
  }

  /** Where this node sends: the multicast group, or the broadcast address in `broadcast` mode. */
  get destination(): { address: string; port: number } {
    return { ...this.#destination };
  }

  /** The local port the group traffic arrives on. */
  get port(): number {
    return this.#endpoint.address.port;
  }

  /** Peers heard from recently in `room` (default: the current room). */
  who(room: string = this.#state.room): LanPeer[] {
    return this.#state.peers(room);
  }

  /** Every peer heard from recently, any room. */
  peers(): LanPeer[] {
    return this.#state.peers();
  }

  /**
   * Sends a chat line to the current room. Rejects, sending nothing, a line the others would
   * reject: LimitExceededError `ERR_SOCKIT_CHAT_LINE_TOO_LONG` over 510 bytes of UTF-8,
   * `ERR_SOCKIT_INVALID_ARGUMENT` for an empty one, ProtocolError `ERR_SOCKIT_BAD_LAN_MESSAGE` for
   * one that JSON-escaping makes too big for a datagram.
   */
  say(text: string): Promise<void> {
    return this.#sendChat('msg', text, 'say');
  }

  /** Sends an action (`/me waves`) to the current room; refuses what {@link say} refuses. */
  act(text: string): Promise<void> {
    return this.#sendChat('me', text, 'act');
  }

  /**
   * Changes nick; the next heartbeat (sent now) tells the others. Rejects an invalid nick
   * (`ERR_SOCKIT_BAD_NICK`, the rules of names.ts) and keeps the old one.
   */
  async setNick(nick: string): Promise<void> {
    this.#checkOpen('setNick');
    const refused = lanMessageError({ ...this.#presence(), nick });
    if (refused !== undefined) throw refused;
    this.#state.nick = nick;
    await this.#announce('beat');
  }

  /**
   * Moves to `room` (with its `#`); a heartbeat sent now tells the others. Rejects an invalid room
   * (`ERR_SOCKIT_BAD_ROOM`) and stays where it is.
   */
  async join(room: string): Promise<void> {
    this.#checkOpen('join');
    const refused = lanMessageError({ ...this.#presence(), room });
    if (refused !== undefined) throw refused;
    this.#state.room = room;
    await this.#announce('beat');
  }

  /** Says goodbye and closes the socket. Calling it again returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeat);
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = undefined;
    try {
      await this.#announce('bye');
    } finally {
      this.#closed = true;
      await this.#endpoint.close();
    }
  }

  // Sync up to the first await: the number is taken in call order, and a refused line (thrown
  // by composeDatagram before it takes a number) leaves no gap for the others to report as lost.
  async #sendChat(kind: 'msg' | 'me', text: string, what: string): Promise<void> {
    this.#checkOpen(what);
    const bytes = this.#state.composeDatagram(kind, text);
    await this.#endpoint.send(bytes, this.#destination.port, this.#destination.address);
  }

  /** Sends presence. A lost heartbeat is what UDP does anyway: reported, never thrown. */
  async #announce(kind: 'hello' | 'beat' | 'bye'): Promise<void> {
    try {
      const bytes = this.#state.composeDatagram(kind);
      await this.#endpoint.send(bytes, this.#destination.port, this.#destination.address);
    } catch (err) {
      if (!this.#closed) this.#report(err);
    }
  }

  /** The heartbeat this node would send now, for checking a change before making it. */
  #presence(): LanMessage {
    return { kind: 'beat', from: this.#state.selfId, nick: this.#state.nick, room: this.#state.room, seq: 0 };
  }

  #checkOpen(what: string): void {
    if (this.#closing !== undefined) throw new InvalidStateError(`LAN chat node ${this.#state.nick}: ${what}() after close(); the node is closed`);
  }

  // A node nobody watches for errors must not crash the process over a lost heartbeat or a stray
  // datagram: 'error' without a listener would throw (from a timer, as an unhandled rejection).
  #report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #onDatagram(datagram: Buffer): void {
    if (this.#closing !== undefined) return;
    if (this.#filter && !this.#filter(datagram)) return;
    let msg;
    try {
      msg = decodeLanMessage(datagram);
    } catch (err) {
      if (isSockitError(err)) this.#report(err);
      return;
    }
    if (!msg) return;
    // A newcomer learns who is around from our answer now instead of waiting for our next beat.
    if (msg.kind === 'hello' && msg.from !== this.#state.selfId) void this.#announce('beat');
    this.#emitAll(this.#state.receive(performance.now(), msg));
    this.#schedule();
  }

  #emitAll(events: LanEvent[]): void {
    for (const event of events) this.emit('event', event);
  }

  #schedule(): void {
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = undefined;
    const at = this.#state.nextDeadline();
    if (at === undefined || this.#closing !== undefined) return;
    this.#deadline = setTimeout(() => {
      this.#deadline = undefined;
      this.#emitAll(this.#state.tick(performance.now()));
      this.#schedule();
    }, Math.max(0, at - performance.now()));
    this.#deadline.unref();
  }
}

interface Route {
  mode: 'multicast' | 'broadcast';
  destination: { address: string; port: number };
}

/** Joins `group` on `endpoint`, or sets it up for broadcast when multicast fails or was not wanted. */
function reachGroup(endpoint: UdpEndpoint, group: { address: string; port: number }, options: LanChatOptions): Route {
  if (options.broadcastAddress === undefined) {
    try {
      endpoint.joinGroup(group.address, options.iface);
      endpoint.setMulticastLoopback(true);
      endpoint.setMulticastTTL(1);
      if (options.iface !== undefined) endpoint.setMulticastInterface(options.iface);
      return { mode: 'multicast', destination: group };
    } catch {
      // No multicast route: every host on the segment still hears a broadcast.
    }
  }
  endpoint.setBroadcast(true);
  return { mode: 'broadcast', destination: { address: options.broadcastAddress ?? '255.255.255.255', port: group.port } };
}
