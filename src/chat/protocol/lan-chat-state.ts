/**
 * Serverless LAN chat state: who is around (presence), which messages arrived (dedup), and which
 * never will (gaps), with no I/O.
 *
 * Read first: RFC 768 (UDP gives no delivery, order or uniqueness), RFC 3550 §A.1 (RTP's per-source
 * sequence tracking: expected vs. received, tolerance for reordering), RFC 3550 §6.2 (periodic
 * reports and the member timeout of several report intervals).
 *
 * Per sender the state keeps `next`, the lowest message number not yet accounted for; numbers
 * received above it; and holes, each with the time it was noticed. A hole that stays open for
 * `lossDelayMs` (reordering tolerance) is declared lost and reported once ("2 messages from alice
 * were lost"); one that fills in time is delivered normally; one that arrives after it was declared
 * lost is delivered marked late. A number already seen is a duplicate and suppressed. Time comes in
 * as `now`; the driver asks {@link LanChatState.nextDeadline} when to call {@link LanChatState.tick}.
 */
import type { Instant } from '../../core/time.js';
import { encodeLanMessage, isChatKind, lanMessageError, type LanKind, type LanMessage } from './lan-message.js';
import { roomKey } from './names.js';

/** What the display should show. */
export type LanEvent =
  | { readonly kind: 'message'; readonly nick: string; readonly room: string; readonly text: string; readonly action: boolean; readonly late: boolean }
  | { readonly kind: 'joined'; readonly nick: string; readonly room: string }
  | { readonly kind: 'left'; readonly nick: string; readonly room: string; readonly reason: 'bye' | 'timeout' | 'moved' }
  | { readonly kind: 'renamed'; readonly from: string; readonly to: string; readonly room: string }
  | { readonly kind: 'lost'; readonly nick: string; readonly count: number };

/** Timing of presence and loss detection. */
export interface LanChatTiming {
  /** How long a hole may stay open (reordering) before it is declared lost. */
  lossDelayMs: number;
  /** Silence after which a peer is considered gone (a few heartbeat intervals). */
  peerTimeoutMs: number;
}

/** Defaults: LAN reordering is sub-millisecond, so 500 ms is generous; peers beat every 2 s. */
export const DEFAULT_LAN_TIMING: LanChatTiming = { lossDelayMs: 500, peerTimeoutMs: 7000 };

/** A gap larger than this is reported at once as a count instead of being tracked hole by hole. */
const MAX_TRACKED_HOLES = 1024;

/** Message numbers declared lost that are remembered, to recognise a late arrival. */
const MAX_REMEMBERED_LOST = 1024;

interface Peer {
  readonly id: string;
  nick: string;
  room: string;
  lastSeenAt: Instant;
  /** Lowest message number not yet received or declared lost. */
  next: number;
  /** Highest message number known to exist (received or announced by a heartbeat). */
  highest: number;
  /** Received numbers above `next`. */
  readonly ahead: Set<number>;
  /** Missing numbers between `next` and `highest`, with the time each was noticed. */
  readonly holes: Map<number, Instant>;
  /** Numbers declared lost, oldest first, to mark a late arrival rather than drop it. */
  readonly lost: Set<number>;
}

/** A peer as `/who` shows it. */
export interface LanPeer {
  readonly id: string;
  readonly nick: string;
  readonly room: string;
}

/** The state of one LAN chat instance. */
export class LanChatState {
  readonly selfId: string;
  nick: string;
  room: string;
  readonly timing: LanChatTiming;
  #lastSeq = 0;
  readonly #peers = new Map<string, Peer>();

  constructor(selfId: string, nick: string, room: string, timing: Partial<LanChatTiming> = {}) {
    this.selfId = selfId;
    this.nick = nick;
    this.room = room;
    this.timing = { ...DEFAULT_LAN_TIMING, ...timing };
  }

  /**
   * The next message to send: a message (`msg`/`me`, numbered) or presence (carrying the last
   * number). Throws the error of {@link lanMessageError} for a message the others would reject,
   * without using up its number (a number used up and never sent would reach them as a loss).
   * Whether it fits one datagram is known only once encoded: {@link composeDatagram} checks both.
   */
  compose(kind: LanKind, text?: string): LanMessage {
    const msg = this.#next(kind, text);
    const refused = lanMessageError(msg);
    if (refused !== undefined) throw refused;
    this.#lastSeq = msg.seq;
    return msg;
  }

  /**
   * {@link compose}, encoded: throws what {@link encodeLanMessage} throws (a message the others
   * would reject, or one too big for a datagram) and only then uses up the message's number.
   */
  composeDatagram(kind: LanKind, text?: string): Uint8Array {
    const msg = this.#next(kind, text);
    const bytes = encodeLanMessage(msg);
    this.#lastSeq = msg.seq;
    return bytes;
  }

  #next(kind: LanKind, text: string | undefined): LanMessage {
    const base = { kind, from: this.selfId, nick: this.nick, room: this.room };
    if (isChatKind(kind)) return { ...base, seq: this.#lastSeq + 1, text: text ?? '' };
    return { ...base, seq: this.#lastSeq };
  }

  /** Peers heard from recently (optionally only those in `room`), sorted by nick. */
  peers(room?: string): LanPeer[] {
    const out: LanPeer[] = [];
    for (const p of this.#peers.values()) {
      if (room === undefined || roomKey(p.room) === roomKey(room)) out.push({ id: p.id, nick: p.nick, room: p.room });
    }
    return out.sort((a, b) => (a.nick < b.nick ? -1 : a.nick > b.nick ? 1 : 0));
  }

  /** One datagram from the group (already decoded). Own datagrams (multicast loopback) are ignored. */
  receive(now: Instant, msg: LanMessage): LanEvent[] {
    if (msg.from === this.selfId) return [];
    const events: LanEvent[] = [];
    let peer = this.#peers.get(msg.from);
    if (msg.kind === 'bye') {
      if (peer) {
        this.#peers.delete(peer.id);
        events.push(...this.#declareLost(peer, Number.POSITIVE_INFINITY));
        events.push({ kind: 'left', nick: peer.nick, room: peer.room, reason: 'bye' });
      }
      return events;
    }
    if (!peer) {
      // First contact: numbering starts here. Earlier messages were sent before we listened.
      const chat = isChatKind(msg.kind);
      peer = {
        id: msg.from,
        nick: msg.nick,
        room: msg.room,
        lastSeenAt: now,
        next: chat ? msg.seq : msg.seq + 1,
        highest: chat ? msg.seq - 1 : msg.seq,
        ahead: new Set(),
        holes: new Map(),
        lost: new Set(),
      };
      this.#peers.set(peer.id, peer);
      events.push({ kind: 'joined', nick: peer.nick, room: peer.room });
    } else {
      peer.lastSeenAt = now;
      if (peer.nick !== msg.nick) {
        events.push({ kind: 'renamed', from: peer.nick, to: msg.nick, room: msg.room });
        peer.nick = msg.nick;
      }
      if (roomKey(peer.room) !== roomKey(msg.room)) {
        events.push({ kind: 'left', nick: peer.nick, room: peer.room, reason: 'moved' });
        events.push({ kind: 'joined', nick: peer.nick, room: msg.room });
      }
      peer.room = msg.room;
    }
    if (isChatKind(msg.kind)) {
      const fresh = this.#accept(now, peer, msg.seq, events);
      if (fresh !== 'duplicate') {
        events.push({ kind: 'message', nick: msg.nick, room: msg.room, text: msg.text ?? '', action: msg.kind === 'me', late: fresh === 'late' });
      }
    } else {
      // A heartbeat names the last message sent: any number up to it we lack is a hole.
      this.#announce(now, peer, msg.seq, events);
    }
    return events;
  }

  /** Declares overdue holes lost and forgets silent peers. Call at {@link nextDeadline} (or any time). */
  tick(now: Instant): LanEvent[] {
    const events: LanEvent[] = [];
    for (const peer of [...this.#peers.values()]) {
      if (now - peer.lastSeenAt >= this.timing.peerTimeoutMs) {
        this.#peers.delete(peer.id);
        events.push(...this.#declareLost(peer, Number.POSITIVE_INFINITY));
        events.push({ kind: 'left', nick: peer.nick, room: peer.room, reason: 'timeout' });
        continue;
      }
      events.push(...this.#declareLost(peer, now - this.timing.lossDelayMs));
    }
    return events;
  }

  /** When {@link tick} next has something to do, or undefined when nothing is pending. */
  nextDeadline(): Instant | undefined {
    let soonest: Instant | undefined;
    for (const peer of this.#peers.values()) {
      let at = peer.lastSeenAt + this.timing.peerTimeoutMs;
      for (const noticedAt of peer.holes.values()) at = Math.min(at, noticedAt + this.timing.lossDelayMs);
      soonest = soonest === undefined ? at : Math.min(soonest, at);
    }
    return soonest;
  }

  #accept(now: Instant, peer: Peer, seq: number, events: LanEvent[]): 'new' | 'late' | 'duplicate' {
    if (seq < peer.next) {
      if (!peer.lost.delete(seq)) return 'duplicate';
      return 'late';
    }
    if (peer.ahead.has(seq)) return 'duplicate';
    if (seq > peer.highest) this.#announce(now, peer, seq - 1, events);
    peer.highest = Math.max(peer.highest, seq);
    peer.holes.delete(seq);
    peer.ahead.add(seq);
    this.#advance(peer);
    return 'new';
  }

  /** Records that numbers up to `last` exist; those not received become holes noticed at `now`. */
  #announce(now: Instant, peer: Peer, last: number, events: LanEvent[]): void {
    if (last <= peer.highest) return;
    const gap = last - peer.highest;
    if (gap > MAX_TRACKED_HOLES) {
      // Too many to track one by one (a long outage): report them now and move on.
      events.push(...this.#declareLost(peer, Number.POSITIVE_INFINITY));
      events.push({ kind: 'lost', nick: peer.nick, count: gap });
      peer.next = last + 1;
      peer.highest = last;
      peer.ahead.clear();
      return;
    }
    for (let q = peer.highest + 1; q <= last; q++) peer.holes.set(q, now);
    peer.highest = last;
  }

  /** Declares lost every hole noticed at or before `noticedBy`; returns the report (if any). */
  #declareLost(peer: Peer, noticedBy: Instant): LanEvent[] {
    let count = 0;
    for (const [seq, noticedAt] of peer.holes) {
      if (noticedAt > noticedBy) continue;
      peer.holes.delete(seq);
      peer.lost.add(seq);
      count++;
    }
    while (peer.lost.size > MAX_REMEMBERED_LOST) peer.lost.delete(peer.lost.values().next().value!);
    this.#advance(peer);
    return count > 0 ? [{ kind: 'lost', nick: peer.nick, count }] : [];
  }

  /** Moves `next` past every number received or declared lost. */
  #advance(peer: Peer): void {
    while (peer.next <= peer.highest && !peer.holes.has(peer.next)) {
      peer.ahead.delete(peer.next);
      peer.next++;
    }
  }
}
