/**
 * The chat server's I/O driver: runs a {@link ChatHub} over stream sockets (kernel TCP or RUDP).
 *
 * What it adds to the pure hub:
 * - line splitting and UTF-8 (or GBK) decoding of what each client sends;
 * - output batching: every line for a connection within one event-loop turn goes out in one
 *   write, and a broadcast is encoded once for the whole room;
 * - a bounded send queue per client: a client that stops reading is dropped as soon as the bytes
 *   Node holds for it (what the kernel would not take) pass `maxSendQueueBytes`, so it never
 *   stalls anyone and never grows the server's memory (the flaw of `ncat --chat`);
 * - the once-a-second tick for idle pings, and graceful shutdown.
 */
import { performance } from 'node:perf_hooks';
import { ChatCodes } from '../errors.js';
import { textCodec, type TextCodec, type TextEncodingName } from '../services/text-encoding.js';
import type { BoundAddress, StreamSocket, StreamTransport } from '../io/stream-transport.js';
import { formatHostPort } from '../io/node-errors.js';
import { tcpTransport } from '../io/tcp-transport.js';
import { closeGracefully } from '../tcp/graceful-close.js';
import { ChatHub, type ChatHubOptions, type ChatSink } from './protocol/chat-hub.js';
import { LineSplitter, type SplitEvent } from './protocol/line-splitter.js';
import { decodeUtf8, LINE_END, MAX_LINE_BYTES } from './protocol/chat-text.js';

/** Options of a {@link ChatServer}: the hub's limits plus the I/O ones. */
export interface ChatServerOptions extends Partial<ChatHubOptions> {
  /** Charset clients speak; default utf8 (validated strictly). */
  encoding?: TextEncodingName;
  /** Longest line accepted, in bytes; default {@link MAX_LINE_BYTES} (RFC 2812's 510 + CR LF). */
  maxLineBytes?: number;
  /** Bytes that may wait for one client before it is dropped; default {@link DEFAULT_MAX_SEND_QUEUE_BYTES}. */
  maxSendQueueBytes?: number;
  /** One line per connection event (connect, drop, errors). */
  log?: (line: string) => void;
}

/** Default per-client send queue: 256 KiB, about 500 full-length lines a client may fall behind. */
export const DEFAULT_MAX_SEND_QUEUE_BYTES = 256 * 1024;

/** How long a closing connection may take to take its last lines before it is destroyed. */
const CLOSE_LINGER_MS = 2000;

/** How often idle clients are checked. */
const TICK_MS = 1000;

class ChatConnection {
  readonly socket: StreamSocket;
  readonly splitter: LineSplitter;
  readonly label: string;
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** The hub closed it: flush, then end. */
  closing = false;
  /** The socket is gone: write nothing more. */
  gone = false;

  constructor(socket: StreamSocket, maxLineBytes: number) {
    this.socket = socket;
    this.splitter = new LineSplitter(maxLineBytes);
    this.label = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
  }
}

/**
 * A chat server: give it accepted sockets with {@link ChatServer.handle}. It owns them from then on.
 * Use {@link listenChat} to also own the listening socket.
 */
export class ChatServer {
  readonly #hub: ChatHub<ChatConnection>;
  readonly #codec: TextCodec;
  readonly #strictUtf8: boolean;
  readonly #maxLineBytes: number;
  readonly #maxSendQueueBytes: number;
  readonly #log: (line: string) => void;
  readonly #connections = new Set<ChatConnection>();
  readonly #dirty = new Set<ChatConnection>();
  readonly #overflowed = new Set<ChatConnection>();
  #flushScheduled = false;
  #ticker: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ChatServerOptions = {}) {
    const { encoding = 'utf8', maxLineBytes = MAX_LINE_BYTES, maxSendQueueBytes = DEFAULT_MAX_SEND_QUEUE_BYTES, log = () => {}, ...hubOptions } = options;
    this.#codec = textCodec(encoding);
    this.#strictUtf8 = encoding === 'utf8';
    this.#maxLineBytes = maxLineBytes;
    this.#maxSendQueueBytes = maxSendQueueBytes;
    this.#log = log;
    this.#hub = new ChatHub(this.#sink(), hubOptions);
    if (this.#hub.options.idleTimeoutMs > 0) {
      this.#ticker = setInterval(() => this.#hub.tick(performance.now()), TICK_MS);
      this.#ticker.unref();
    }
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The hub's effective limits. */
  get options(): Readonly<ChatHubOptions> {
    return this.#hub.options;
  }

  /** Serves one accepted socket until it closes. */
  handle(socket: StreamSocket): void {
    const conn = new ChatConnection(socket, this.#maxLineBytes);
    this.#connections.add(conn);
    socket.setNoDelay(true);
    const onLine = (event: SplitEvent): void => this.#hub.receive(performance.now(), conn, this.#decode(event));
    socket.on('data', (chunk: Buffer) => {
      if (!conn.closing) conn.splitter.push(chunk, onLine);
    });
    socket.on('end', () => {
      // The peer half-closed (nc's ^D): its last unterminated line still counts, then it has quit.
      if (!conn.closing) conn.splitter.end(onLine);
      this.#hub.disconnect(conn, 'quit');
    });
    socket.on('error', (err: Error) => {
      this.#log(`chat: ${conn.label}: ${(err as { code?: string }).code ?? err.message}`);
    });
    socket.on('close', () => {
      conn.gone = true;
      this.#connections.delete(conn);
      this.#dirty.delete(conn);
      this.#overflowed.delete(conn);
      this.#hub.disconnect(conn, 'connection lost');
    });
    this.#hub.connect(performance.now(), conn);
  }

  /**
   * Graceful shutdown: every client is told and its connection ended; those still open after
   * `graceMs` are destroyed. Resolves when all are closed.
   */
  async close(graceMs = CLOSE_LINGER_MS): Promise<void> {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
    if (!this.#closed) {
      this.#closed = true;
      this.#hub.shutdown();
      this.#flush();
    }
    await closeGracefully(new Set([...this.#connections].map((conn) => conn.socket)), graceMs);
  }

  #decode(event: SplitEvent): Parameters<ChatHub<ChatConnection>['receive']>[2] {
    if (event.kind === 'too-long') return { kind: 'too-long', lineBytes: event.lineBytes, maxLineBytes: this.#maxLineBytes };
    if (!this.#strictUtf8) return { kind: 'text', text: this.#codec.decode(event.bytes) };
    const text = decodeUtf8(event.bytes);
    return text === undefined ? { kind: 'invalid-utf8' } : { kind: 'text', text };
  }

  #sink(): ChatSink<ChatConnection> {
    return {
      send: (to, line) => this.#enqueue(to, this.#codec.encode(line + LINE_END)),
      broadcast: (to, line) => {
        const bytes = this.#codec.encode(line + LINE_END);
        for (const conn of to) this.#enqueue(conn, bytes);
      },
      close: (conn, reason) => {
        if (conn.gone || conn.closing) return;
        conn.closing = true;
        if (reason !== 'quit' && reason !== 'connection lost') this.#log(`chat: ${conn.label}: closed (${reason})`);
        this.#dirty.add(conn);
        this.#scheduleFlush();
      },
    };
  }

  #enqueue(conn: ChatConnection, bytes: Buffer): void {
    if (conn.gone || conn.closing || this.#overflowed.has(conn)) return;
    conn.pending.push(bytes);
    conn.pendingBytes += bytes.length;
    this.#dirty.add(conn);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    do {
      // Members of one room usually wait for the very same buffers (that turn's broadcasts):
      // join them once and hand the same bytes to every socket, not one copy per member.
      let lastParts: Buffer[] = [];
      let lastJoined: Buffer | undefined;
      for (const conn of this.#dirty) {
        if (conn.gone) continue;
        if (conn.pendingBytes > 0) {
          let bytes: Buffer;
          if (conn.pending.length === 1) bytes = conn.pending[0]!;
          else if (lastJoined !== undefined && sameParts(conn.pending, lastParts)) bytes = lastJoined;
          else {
            bytes = Buffer.concat(conn.pending, conn.pendingBytes);
            lastParts = conn.pending;
            lastJoined = bytes;
          }
          conn.pending = [];
          conn.pendingBytes = 0;
          // write()'s false return is not waited for: a chat server must not let one slow reader
          // delay the others. Instead, what Node could not hand to the kernel (writableLength)
          // is bounded per client, below.
          conn.socket.write(bytes);
          if (conn.socket.writableLength > this.#maxSendQueueBytes) this.#overflowed.add(conn);
        }
        if (conn.closing) this.#end(conn);
      }
      this.#dirty.clear();
      // Dropping a client tells its rooms, which is more output (and may overflow another slow
      // client): repeat until calm.
      const dropped = [...this.#overflowed];
      this.#overflowed.clear();
      for (const conn of dropped) {
        this.#log(`chat: ${conn.label}: dropped: more than ${this.#maxSendQueueBytes} bytes waited for it (${ChatCodes.SEND_QUEUE_EXCEEDED})`);
        conn.gone = true;
        conn.socket.destroy();
        this.#hub.disconnect(conn, 'send queue exceeded');
      }
    } while (this.#dirty.size > 0);
  }

  #end(conn: ChatConnection): void {
    conn.socket.end();
    // A peer that never reads would keep the socket open forever after end(): give up on it.
    const timer = setTimeout(() => conn.socket.destroy(), CLOSE_LINGER_MS);
    timer.unref();
    conn.socket.once('close', () => clearTimeout(timer));
  }
}

/** True when `a` and `b` hold the same buffers (by identity) in the same order. */
function sameParts(a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Options of {@link listenChat}. */
export interface ListenChatOptions extends ChatServerOptions {
  /** Transport to listen on; default kernel TCP. */
  transport?: StreamTransport;
  /** Address to bind; default dual-stack any. */
  host?: string;
  /** Port; 0 picks a free one. */
  port: number;
}

/** A chat server that owns its listening socket. */
export interface RunningChatServer {
  readonly address: BoundAddress;
  readonly server: ChatServer;
  /** Stops accepting, tells clients, closes them (destroying those left after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/** Listens on `port` and serves chat on every accepted connection. */
export async function listenChat(options: ListenChatOptions): Promise<RunningChatServer> {
  const { transport = tcpTransport, host, port, ...serverOptions } = options;
  // The server first: bad options (an unknown encoding) must throw before a port is bound.
  const server = new ChatServer(serverOptions);
  const listener = await transport.listen(host === undefined ? { port } : { host, port }).catch(async (err: unknown) => {
    await server.close(0);
    throw err;
  });
  listener.on('connection', (socket: StreamSocket) => server.handle(socket));
  listener.on('error', (err: Error) => serverOptions.log?.(`chat: listener: ${err.message}`));
  return {
    address: listener.address,
    server,
    close: async (graceMs?: number) => {
      await Promise.all([listener.close(), server.close(graceMs)]);
    },
  };
}
