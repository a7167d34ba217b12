/**
 * The chat server's lines that a client acts on, written and read in one place so the hub and the
 * terminal client cannot drift apart.
 *
 * Read first: docs/chat.md (the line protocol: `* ` notices, `! message (CODE)` errors), RFC 2812
 * §3.1 (registration: the server confirms a nick, or refuses it with an error reply).
 */

/** `* you are NICK`: the server accepted the nick a connection registered with. */
export function registeredLine(nick: string): string {
  return `* you are ${nick}`;
}

/** `! message (CODE)`: an error for one client, with its stable code. */
export function errorLine(message: string, code: string): string {
  return `! ${message} (${code})`;
}

/** What a client can tell from one server line. */
export type ServerLine =
  | { readonly kind: 'registered'; readonly nick: string }
  | { readonly kind: 'error'; readonly message: string; readonly code: string }
  | { readonly kind: 'ping'; readonly token: string }
  | { readonly kind: 'other' };

// A nick never contains a space, so `* you are now known as X` and `* you are in no room` never match.
const REGISTERED = /^\* you are (\S+)$/;
const ERROR = /^! (.*) \((ERR_SOCKIT_[A-Z0-9_]+)\)$/;
const PING = /^\* PING (\S+)/;

/** Classifies one line the server sent (its terminator removed). */
export function parseServerLine(line: string): ServerLine {
  const registered = REGISTERED.exec(line);
  if (registered) return { kind: 'registered', nick: registered[1]! };
  const error = ERROR.exec(line);
  if (error) return { kind: 'error', message: error[1]!, code: error[2]! };
  const ping = PING.exec(line);
  if (ping) return { kind: 'ping', token: ping[1]! };
  return { kind: 'other' };
}
