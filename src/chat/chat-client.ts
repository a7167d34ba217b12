/**
 * The terminal chat client over a stream connection (kernel TCP or RUDP): lines typed go to the
 * server, lines from the server are printed; the server's idle pings are answered silently.
 *
 * Writes respect backpressure: when the socket's buffer is full, reading input pauses until
 * 'drain', so piping a large file into `sockit chat` never buffers it all.
 */
import { ConnectionError, NetCodes, type SockitError } from '../errors.js';
import { fromNodeError } from '../io/node-errors.js';
import type { StreamSocket } from '../io/stream-transport.js';
import type { ChatTerminal } from './chat-terminal.js';
import { LineSplitter, type SplitEvent } from './protocol/line-splitter.js';

/** How a chat session ended. */
export type ChatClientEnd =
  | { readonly kind: 'quit' }
  | { readonly kind: 'server-closed' }
  | { readonly kind: 'lost'; readonly error: SockitError };

/** Options of {@link runChatClient}. */
export interface ChatClientOptions {
  /** Sent as `/nick NAME` first, so the server's nick question is answered. */
  nick?: string;
  /** Names the server in notices (`127.0.0.1:7000`). */
  server: string;
}

// Server lines are short; this only bounds memory against a hostile server.
const MAX_SERVER_LINE_BYTES = 64 * 1024;
const PING = /^\* PING (\S+)/;

/** Runs one chat session on `socket` until the user quits or the server goes away. */
export function runChatClient(socket: StreamSocket, terminal: ChatTerminal, options: ChatClientOptions): Promise<ChatClientEnd> {
  return new Promise((resolve) => {
    const splitter = new LineSplitter(MAX_SERVER_LINE_BYTES);
    let quitting = false;
    let finished = false;
    let failure: SockitError | undefined;
    let awaitingDrain = false;

    const send = (line: string): void => {
      if (!socket.writable) return;
      // Lines already read keep arriving after pause(): wait for one 'drain', not one per line.
      if (!socket.write(line + '\n') && !awaitingDrain) {
        awaitingDrain = true;
        terminal.pause();
        socket.once('drain', () => {
          awaitingDrain = false;
          terminal.resume();
        });
      }
    };
    const onServerLine = (event: SplitEvent): void => {
      if (event.kind === 'too-long') return terminal.print(`! (the server sent a line of ${event.lineBytes} bytes; not shown)`);
      const line = Buffer.from(event.bytes.buffer, event.bytes.byteOffset, event.bytes.byteLength).toString('utf8');
      const ping = PING.exec(line);
      if (ping) return send(`/pong ${ping[1]}`);
      terminal.print(line);
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      let end: ChatClientEnd;
      if (quitting) end = { kind: 'quit' };
      else if (failure) {
        terminal.notice(`connection to ${options.server} lost: ${failure.message}`, true);
        end = { kind: 'lost', error: failure };
      } else {
        terminal.notice(`the server ${options.server} closed the connection`, true);
        end = { kind: 'server-closed' };
      }
      terminal.close();
      socket.destroy();
      resolve(end);
    };

    socket.on('data', (chunk: Buffer) => splitter.push(chunk, onServerLine));
    socket.on('end', () => {
      splitter.end(onServerLine);
      finish();
    });
    socket.on('error', (err: Error) => {
      failure ??= fromNodeError(err, `chat with ${options.server}`);
    });
    socket.on('close', () => {
      if (!finished && !quitting && failure === undefined) {
        failure = new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', 'the connection closed');
      }
      finish();
    });
    terminal.on('line', (line: string) => {
      if (/^\/quit\b/i.test(line)) quitting = true;
      send(line);
    });
    terminal.on('end', () => {
      if (finished) return;
      // End of input (EOF, Ctrl-D, a script that ran out of lines): leave politely, keep printing
      // until the server closes.
      if (!quitting) {
        quitting = true;
        send('/quit');
      }
      if (socket.writable) socket.end();
    });
    if (options.nick !== undefined) send(`/nick ${options.nick}`);
  });
}
