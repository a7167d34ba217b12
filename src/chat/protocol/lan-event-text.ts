/**
 * How LAN chat events read on screen, in the same line style as the TCP chat server
 * (`[#room] <nick> text`, `* notice`), so one terminal client and one set of habits serve both.
 */
import { escapeControls } from './chat-text.js';
import type { LanEvent } from './lan-chat-state.js';
import { roomKey } from './names.js';

/** The line for `event` as seen from `currentRoom`, or undefined when it concerns another room. */
export function formatLanEvent(event: LanEvent, currentRoom: string): string | undefined {
  const here = (room: string): boolean => roomKey(room) === roomKey(currentRoom);
  switch (event.kind) {
    case 'message': {
      if (!here(event.room)) return undefined;
      const text = escapeControls(event.text);
      const late = event.late ? ' (late)' : '';
      return event.action ? `[${event.room}] * ${event.nick} ${text}${late}` : `[${event.room}] <${event.nick}> ${text}${late}`;
    }
    case 'joined':
      return here(event.room) ? `* ${event.nick} joined ${event.room}` : undefined;
    case 'left': {
      if (!here(event.room)) return undefined;
      const why = event.reason === 'timeout' ? ' (no heartbeat: timed out)' : event.reason === 'moved' ? ' (moved to another room)' : '';
      return `* ${event.nick} left ${event.room}${why}`;
    }
    case 'renamed':
      return here(event.room) ? `* ${event.from} is now known as ${event.to}` : undefined;
    case 'lost':
      return event.count === 1 ? `* 1 message from ${event.nick} was lost` : `* ${event.count} messages from ${event.nick} were lost`;
  }
}
