/**
 * The terminal chat client over a stream connection (kernel TCP or RUDP): lines typed go to the
 * server, lines from the server are printed; the server's idle pings are answered silently.
 *
 * Writes respect backpressure: when the socket's buffer is full, reading input pauses until
 * 'drain', so piping a large file into `sockit chat` never buffers it all.
 */
import { ChatCodes, ConnectionError, NetCodes, SockitError, type SockitErrorCode } from '../errors.js';
import { fromNodeError } from '../io/node-errors.js';
import type { StreamSocket } from '../io/stream-transport.js';
import type { ChatTerminal } from './chat-terminal.js';
import { LineSplitter, type SplitEvent } from './protocol/line-splitter.js';
import { parseServerLine } from './protocol/server-line.js';
import { textCodec, type TextEncodingName } from '../services/text-encoding.js';

/** How a chat session ended. */
export type ChatClientEnd =
  | { readonly kind: 'quit' }
  | { readonly kind: 'server-closed'; readonly error: ConnectionError }
  | { readonly kind: 'lost'; readonly error: SockitError }
  | { readonly kind: 'nick-refused'; readonly error: SockitError };

/** Options of {@link runChatClient}. */
export interface ChatClientOptions {
  /**
   * Sent as `/nick NAME` first, so the server's nick question is answered. When the terminal is
   * not interactive (a script), input waits until the server accepts the nick, and a refused nick
   * ends the session (`nick-refused`): no line of the script is ever taken as a nick.
   */
  nick?: string;
  /** Names the server in notices (`127.0.0.1:7000`). */
  server: string;
  /** Charset of the server's lines and ours (default utf8; gbk for a `--encoding gbk` server). */
  encoding?: TextEncodingName;
}

// Server lines are short; this only bounds memory against a hostile server.
const MAX_SERVER_LINE_BYTES = 64 * 1024;
// The server's answers to a nick that end a scripted session: nobody is there to choose another.
const NICK_REFUSALS: readonly SockitErrorCode[] = [ChatCodes.NICK_IN_USE, ChatCodes.BAD_NICK];

/** Runs one chat session on `socket` until the user quits or the server goes away. */
export function runChatClient(socket: StreamSocket, terminal: ChatTerminal, options: ChatClientOptions): Promise<ChatClientEnd> {
  return new Promise((resolve) => {
    const splitter = new LineSplitter(MAX_SERVER_LINE_BYTES);
    const codec = textCodec(options.encoding ?? 'utf8');
    let quitting = false;
    let finished = false;
    let failure: SockitError | undefined;
    let refusal: SockitError | undefined;
    let awaitingDrain = false;
    // A script's lines wait for the server's answer to --nick: sent at once, the next one would
    // be taken as the nick if the server refused it. A person at a terminal sees the refusal first.
    let registering = options.nick !== undefined && !terminal.interactive;
    const held: string[] = [];
    let inputEnded = false;

    const send = (line: string): void => {
      if (!socket.writable) return;
      // Lines already read keep arriving after pause(): wait for one 'drain', not one per line.
      if (!socket.write(codec.encode(line + '\n')) && !awaitingDrain) {
        awaitingDrain = true;
        terminal.pause();
        socket.once('drain', () => {
          awaitingDrain = false;
          if (!registering) terminal.resume();
        });
      }
    };
    const onInputLine = (line: string): void => {
      if (registering) {
        held.push(line);
        return;
      }
      if (/^\/quit\b/i.test(line)) quitting = true;
      send(line);
    };
    const onInputEnd = (): void => {
      if (finished) return;
      if (registering) {
        inputEnded = true;
        return;
      }
      // End of input (EOF, Ctrl-D, a script that ran out of lines): leave politely, keep printing
      // until the server closes.
      if (!quitting) {
        quitting = true;
        send('/quit');
      }
      if (socket.writable) socket.end();
    };
    const registered = (): void => {
      registering = false;
      for (const line of held.splice(0)) onInputLine(line);
      if (!awaitingDrain) terminal.resume();
      if (inputEnded) onInputEnd();
    };
    const onServerLine = (event: SplitEvent): void => {
      if (finished) return;
      if (event.kind === 'too-long') return terminal.print(`! (the server sent a line of ${event.lineBytes} bytes; not shown)`);
      const line = codec.decode(event.bytes);
      const parsed = parseServerLine(line);
      if (parsed.kind === 'ping') return send(`/pong ${parsed.token}`);
      if (registering && parsed.kind === 'error') {
        const code = NICK_REFUSALS.find((c) => c === parsed.code);
        if (code !== undefined) {
          refusal = new SockitError(code, `${options.server} refused --nick ${options.nick}: ${parsed.message}`);
          return finish();
        }
      }
      terminal.print(line);
      if (registering && parsed.kind === 'registered') registered();
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      let end: ChatClientEnd;
      let what = '';
      if (refusal) {
        end = { kind: 'nick-refused', error: refusal };
        what = refusal.message;
      } else if (quitting) end = { kind: 'quit' };
      else if (failure) {
        end = { kind: 'lost', error: failure };
        what = `connection to ${options.server} lost: ${failure.message}`;
      } else {
        what = `the server ${options.server} closed the connection`;
        end = { kind: 'server-closed', error: new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', what) };
      }
      // One line in the CLI's style, `sockit: <what happened> (<code>)`, on stderr.
      if (end.kind !== 'quit') terminal.notice(`${what} (${end.error.code})`, true);
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
    terminal.on('line', onInputLine);
    terminal.on('end', onInputEnd);
    if (options.nick !== undefined) send(`/nick ${options.nick}`);
    // Lines read before the answer only wait in memory; stop reading more until it comes.
    if (registering) terminal.pause();
  });
}
