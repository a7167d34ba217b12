/**
 * Nick and room name rules.
 *
 * Read first: RFC 2812 §2.3.1 (nickname and channel grammar), RFC 1459 §2.2 (case-insensitive
 * comparison). sockit keeps the IRC nick alphabet so a nick is safe in any terminal and any log,
 * compares nicks and rooms ASCII-case-insensitively, and gives rooms a leading `#`.
 */

/** Longest nick, in characters (RFC 2812 §1.2.1 says 9; modern servers allow more). */
export const MAX_NICK_CHARS = 16;

/** Longest room name, including the `#`. */
export const MAX_ROOM_CHARS = 32;

// RFC 2812 §2.3.1: nickname = ( letter / special ) *( letter / digit / special / "-" ).
const NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;
const ROOM = /^#[A-Za-z0-9_.-]+$/;

/** Returns why `nick` is not acceptable, or undefined when it is. */
export function nickProblem(nick: string): string | undefined {
  if (nick.length === 0) return 'a nick cannot be empty';
  if (nick.length > MAX_NICK_CHARS) return `a nick has at most ${MAX_NICK_CHARS} characters`;
  if (!NICK.test(nick)) return 'a nick starts with a letter or one of _[]\\`^{|} and has only letters, digits and _-[]\\`^{|}';
  return undefined;
}

/** The key under which a nick is unique (ASCII case folded). */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

/** Adds the leading `#` a person may leave out (`/join dev` is `/join #dev`). */
export function normalizeRoomName(name: string): string {
  return name.startsWith('#') ? name : `#${name}`;
}

/** Returns why `room` (with its `#`) is not acceptable, or undefined when it is. */
export function roomProblem(room: string): string | undefined {
  if (room.length > MAX_ROOM_CHARS) return `a room name has at most ${MAX_ROOM_CHARS} characters`;
  if (!ROOM.test(room)) return 'a room name is # followed by letters, digits and _.-';
  return undefined;
}

/** The key under which a room is unique (ASCII case folded). */
export function roomKey(room: string): string {
  return room.toLowerCase();
}
