/**
 * A framed message connection over any {@link StreamSocket} (kernel TCP or RUDP).
 *
 * Read first: RFC 9293 §3.6 (closing a connection; half-close) and Node's net/stream docs on
 * `allowHalfOpen`, `write()`/'drain' and `pause()`/`resume()`.
 *
 * - Receiving: every chunk goes through the framing's streaming decoder; each whole message is
 *   delivered (in order of priority) to a pending {@link MessageConnection.request}, to the active
 *   async iterator, or to `'message'` listeners. Messages nobody takes yet wait in a bounded inbox:
 *   each costs its length plus {@link INBOX_MESSAGE_OVERHEAD_BYTES}, so empty frames count too, and
 *   above `readHighWaterMarkBytes` the socket is paused and the rest of the chunk kept undecoded, so
 *   a slow consumer never makes us buffer without bound. Small queued frames are copied out of the
 *   socket's chunk (a 10-byte message must not pin a 64 KiB chunk); frames taken at once stay
 *   zero-copy. A decoder error (oversized or malformed frame) destroys only this connection,
 *   after writing what was sent before it (the replies to the valid messages that preceded it).
 * - Sending: {@link MessageConnection.send} copies each encoded message into one batch buffer that
 *   is written once per tick (or when it fills), so one call per message is as fast as hand-written
 *   batching. Large messages are not copied: the socket is corked until the end of the tick, so the
 *   batch, each header and each payload leave in one writev. `send` returns false above
 *   `highWaterMarkBytes`; await {@link MessageConnection.drained}.
 * - Half-close: the peer's FIN ends iteration and emits `'end'`, but we may still send a reply;
 *   {@link MessageConnection.end} flushes, half-closes our side and keeps receiving.
 */
import { EventEmitter } from 'node:events';
import { InvalidStateError, NetCodes, ConnectionError, TimeoutError, type SockitError } from '../errors.js';
import type { FrameDecoder, Framing, FramingName } from '../framing/types.js';
import { getFraming, DEFAULT_MAX_FRAME_BYTES } from '../framing/index.js';
import type { StreamSocket } from '../io/stream-transport.js';
import { fromNodeError, formatPeer } from '../io/node-errors.js';
import { textCodec, type TextCodec, type TextEncodingName } from '../services/text-encoding.js';
import { IdleTimer } from './idle-timer.js';

/** Default bound on bytes queued for sending before {@link MessageConnection.send} returns false. */
export const DEFAULT_HIGH_WATER_MARK_BYTES = 256 * 1024;

/** Default bound on received-but-unconsumed message bytes before reading is paused. */
export const DEFAULT_READ_HIGH_WATER_MARK_BYTES = 256 * 1024;

/**
 * What each message waiting in the inbox counts against `readHighWaterMarkBytes` on top of its
 * length: roughly the memory of a Buffer object and its inbox slot. Without it a peer streaming
 * empty frames would grow the inbox without bound while its byte count stays 0.
 */
export const INBOX_MESSAGE_OVERHEAD_BYTES = 64;

// One write per batch: big enough to amortise the per-write cost, small enough to stay in cache.
const BATCH_BYTES = 64 * 1024;
// Messages at least this large are written as their own pieces instead of being copied.
const DIRECT_WRITE_BYTES = 16 * 1024;
// Messages below this size take the fast path (their framing overhead is known in advance).
const SMALL_MESSAGE_BYTES = 4 * 1024;
// Queued frames below this size are copied out of the socket's chunk so they do not keep it alive.
const COPY_QUEUED_BELOW_BYTES = 4 * 1024;
// While frames queue instead of being taken at once, chunks are decoded in slices of this size so
// that decoding can stop soon after the inbox fills (a 64 KiB chunk may hold 65,536 empty lines).
const DECODE_SLICE_BYTES = 16 * 1024;

/** Options of a {@link MessageConnection}. */
export interface MessageConnectionOptions {
  /** How messages are cut from the byte stream: a framing name or a {@link Framing} object. */
  framing: Framing | FramingName;
  /** Largest message accepted from the peer; default 16 MiB. */
  maxFrameBytes?: number;
  /** Charset used to encode string messages given to `send`/`request`; default utf8. */
  encoding?: TextEncodingName;
  /** Destroy the connection with TimeoutError (phase `idle`) after this long without traffic. */
  idleTimeoutMs?: number;
  /** `send` returns false once this many bytes wait to be sent; default 256 KiB. */
  highWaterMarkBytes?: number;
  /**
   * Reading pauses once received messages waiting for a consumer cost this much: their bytes plus
   * {@link INBOX_MESSAGE_OVERHEAD_BYTES} each; default 256 KiB.
   */
  readHighWaterMarkBytes?: number;
  /** Disable Nagle's algorithm (request/reply and chat want it); default true. */
  noDelay?: boolean;
}

/** Options of {@link MessageConnection.request}. */
export interface RequestOptions {
  /** Give up waiting for the reply after this long: TimeoutError phase `reply`, connection destroyed. */
  timeoutMs?: number;
}

interface PendingRequest {
  resolve(reply: Buffer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** Resolves a framing given by name or object. */
export function resolveFraming(framing: Framing | FramingName): Framing {
  return typeof framing === 'string' ? getFraming(framing) : framing;
}

/** The codecs a connection is built from; throws for bad options (unknown framing, bad limit, unknown charset). */
function createCodecs(options: MessageConnectionOptions): { framing: Framing; decoder: FrameDecoder; codec: TextCodec } {
  const framing = resolveFraming(options.framing);
  const decoder = framing.createDecoder({ maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
  return { framing, decoder, codec: textCodec(options.encoding ?? 'utf8') };
}

/**
 * Throws the SockitError `new MessageConnection(socket, options)` would throw for these options,
 * so a server can refuse bad options before it binds instead of failing every connection.
 */
export function checkMessageConnectionOptions(options: MessageConnectionOptions): void {
  createCodecs(options);
}

/** The events of a {@link MessageConnection} and their arguments. */
export interface MessageConnectionEvents {
  message: [message: Buffer];
  end: [];
  drain: [];
  error: [err: SockitError];
  close: [err?: SockitError];
}

/**
 * A message-oriented connection: send messages, receive messages, request/reply, half-close.
 *
 * Events: `'message'` (Buffer), `'end'` (peer half-closed; every message before it was delivered),
 * `'drain'` (buffered bytes fell below the high-water mark after `send` returned false), `'error'`
 * (only emitted when someone listens; the error is also given to `'close'`, rejects the iterator,
 * pending requests and `drained()`, and stays readable as {@link MessageConnection.error}), and
 * `'close'` (`(err?: SockitError)`, once, when the socket is gone).
 *
 * Received messages may share memory with the socket's chunks; copy one if you keep it and the
 * source may be reused (sockit's own code never reuses a delivered chunk).
 */
export class MessageConnection extends EventEmitter<MessageConnectionEvents> {
  readonly #socket: StreamSocket;
  readonly #framing: Framing;
  readonly #decoder: FrameDecoder;
  readonly #codec: TextCodec;
  readonly #highWaterMarkBytes: number;
  readonly #readHighWaterMarkBytes: number;
  readonly #idle: IdleTimer | undefined;
  readonly #where: string;
  /** Remote address as the socket reported it when the connection was made. */
  readonly remoteAddress: string | undefined;
  /** Remote port as the socket reported it when the connection was made. */
  readonly remotePort: number | undefined;

  #batch: Buffer | undefined;
  #batchUsed = 0;
  #flushScheduled = false;
  /** True while the socket is corked for large messages, until the tick's flush uncorks it. */
  #corked = false;
  #needDrain = false;
  #drainWaiters: Waiter[] = [];

  readonly #inbox: Buffer[] = [];
  #inboxHead = 0;
  #inboxBytes = 0;
  #userPaused = false;
  #socketPaused = false;
  /** The undecoded rest of a chunk, kept while the inbox is full (the socket is paused meanwhile). */
  #undecoded: Buffer | undefined;
  #undecodedScheduled = false;
  #iterating = false;
  #iterWaiter: { resolve(r: IteratorResult<Buffer>): void; reject(err: Error): void } | undefined;
  #delivering = false;
  readonly #requests: PendingRequest[] = [];

  #peerEnded = false;
  // destroy() was called: nothing more is delivered, even frames already decoded from the last read.
  #destroyed = false;
  #endEmitted = false;
  #ending = false;
  /** Set by end(), destroy() and close: no more send(). */
  #sendClosed = false;
  #socketQueuedBytes = 0;
  /** Framing overhead (header, terminator) of any message under SMALL_MESSAGE_BYTES: an upper bound. */
  readonly #smallOverheadBytes: number;
  #endPromise: Promise<void> | undefined;
  #closed = false;
  #error: SockitError | undefined;

  /** Wraps `socket` (which must be connected, half-open capable) using `options.framing`. */
  constructor(socket: StreamSocket, options: MessageConnectionOptions) {
    super();
    this.#socket = socket;
    const { framing, decoder, codec } = createCodecs(options);
    this.#framing = framing;
    this.#decoder = decoder;
    this.#codec = codec;
    // Headers grow with the length (varint), so the overhead at the fast path's limit bounds all below it.
    this.#smallOverheadBytes = framing.encodedLength(SMALL_MESSAGE_BYTES) - SMALL_MESSAGE_BYTES;
    this.#highWaterMarkBytes = options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES;
    this.#readHighWaterMarkBytes = options.readHighWaterMarkBytes ?? DEFAULT_READ_HIGH_WATER_MARK_BYTES;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.#where = `connection with ${formatPeer(socket.remoteAddress, socket.remotePort)}`;
    if (options.noDelay ?? true) socket.setNoDelay(true);
    if (options.idleTimeoutMs !== undefined && options.idleTimeoutMs > 0) {
      const ms = options.idleTimeoutMs;
      this.#idle = new IdleTimer(ms, () => this.destroy(new TimeoutError('idle', ms, `${this.#where}: no traffic for ${ms} ms`)));
    }

    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onPeerEnd());
    socket.on('drain', () => this.#checkDrain());
    socket.on('error', (err: Error) => {
      this.#error ??= fromNodeError(err, this.#where);
    });
    socket.on('close', () => this.#onClose());
    // Messages that arrived before anyone listened wait in the inbox; the first listener gets them.
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'message') queueMicrotask(() => this.#deliverInbox());
    });
    if (socket.destroyed) queueMicrotask(() => this.#onClose());
  }

  /** The underlying socket (for address details; do not read from or write to it directly). */
  get socket(): StreamSocket {
    return this.#socket;
  }

  /** The framing in use. */
  get framing(): Framing {
    return this.#framing;
  }

  /** The error the connection died of, if it did. */
  get error(): SockitError | undefined {
    return this.#error;
  }

  /** True once the socket is closed (or being destroyed). */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /** True once the peer half-closed (its FIN arrived). */
  get peerEnded(): boolean {
    return this.#peerEnded;
  }

  /** True once {@link MessageConnection.end} was called. */
  get ending(): boolean {
    return this.#ending;
  }

  /** Bytes accepted by `send` and not yet handed to the kernel (our batch plus the socket's queue). */
  get bufferedBytes(): number {
    return this.#batchUsed + this.#socket.writableLength;
  }

  /** Received message bytes waiting for a consumer. */
  get inboxBytes(): number {
    return this.#inboxBytes;
  }

  /** Received messages waiting for a consumer. */
  get inboxMessages(): number {
    return this.#inbox.length - this.#inboxHead;
  }

  /**
   * Queues one message (a string is encoded in the connection's charset). Messages sent in one
   * tick are written together. Returns false when buffered bytes exceed the high-water mark: stop
   * and `await drained()`. Throws InvalidStateError after `end()`/`destroy()`, and
   * LimitExceededError when the framing cannot carry the message (len16 over 65,535 bytes).
   * Messages of 16 KiB or more are queued without copying: do not modify such a buffer after sending it.
   */
  send(msg: Uint8Array | string): boolean {
    if (this.#sendClosed) {
      throw new InvalidStateError(`${this.#where}: cannot send after ${this.#ending ? 'end()' : 'close'}`);
    }
    const payload = typeof msg === 'string' ? this.#codec.encode(msg) : msg;
    const framing = this.#framing;
    const batch = this.#batch;
    // The common case, a small message with room left in the batch, costs one encodeInto call.
    if (batch !== undefined && payload.byteLength < SMALL_MESSAGE_BYTES && this.#batchUsed + payload.byteLength + this.#smallOverheadBytes <= batch.length) {
      this.#batchUsed += framing.encodeInto(batch, this.#batchUsed, payload);
      return this.#afterSend();
    }
    const total = framing.encodedLength(payload.byteLength);
    if (total >= DIRECT_WRITE_BYTES) {
      const pieces = framing.encode(payload);
      // Corked, the batch before it, the header and the payload (and whatever else this tick sends)
      // go out in one writev instead of a small header packet and a syscall each; the tick's flush uncorks.
      if (!this.#corked) {
        this.#corked = true;
        this.#socket.cork();
      }
      this.#flush();
      for (const piece of pieces) this.#socket.write(piece);
      this.#socketQueuedBytes = this.#socket.writableLength;
    } else {
      let target = batch;
      if (target === undefined || this.#batchUsed + total > target.length) {
        this.#flush();
        target = this.#batch = Buffer.allocUnsafe(BATCH_BYTES);
      }
      this.#batchUsed += framing.encodeInto(target, this.#batchUsed, payload);
    }
    return this.#afterSend();
  }

  #afterSend(): boolean {
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flushOnTick);
    }
    if (this.#idle) this.#idle.touch();
    // The socket's queue length as of our last write: it only shrinks in between, so this errs
    // towards "wait", and drained() then looks at the real figure.
    if (this.#batchUsed + this.#socketQueuedBytes > this.#highWaterMarkBytes) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Resolves when buffered bytes are at or below the high-water mark (at once if they already
   * are). Rejects if the connection dies first.
   */
  drained(): Promise<void> {
    if (this.closed) return Promise.reject(this.#closedError());
    this.#socketQueuedBytes = this.#socket.writableLength;
    if (this.bufferedBytes <= this.#highWaterMarkBytes) return Promise.resolve();
    this.#needDrain = true;
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /**
   * Sends `msg` and resolves with the next message received (replies are matched in order: the
   * first message to arrive goes to the oldest pending request). A reply timeout destroys the
   * connection, since later replies could no longer be matched.
   */
  request(msg: Uint8Array | string, options: RequestOptions = {}): Promise<Buffer> {
    // After the peer's FIN (or the end of the connection) no reply can come: say so at once.
    if (this.#peerEnded || this.closed || this.#destroyed) {
      return Promise.reject(this.#error ?? new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', `${this.#where}: the peer has closed its side; no reply can come`));
    }
    return new Promise<Buffer>((resolve, reject) => {
      const pending: PendingRequest = { resolve, reject, timer: undefined };
      this.send(msg);
      this.#requests.push(pending);
      const ms = options.timeoutMs;
      if (ms !== undefined && ms > 0) {
        pending.timer = setTimeout(() => {
          this.destroy(new TimeoutError('reply', ms, `${this.#where}: no reply within ${ms} ms`));
        }, ms);
      }
      this.#updateFlow();
    });
  }

  /** Stops delivering `'message'` events and, once the inbox fills, stops reading the socket. */
  pause(): this {
    this.#userPaused = true;
    return this;
  }

  /** Resumes delivery after {@link MessageConnection.pause}. */
  resume(): this {
    if (!this.#userPaused) return this;
    this.#userPaused = false;
    queueMicrotask(() => this.#deliverInbox());
    return this;
  }

  /**
   * Flushes everything sent, then half-closes our side (FIN). Receiving continues until the peer
   * ends too. Resolves once our FIN is handed to the transport; idempotent.
   */
  end(): Promise<void> {
    if (this.#endPromise) return this.#endPromise;
    this.#ending = true;
    this.#sendClosed = true;
    if (this.closed) {
      this.#endPromise = this.#error ? Promise.reject(this.#error) : Promise.resolve();
      return this.#endPromise;
    }
    this.#flush();
    this.#uncork();
    this.#endPromise = new Promise<void>((resolve, reject) => {
      const onFinish = (): void => {
        this.#socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.#socket.off('finish', onFinish);
        if (this.#socket.writableFinished) resolve();
        else reject(this.#closedError());
      };
      this.#socket.once('finish', onFinish);
      this.#socket.once('close', onClose);
      this.#socket.end();
    });
    // Callers that fire and forget end() must not see an unhandled rejection.
    this.#endPromise.catch(() => undefined);
    return this.#endPromise;
  }

  /** Closes the connection at once (unsent bytes are dropped). `err` becomes the connection's error. */
  destroy(err?: SockitError): void {
    if (err && !this.#error) this.#error = err;
    this.#destroyed = true;
    this.#sendClosed = true;
    if (this.#socket.destroyed) {
      if (!this.#closed) queueMicrotask(() => this.#onClose());
      return;
    }
    this.#socket.destroy();
  }

  /**
   * Iterates over received messages until the peer half-closes. Breaking out of the loop does not
   * close the connection (unlike iterating a net.Socket): you may still send and end. One iterator
   * at a time. Rejects with the connection's error if it dies of one.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#iterating) throw new InvalidStateError(`${this.#where}: already being iterated`);
    this.#iterating = true;
    this.#updateFlow();
    const done = (): IteratorResult<Buffer> => ({ value: undefined, done: true });
    return {
      next: () => {
        if (!this.#iterating) return Promise.resolve(done());
        const msg = this.#shiftInbox();
        if (msg) return Promise.resolve({ value: msg, done: false });
        if (this.#peerEnded || this.closed) {
          this.#iterating = false;
          this.#maybeEmitEnd();
          if (this.#error) return Promise.reject(this.#error);
          return Promise.resolve(done());
        }
        return new Promise((resolve, reject) => {
          this.#iterWaiter = { resolve, reject };
        });
      },
      return: () => {
        this.#iterating = false;
        this.#iterWaiter = undefined;
        this.#updateFlow();
        // Messages queued for the loop now go to 'message' listeners, if there are any.
        queueMicrotask(() => this.#deliverInbox());
        return Promise.resolve(done());
      },
    };
  }

  // ---- receiving ----

  #onData(chunk: Buffer): void {
    this.#idle?.touch();
    const kept = this.#undecoded;
    if (kept === undefined) {
      this.#decode(chunk);
    } else {
      // Only a transport that emits data after pause() gets here: keep the order, decode later.
      this.#undecoded = Buffer.concat([kept, chunk]);
    }
  }

  /**
   * Decodes `chunk`. While 'message' listeners take every frame at once it goes to the decoder
   * whole; otherwise in slices, and once the inbox is full the rest is kept in `#undecoded` (the
   * socket stays paused) until the consumer has drained the inbox to half the mark.
   */
  #decode(chunk: Buffer): void {
    let pos = 0;
    try {
      while (pos < chunk.length && !this.#socket.destroyed) {
        if (this.#inboxFull()) {
          this.#undecoded = chunk.subarray(pos);
          this.#updateFlow();
          return;
        }
        const end = this.#flowingToListeners() ? chunk.length : Math.min(chunk.length, pos + DECODE_SLICE_BYTES);
        this.#decoder.push(pos === 0 && end === chunk.length ? chunk : chunk.subarray(pos, end), this.#onFrame);
        pos = end;
      }
    } catch (err) {
      this.#failDecoding(err as SockitError);
    }
  }

  /**
   * The peer broke the framing: close this connection with `err`, but first hand the transport
   * what was already sent this tick (the replies to the valid messages before the bad frame),
   * which a plain destroy() would drop, so what the peer gets back no longer depends on where its
   * bytes were cut into segments.
   */
  #failDecoding(err: SockitError): void {
    if (!this.#destroyed) {
      this.#flush();
      this.#uncork();
    }
    this.destroy(err);
  }

  /** Decodes what was kept while the inbox was full; resumes the socket once all of it fitted. */
  readonly #decodeUndecoded = (): void => {
    this.#undecodedScheduled = false;
    const rest = this.#undecoded;
    if (rest === undefined || this.#socket.destroyed) return;
    this.#undecoded = undefined;
    this.#decode(rest);
    this.#updateFlow();
  };

  #flowingToListeners(): boolean {
    return !this.#iterating && !this.#userPaused && !this.#delivering && this.listenerCount('message') > 0;
  }

  /** What the waiting messages cost against `readHighWaterMarkBytes`: bytes plus a per-message overhead. */
  #inboxCostBytes(): number {
    return this.#inboxBytes + this.inboxMessages * INBOX_MESSAGE_OVERHEAD_BYTES;
  }

  #inboxFull(): boolean {
    return this.#inboxCostBytes() > this.#readHighWaterMarkBytes && this.#requests.length === 0;
  }

  readonly #onFrame = (frame: Buffer): void => {
    if (this.#destroyed) return;
    const request = this.#requests.shift();
    if (request) {
      if (request.timer) clearTimeout(request.timer);
      request.resolve(frame);
      return;
    }
    // Emptiness is judged by count, not bytes: queued empty frames must still come first.
    const queued = this.#inbox.length - this.#inboxHead;
    const waiter = this.#iterWaiter;
    if (waiter && queued === 0) {
      this.#iterWaiter = undefined;
      waiter.resolve({ value: frame, done: false });
      return;
    }
    if (queued === 0 && this.#flowingToListeners()) {
      this.emit('message', frame);
      return;
    }
    // A zero-copy frame would keep its whole chunk (up to 64 KiB) alive for as long as it waits.
    this.#inbox.push(frame.length >= COPY_QUEUED_BELOW_BYTES ? frame : frame.length === 0 ? EMPTY : Buffer.from(frame));
    this.#inboxBytes += frame.length;
    this.#updateFlow();
  };

  #onPeerEnd(): void {
    try {
      // The socket is paused while bytes are kept, so this is only a safety net: decode them first.
      const rest = this.#undecoded;
      this.#undecoded = undefined;
      if (rest !== undefined) this.#decoder.push(rest, this.#onFrame);
      this.#decoder.end(this.#onFrame);
    } catch (err) {
      this.#failDecoding(err as SockitError);
      return;
    }
    this.#peerEnded = true;
    // No reply can follow the peer's FIN.
    for (const r of this.#requests.splice(0)) {
      if (r.timer) clearTimeout(r.timer);
      r.reject(new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', `${this.#where}: the peer closed its side before replying`));
    }
    this.#deliverInbox();
    this.#wakeIterator();
    this.#maybeEmitEnd();
  }

  #shiftInbox(): Buffer | undefined {
    if (this.#inboxHead >= this.#inbox.length) return undefined;
    const msg = this.#inbox[this.#inboxHead]!;
    this.#inbox[this.#inboxHead++] = EMPTY;
    if (this.#inboxHead === this.#inbox.length) {
      this.#inbox.length = 0;
      this.#inboxHead = 0;
    }
    this.#inboxBytes -= msg.length;
    this.#updateFlow();
    return msg;
  }

  /** Emits queued messages to 'message' listeners while nobody paused or iterates. */
  #deliverInbox(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      while (!this.#destroyed && !this.#iterating && !this.#userPaused && this.listenerCount('message') > 0) {
        const msg = this.#shiftInbox();
        if (!msg) break;
        this.emit('message', msg);
      }
    } finally {
      this.#delivering = false;
    }
    this.#maybeEmitEnd();
  }

  #wakeIterator(): void {
    const waiter = this.#iterWaiter;
    if (!waiter) return;
    const msg = this.#shiftInbox();
    if (msg) {
      this.#iterWaiter = undefined;
      waiter.resolve({ value: msg, done: false });
    } else if (this.#peerEnded || this.closed) {
      this.#iterWaiter = undefined;
      this.#iterating = false;
      if (this.#error) waiter.reject(this.#error);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  #maybeEmitEnd(): void {
    if (this.#endEmitted || !this.#peerEnded || this.#inboxBytes > 0 || this.#inboxHead < this.#inbox.length) return;
    this.#endEmitted = true;
    this.emit('end');
  }

  /**
   * Pauses the socket while the inbox is over its mark (and no request awaits a reply); once it is
   * down to half the mark (or a request waits), decodes the kept bytes first, then resumes.
   */
  #updateFlow(): void {
    if (this.#socket.destroyed) return;
    const full = this.#inboxFull();
    if (full && !this.#socketPaused) {
      this.#socketPaused = true;
      this.#socket.pause();
    } else if (!full && this.#socketPaused) {
      if (this.#inboxCostBytes() > this.#readHighWaterMarkBytes / 2 && this.#requests.length === 0) return;
      if (this.#undecoded !== undefined) {
        // Not from inside a consumer's call: decoding may deliver messages.
        if (!this.#undecodedScheduled) {
          this.#undecodedScheduled = true;
          queueMicrotask(this.#decodeUndecoded);
        }
        return;
      }
      this.#socketPaused = false;
      this.#socket.resume();
    }
  }

  // ---- sending ----

  readonly #flushOnTick = (): void => {
    this.#flushScheduled = false;
    this.#flush();
    this.#uncork();
  };

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }

  #flush(): void {
    const batch = this.#batch;
    if (batch === undefined || this.#batchUsed === 0 || this.#socket.destroyed) return;
    const used = this.#batchUsed;
    this.#batch = used <= batch.length - 1024 ? batch.subarray(used) : undefined;
    this.#batchUsed = 0;
    this.#socket.write(batch.subarray(0, used));
    this.#socketQueuedBytes = this.#socket.writableLength;
    this.#checkDrain();
  }

  #checkDrain(): void {
    this.#socketQueuedBytes = this.#socket.writableLength;
    if (!this.#needDrain || this.bufferedBytes > this.#highWaterMarkBytes) return;
    this.#needDrain = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
    this.emit('drain');
  }

  // ---- closing ----

  #closedError(): SockitError {
    return this.#error ?? new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', `${this.#where}: connection closed`);
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sendClosed = true;
    this.#idle?.stop();
    this.#batch = undefined;
    this.#batchUsed = 0;
    this.#corked = false;
    this.#undecoded = undefined;
    const err = this.#error;
    const requests = this.#requests.splice(0);
    for (const r of requests) {
      if (r.timer) clearTimeout(r.timer);
      r.reject(this.#closedError());
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(this.#closedError());
    this.#deliverInbox();
    this.#wakeIterator();
    if (err && this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('close', err);
  }
}

const EMPTY = Buffer.alloc(0);
