/**
 * Parses what a chat user typed: a text line or a `/command` (IRC client habit, RFC 1459 §4).
 *
 * `//text` sends `/text` as text, so a line may start with a slash.
 */

/** The commands the chat server understands. */
export const CHAT_COMMANDS = ['nick', 'join', 'part', 'rooms', 'who', 'msg', 'me', 'quit', 'help', 'pong'] as const;

/** One of {@link CHAT_COMMANDS}. */
export type ChatCommandName = (typeof CHAT_COMMANDS)[number];

/** A parsed input line. */
export type ChatInput =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'command'; readonly name: ChatCommandName; readonly arg: string }
  | { readonly kind: 'unknown-command'; readonly name: string };

/** Parses one line of input (already decoded; the line terminator removed). */
export function parseChatInput(line: string): ChatInput {
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  const space = line.indexOf(' ');
  const name = (space === -1 ? line.slice(1) : line.slice(1, space)).toLowerCase();
  const arg = space === -1 ? '' : line.slice(space + 1).trim();
  if ((CHAT_COMMANDS as readonly string[]).includes(name)) return { kind: 'command', name: name as ChatCommandName, arg };
  return { kind: 'unknown-command', name };
}

/** Splits `NICK rest of text` into its first word and the rest. */
export function splitFirstWord(arg: string): [string, string] {
  const space = arg.indexOf(' ');
  return space === -1 ? [arg, ''] : [arg.slice(0, space), arg.slice(space + 1).trim()];
}
