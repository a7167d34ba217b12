/**
 * One nc-style session over a stream connection (TCP or RUDP): stdin → peer, peer → stdout, both
 * at once, with half-close done right.
 *
 * - At stdin EOF we flush and half-close (FIN: "I have no more data, but you may still send") and
 *   keep printing until the peer ends too — what `nc -N` does.
 * - The peer's FIN ends only its direction: piped stdin keeps flowing to it until stdin ends (as
 *   `nc` does). With `endWithPeer` (a person at a terminal, or `--keep-open` serving the next client)
 *   the peer's FIN ends the session: we half-close too.
 * - With raw framing bytes pass through as they come; with any other framing each stdin line is one
 *   message and each message received is printed on its own line.
 */
import type { SockitError } from '../errors.js';
import type { MessageConnection } from '../tcp/message-connection.js';
import type { MessageSettings } from './cli-options.js';
import { inputMessages } from './input-messages.js';
import type { InputReader } from './input-reader.js';
import type { OutputWriter } from './output-writer.js';
import { messageToTerminal, wireToTerminal } from './text-transcoder.js';

/** Options of {@link runStreamSession}. */
export interface StreamSessionOptions extends MessageSettings {
  /** End the session (half-close our side) as soon as the peer half-closes. */
  endWithPeer: boolean;
  /** Where warnings go (stderr). */
  warn?: (line: string) => void;
}

const NEWLINE = Buffer.from('\n');

/** Runs the session until both directions are done; rejects with the connection's error if it dies. */
export async function runStreamSession(conn: MessageConnection, input: InputReader, output: OutputWriter, options: StreamSessionOptions): Promise<void> {
  const framed = options.framing !== 'raw';
  const stopInput = new AbortController();

  const receiving = (async () => {
    const toTerminal = wireToTerminal(options.encoding);
    for await (const message of conn) {
      if (framed) await output.write(Buffer.concat([messageToTerminal(message, options.encoding), NEWLINE]));
      else await output.write(toTerminal.write(message));
    }
    if (!framed) await output.write(toTerminal.end());
  })();

  const sending = (async () => {
    const unit = framed ? 'lines' : 'chunks';
    for await (const message of inputMessages(input, { unit, encoding: options.encoding, maxFrameBytes: options.maxFrameBytes, ...(options.warn ? { warn: options.warn } : {}) }, stopInput.signal)) {
      if (!conn.send(message)) await conn.drained();
    }
    await conn.end();
  })();
  // A failure on the stdin side (a line over the limit, say) costs the connection, which also ends
  // the receiving loop: whichever direction fails first decides the error.
  sending.catch((err: SockitError) => conn.destroy(err));

  try {
    await receiving;
    if (options.endWithPeer) stopInput.abort();
    await sending;
    await closed(conn);
  } catch (err) {
    stopInput.abort();
    conn.destroy();
    throw conn.error ?? err;
  }
}

/** Resolves once the connection is fully closed (both FINs exchanged). */
function closed(conn: MessageConnection): Promise<void> {
  if (conn.closed) return conn.error ? Promise.reject(conn.error) : Promise.resolve();
  return new Promise((resolve, reject) => {
    conn.once('close', (err?: Error) => (err ? reject(err) : resolve()));
  });
}
