/**
 * The terminal side of LAN chat: commands typed at a {@link ChatTerminal} drive a
 * {@link LanChatNode}, and its events are printed in the TCP chat's line style.
 */
import { ChatCodes, isSockitError } from '../errors.js';
import type { ChatTerminal } from './chat-terminal.js';
import type { LanChatNode } from './lan-chat.js';
import { escapeControls } from './protocol/chat-text.js';
import { parseChatInput } from './protocol/chat-command.js';
import { formatLanEvent } from './protocol/lan-event-text.js';
import { normalizeRoomName } from './protocol/names.js';

const LAN_HELP = [
  '* LAN chat commands (no server: everyone on the group hears everything):',
  '*   /nick NAME     change your nick',
  '*   /join #room    move to a room',
  '*   /who           who is in your room',
  '*   /rooms         rooms with someone in them',
  '*   /me action     say what you do',
  '*   /quit          leave',
];

/** The prompt of a LAN chat terminal: the room lines typed go to (`#lobby> `). */
export function lanPrompt(room: string): string {
  return `${room}> `;
}

/**
 * Runs LAN chat on `terminal` until /quit or end of input; closes `node` (saying goodbye) at the end.
 * The node decides what may be sent (the rule its receivers apply); what it refuses (a line over
 * 510 bytes, a bad nick or room) is shown as one `! what (CODE)` line, like the chat server's, and
 * the session goes on. A line is shown as said, or a rename as done, once the node has sent it.
 */
export function runLanChatSession(node: LanChatNode, terminal: ChatTerminal): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const error = (message: string, code: string): void => terminal.print(`! ${message} (${code})`);
    const finish = (): void => {
      if (done) return;
      done = true;
      terminal.close();
      node.close().then(resolve, resolve);
    };
    const describe = (err: unknown): string => {
      if (isSockitError(err)) return `${err.message} (${err.code})`;
      return err instanceof Error ? err.message : String(err);
    };
    const attempt = (p: Promise<void>, onSent: () => void): void => {
      p.then(onSent, (err: unknown) => {
        if (isSockitError(err)) error(err.message, err.code);
        else terminal.notice(describe(err));
      });
    };

    node.on('event', (event) => {
      const line = formatLanEvent(event, node.room);
      if (line !== undefined) terminal.print(line);
    });
    node.on('error', (err: Error) => terminal.notice(describe(err)));

    terminal.on('end', finish);
    terminal.on('line', (raw: string) => {
      if (done || raw.trim() === '') return;
      const input = parseChatInput(raw);
      if (input.kind === 'unknown-command') return error(`unknown command /${escapeControls(input.name)}; /help lists commands`, ChatCodes.UNKNOWN_COMMAND);
      if (input.kind === 'text' || (input.kind === 'command' && input.name === 'me')) {
        const text = input.kind === 'text' ? input.text : input.arg;
        if (text === '') return error('usage: /me action', ChatCodes.UNKNOWN_COMMAND);
        const safe = escapeControls(text);
        // Room and nick as sent: a /join or /nick typed right after must not rewrite this line.
        const shown = input.kind === 'text' ? `[${node.room}] <${node.nick}> ${safe}` : `[${node.room}] * ${node.nick} ${safe}`;
        return attempt(input.kind === 'text' ? node.say(text) : node.act(text), () => terminal.print(shown));
      }
      switch (input.name) {
        case 'nick': {
          const nick = input.arg;
          return attempt(node.setNick(nick), () => terminal.print(`* you are now known as ${nick}`));
        }
        case 'join': {
          const room = normalizeRoomName(input.arg);
          return attempt(node.join(room), () => {
            terminal.setPrompt(lanPrompt(room));
            terminal.print(`* you now talk in ${room}`);
          });
        }
        case 'who': {
          const nicks = [node.nick, ...node.who().map((p) => p.nick)].sort();
          return terminal.print(`* ${node.room} (${nicks.length}): ${nicks.join(', ')}`);
        }
        case 'rooms': {
          const counts = new Map<string, number>([[node.room, 1]]);
          for (const p of node.peers()) counts.set(p.room, (counts.get(p.room) ?? 0) + 1);
          return terminal.print(`* rooms: ${[...counts].sort().map(([r, n]) => `${r} (${n})`).join(', ')}`);
        }
        case 'help':
          return LAN_HELP.forEach((line) => terminal.print(line));
        case 'quit':
          return finish();
        case 'pong':
          return;
        default:
          return error(`/${input.name} is not available in LAN chat; /help lists commands`, ChatCodes.UNKNOWN_COMMAND);
      }
    });
  });
}
