/**
 * One file-protocol connection as a queue of decoded messages in, framed messages out, with
 * backpressure both ways and a stall timeout.
 *
 * In: chunks go through the FrameSplitter (control frames whole, DATA frames as the slices of the
 * socket's own chunks, never copied) and decodeMessage; decoded messages wait in a queue for {@link FrameChannel.next}; past `maxQueueBytes` the socket is paused (so a slow
 * disk on our side slows the peer's sender instead of growing memory) and resumed below a quarter.
 * Out: small messages written in the same tick are corked into one write; callers check the
 * boolean of `send` (false above 8 MiB not yet taken by the kernel) and await
 * {@link FrameChannel.drained} (down to 4 MiB) before producing more.
 * Large files out: on kernel TCP with the native helper, {@link FrameChannel.sendFileData} sends a
 * file's DATA frames straight from the page cache with sendfile(2); frames sent meanwhile are held
 * and follow the file.
 * Stall: if neither a byte arrives nor a write completes for `idleTimeoutMs`, the connection is
 * destroyed with TimeoutError (phase `transfer`).
 *
 * Reads into place: on kernel TCP the channel reads the socket into memory it picks
 * (src/io/read-into.ts). Between frames that is a staging buffer; inside a DATA frame, once the
 * receiver named the file's {@link DataTarget} (at BEGIN), the next bytes are read straight into the
 * file's write block, and the DATA message delivered is a view of them, so a large file's bytes are
 * never copied in user space. The target is dropped at the next control frame other than OFFER
 * (the file's END, say), so it never receives another file's bytes.
 */
// The agreed cross-team framing API: uint32 big-endian length prefix.
import { len32 } from '../framing/len32.js';
import type { StreamSocket } from '../io/stream-transport.js';
import { fromNodeError } from '../io/node-errors.js';
import { ConnectionError, FileCodes, NetCodes, SockitError, TimeoutError } from '../errors.js';
import { DATA_BLOCK_BYTES, decodeMessage, encodeMessage, MAX_FRAME_BYTES, MessageType, type ControlMessage, type Message, type WireErrorCode } from './protocol/messages.js';
import { FrameSplitter, type FrameSplitterSink } from './protocol/frame-splitter.js';
import { readInto } from '../io/read-into.js';
import { fileSender, kernelSocketFd, type FileSend } from '../io/native-file-send.js';

/** Memory lent to one read of a file's DATA bytes (see {@link DataTarget}). */
export interface Landing {
  /** Where the bytes go; at most this many are read. */
  readonly view: Buffer;
  /** The read put `n` bytes at the start of `view` (0: nothing, the socket closed). Called once. */
  land(n: number): void;
}

/** Where the current file's DATA bytes may be placed as they arrive, in order. */
export interface DataTarget {
  /** Memory for up to `max` next bytes of the file, or undefined (then they are delivered as they came). */
  reserve(max: number): Landing | undefined;
}

/** A sendFileData in progress: the slice being sent, and whether the channel stopped it. */
interface FileSendState {
  job: FileSend | undefined;
  cancelled: boolean;
}

/** Bytes one sendfile call sends before the channel hears of progress (eight DATA frames). */
const FILE_SLICE_BYTES = 8 * DATA_BLOCK_BYTES;

/** Size of the staging buffer that reads between DATA frames go to. */
const STAGING_BYTES = 64 * 1024;

/** Options of a {@link FrameChannel}. */
export interface FrameChannelOptions {
  /** Destroy the connection when nothing moves for this long (default 30 s; 0 disables). */
  idleTimeoutMs?: number;
  /** Decoded bytes held before the socket is paused (default 4 MiB). */
  maxQueueBytes?: number;
}

/** Default stall timeout of a file transfer. */
export const DEFAULT_TRANSFER_IDLE_TIMEOUT_MS = 30_000;

const DEFAULT_MAX_QUEUE_BYTES = 4 * 1024 * 1024;

/** Unflushed bytes above which `send` says "wait": a few blocks in flight keep the socket busy. */
const SEND_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** Where {@link FrameChannel.drained} resolves again. */
const SEND_LOW_WATER_BYTES = 4 * 1024 * 1024;

/** A framed, backpressured, stall-guarded file-protocol connection. */
export class FrameChannel {
  readonly socket: StreamSocket;
  readonly #splitter = new FrameSplitter(MAX_FRAME_BYTES);
  readonly #sink: FrameSplitterSink = {
    control: (payload) => {
      const msg = decodeMessage(payload);
      if (msg.type !== 'offer') this.#target = undefined;
      this.#deliver(msg);
    },
    data: (bytes) => {
      if (this.#target) this.#place(bytes);
      else {
        if (bytes.buffer === this.#staging?.buffer) this.#stagingLent = true;
        this.#dataStats.asIs += bytes.length;
        this.#deliver({ type: 'data', bytes });
      }
    },
  };
  /** True when the socket reads into memory we pick (kernel TCP). */
  readonly #readsInPlace: boolean;
  #target: DataTarget | undefined;
  /** The memory lent to the read in progress, when it is a file's block. */
  #landing: Landing | undefined;
  #staging: Buffer | undefined;
  /** Part of the staging buffer was delivered: the next read needs a fresh one. */
  #stagingLent = false;
  readonly #dataStats = { inPlace: 0, copiedIn: 0, asIs: 0 };
  readonly #queue: Message[] = [];
  #queueHead = 0;
  #queueBytes = 0;
  readonly #maxQueueBytes: number;
  #waiter: { resolve: (m: Message | undefined) => void; reject: (e: Error) => void } | undefined;
  #peerEnded = false;
  #error: Error | undefined;
  #corked = false;
  #errorSent = false;
  #unflushedBytes = 0;
  #drainWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  /** Resolved when everything written so far has been taken by the kernel. */
  #emptyWaiters: Array<() => void> = [];
  /** A sendFileData in progress: frames sent meanwhile wait in #held, in order. */
  #fileSend: FileSendState | undefined;
  #held: Array<{ header: Uint8Array; body: Uint8Array; onFlushed: (() => void) | undefined }> = [];
  #heldBytes = 0;
  #lastActivity = performance.now();
  #timer: NodeJS.Timeout | undefined;
  readonly #closed: Promise<void>;

  constructor(socket: StreamSocket, options: FrameChannelOptions = {}) {
    this.socket = socket;
    this.#maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: Error) => this.#fail(fromNodeError(err, 'file transfer connection')));
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      this.#stopTimer();
      // A read lent a block and will never land now.
      this.#landing?.land(0);
      this.#landing = undefined;
      this.#target = undefined;
      // After the peer's clean FIN, next() drains the queue and then reports the end; only a close
      // without it is an error.
      if (!this.#peerEnded) this.#fail(new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', 'the connection closed in the middle of a transfer'));
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      const err = this.#error ?? new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', 'the connection closed while sending');
      for (const w of waiters) w.reject(err);
      this.#cancelFileSend();
      this.#releaseEmptyWaiters();
    });
    const idleMs = options.idleTimeoutMs ?? DEFAULT_TRANSFER_IDLE_TIMEOUT_MS;
    if (idleMs > 0) {
      this.#timer = setInterval(() => {
        if (performance.now() - this.#lastActivity > idleMs) {
          this.destroy(new TimeoutError('transfer', idleMs, `the peer stalled: nothing sent or received for ${idleMs} ms`));
        }
      }, Math.max(10, Math.min(1000, idleMs / 4)));
      this.#timer.unref();
    }
    const early = readInto(socket, { next: () => this.#nextReadMemory(), onRead: (n, buf) => this.#onRead(n, buf) });
    this.#readsInPlace = early !== undefined;
    if (early) {
      for (const chunk of early) this.#onData(chunk);
      socket.resume(); // flowing, so 'end' is emitted
    } else {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    }
  }

  /**
   * Names where the current file's DATA bytes go (undefined: nowhere in particular). Call it when
   * the file begins: DATA that arrived since its BEGIN and waits in the queue is placed at once.
   * Ignored when the socket cannot read into place (RUDP).
   */
  setDataTarget(target: DataTarget | undefined): void {
    if (!this.#readsInPlace || this.#error) return;
    this.#target = target;
    if (!target) return;
    // Everything queued was read before the target existed: place this file's DATA in order, up
    // to a control message that ends it.
    const rest = this.#queue.splice(this.#queueHead);
    this.#queueBytes = 0;
    for (const m of rest) {
      if (m.type === 'data' && this.#target) {
        this.#dataStats.asIs -= m.bytes.length; // counted again as copied in
        this.#place(m.bytes);
        continue;
      }
      // A file's END (or any control message but OFFER) ends the target: never another file's bytes.
      if (m.type !== 'data' && m.type !== 'offer') this.#target = undefined;
      this.#queue.push(m);
      this.#queueBytes += m.type === 'data' ? m.bytes.length : 64;
    }
  }

  /**
   * How the DATA bytes received so far arrived: read straight into a target's memory, copied into
   * it (they came with a frame header, or before the target was named), or delivered as they came.
   */
  get dataStats(): { readonly inPlace: number; readonly copiedIn: number; readonly asIs: number } {
    return { ...this.#dataStats };
  }

  /** The first error that ended this channel, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Marks local progress (disk work) so a long local step does not count as a stall. */
  touch(): void {
    this.#lastActivity = performance.now();
  }

  /**
   * The next message; undefined once the peer half-closed cleanly between messages.
   * Rejects with the error that ended the connection (decode error, reset, stall).
   */
  next(): Promise<Message | undefined> {
    if (this.#queueHead < this.#queue.length) return Promise.resolve(this.#take());
    if (this.#error) return Promise.reject(this.#error);
    if (this.#peerEnded) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /**
   * Tells the peer why this session ends (an ERROR message with the error's file-protocol code,
   * or ERR_SOCKIT_BAD_HEADER for anything else). Only the first call sends.
   */
  sendError(err: unknown): void {
    if (this.#errorSent) return;
    this.#errorSent = true;
    const code = err instanceof SockitError && (Object.values(FileCodes) as string[]).includes(err.code) ? (err.code as WireErrorCode) : FileCodes.BAD_HEADER;
    this.send({ type: 'error', code, message: String((err as Error | undefined)?.message ?? err).slice(0, 900) });
  }

  /** Sends a control message; false means "wait for {@link drained} before sending much more". */
  send(msg: ControlMessage): boolean {
    return this.sendPayload(encodeMessage(msg));
  }

  /**
   * Sends one frame whose payload (type byte first) is `payload`, without copying it.
   * `onFlushed` runs once the kernel has taken it, or soon when the connection is already gone
   * (either way the buffer may then be reused).
   */
  sendPayload(payload: Buffer, onFlushed?: () => void): boolean {
    const [header, body] = len32.encode(payload);
    return this.#sendFrame(header!, body!, onFlushed);
  }

  #sendFrame(header: Uint8Array, body: Uint8Array, onFlushed?: () => void): boolean {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      // Nothing will hold the bytes: the caller may have its buffer back (a pooled block).
      if (onFlushed) queueMicrotask(onFlushed);
      return false;
    }
    if (this.#fileSend) {
      this.#held.push({ header, body, onFlushed });
      this.#heldBytes += header.length + body.length;
      return this.#unflushedBytes + this.#heldBytes < SEND_HIGH_WATER_BYTES;
    }
    if (!this.#corked) {
      // Everything written in this tick leaves in one writev: 10,000 small files are 40,000 small
      // messages, and one write() per message would cost more than the files themselves.
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    const bytes = header.length + body.length;
    this.#unflushedBytes += bytes;
    socket.write(header);
    socket.write(body, () => {
      this.#flushed(bytes);
      onFlushed?.();
    });
    return this.#unflushedBytes < SEND_HIGH_WATER_BYTES;
  }

  /**
   * Sends one DATA frame carrying `bytes` without copying them: the length and type byte go in a
   * separate 5-byte write, corked with them. `onFlushed` as for {@link sendPayload}.
   */
  sendData(bytes: Uint8Array, onFlushed?: () => void): boolean {
    const head = Buffer.allocUnsafe(5);
    head.writeUInt32BE(bytes.length + 1, 0);
    head[4] = MessageType.DATA;
    return this.#sendFrame(head, bytes, onFlushed);
  }

  /** True when {@link sendFileData} can send from the page cache here (kernel TCP, native helper built). */
  get sendsFiles(): boolean {
    return fileSender() !== undefined && kernelSocketFd(this.socket) !== undefined;
  }

  /**
   * Sends `length` bytes of the open file `fd` from `offset` as DATA frames straight from the page
   * cache with sendfile(2) (src/io/native-file-send.ts), once everything written before has left;
   * frames sent meanwhile wait and follow. `onSent(n)` after each slice. Only when
   * {@link sendsFiles}. If the file ends early, the connection is destroyed (a frame is half sent)
   * and this rejects with an error whose `code` is ENODATA; otherwise rejects as a write would.
   */
  async sendFileData(fd: number, offset: number, length: number, onSent: (n: number) => void): Promise<void> {
    const sender = fileSender();
    if (!sender || this.#fileSend) throw new Error('sendFileData: no sendfile path here, or one already running');
    // From now on frames wait in #held (sent from this very tick on, they come after the file);
    // those written before must have left before sendfile writes beside Node's own queue.
    const state: FileSendState = { job: undefined, cancelled: false };
    this.#fileSend = state;
    const closed = (): Error => this.#error ?? new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', 'the connection closed while sending');
    try {
      await this.#empty();
      for (let pos = offset, end = offset + length; pos < end; ) {
        // Checked before each call: a destroyed socket's descriptor may already belong to another file.
        const sockFd = this.socket.destroyed ? undefined : kernelSocketFd(this.socket);
        if (this.#error) throw this.#error;
        if (state.cancelled || sockFd === undefined) throw closed();
        let n: number;
        try {
          state.job = sender.sendFrames(sockFd, fd, pos, Math.min(FILE_SLICE_BYTES, end - pos), DATA_BLOCK_BYTES, MessageType.DATA);
          n = await state.job.done;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENODATA') {
            this.socket.destroy();
            throw err;
          }
          throw code === 'ECANCELED' ? closed() : (this.#error ?? fromNodeError(err as Error, 'file transfer connection'));
        } finally {
          state.job = undefined;
        }
        pos += n;
        this.#lastActivity = performance.now();
        onSent(n);
      }
    } finally {
      this.#fileSend = undefined;
      const held = this.#held;
      this.#held = [];
      this.#heldBytes = 0;
      for (const f of held) this.#sendFrame(f.header, f.body, f.onFlushed);
    }
  }

  #cancelFileSend(): void {
    const f = this.#fileSend;
    if (!f) return;
    f.cancelled = true;
    f.job?.cancel();
  }

  /** Resolves when the kernel has taken everything written so far (or the connection is gone). */
  #empty(): Promise<void> {
    if (this.#unflushedBytes === 0 || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  #releaseEmptyWaiters(): void {
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const w of waiters) w();
  }

  #flushed(bytes: number): void {
    this.#lastActivity = performance.now();
    this.#unflushedBytes -= bytes;
    if (this.#unflushedBytes === 0) this.#releaseEmptyWaiters();
    if (this.#unflushedBytes <= SEND_LOW_WATER_BYTES && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  /**
   * Resolves once what we wrote and the kernel has not taken yet is down to SEND_LOW_WATER_BYTES
   * (not zero: the socket keeps data to send while the caller reads the next blocks); rejects if
   * the connection died first.
   */
  drained(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#unflushedBytes <= SEND_LOW_WATER_BYTES) return Promise.resolve();
    if (this.socket.destroyed) return Promise.reject(new ConnectionError(NetCodes.CONNECTION_CLOSED, 'closed', 'the connection closed while sending'));
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /**
   * Half-closes our side after everything written has been flushed, then waits (at most
   * `graceMs`) for the peer to close its side too; destroys the socket after that.
   */
  async end(graceMs = 5000): Promise<void> {
    if (this.#fileSend) throw new Error('end() while sendFileData runs');
    this.#stopTimer();
    if (!this.socket.destroyed) this.socket.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.socket.destroy();
  }

  /**
   * Tears the connection down; pending and later {@link next} calls reject with `err`. With an
   * error the socket is destroyed with it too (RUDP then aborts with RST instead of lingering to
   * deliver what is queued to a peer that stalled or died).
   */
  destroy(err?: Error): void {
    if (err) this.#fail(err);
    this.#cancelFileSend();
    this.#stopTimer();
    this.socket.destroy(err);
  }

  #take(): Message {
    const msg = this.#queue[this.#queueHead]!;
    this.#queue[this.#queueHead++] = undefined as unknown as Message;
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    this.#queueBytes -= msg.type === 'data' ? msg.bytes.length : 64;
    if (this.#queueBytes < this.#maxQueueBytes / 4 && this.socket.isPaused() && !this.#peerEnded) this.socket.resume();
    return msg;
  }

  #deliver(msg: Message): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve(msg);
      return;
    }
    this.#queue.push(msg);
    this.#queueBytes += msg.type === 'data' ? msg.bytes.length : 64;
    if (this.#queueBytes > this.#maxQueueBytes) this.socket.pause();
  }

  /** The memory for the socket's next read: the current file's block inside a DATA frame, else staging. */
  #nextReadMemory(): Buffer {
    const left = this.#splitter.dataLeft;
    if (left > 0 && this.#target && !this.#error) {
      const landing = this.#target.reserve(left);
      if (landing) {
        this.#landing = landing;
        return landing.view;
      }
    }
    this.#landing = undefined;
    if (!this.#staging || this.#stagingLent) {
      this.#staging = Buffer.allocUnsafe(STAGING_BYTES);
      this.#stagingLent = false;
    }
    // Inside a file, between its frames: read only the next header, so that the next DATA frame's
    // body is read into place instead of partly into staging and copied (one more read(2) per
    // frame; ~7% of a large file's bytes were copied before).
    const head = this.#target && !this.#error ? this.#splitter.headLeft : 0;
    return head > 0 ? this.#staging.subarray(0, head) : this.#staging;
  }

  #onRead(n: number, buf: Uint8Array): void {
    const landing = this.#landing;
    if (!landing) return this.#onData((buf as Buffer).subarray(0, n));
    this.#landing = undefined;
    this.#lastActivity = performance.now();
    landing.land(n);
    if (this.#error) return;
    this.#splitter.skipData(n);
    this.#dataStats.inPlace += n;
    this.#deliver({ type: 'data', bytes: landing.view.subarray(0, n) });
  }

  /** Copies DATA bytes into the target's memory (the receiver then takes them in place). */
  #place(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; ) {
      const landing = this.#target?.reserve(bytes.length - at);
      if (!landing) {
        // The file takes no more (it is full: the receiver reports the excess); deliver as they came.
        this.#target = undefined;
        if (bytes.buffer === this.#staging?.buffer) this.#stagingLent = true;
        this.#dataStats.asIs += bytes.length - at;
        this.#deliver({ type: 'data', bytes: bytes.subarray(at) });
        return;
      }
      const n = bytes.copy(landing.view, 0, at, at + landing.view.length);
      landing.land(n);
      at += n;
      this.#dataStats.copiedIn += n;
      this.#deliver({ type: 'data', bytes: landing.view.subarray(0, n) });
    }
  }

  #onData(chunk: Buffer): void {
    this.#lastActivity = performance.now();
    if (this.#error) return;
    try {
      this.#splitter.push(chunk, this.#sink);
    } catch (err) {
      // A malformed or oversized frame ends this connection only; tell the peer why first.
      // The owner sees the error from next() and may still send an ERROR message before closing.
      const e = err instanceof SockitError ? err : fromNodeError(err, 'file transfer connection');
      this.#fail(e);
      this.socket.pause();
    }
  }

  #onEnd(): void {
    this.#peerEnded = true;
    try {
      this.#splitter.end();
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    const waiter = this.#waiter;
    if (waiter && this.#queueHead >= this.#queue.length) {
      this.#waiter = undefined;
      waiter.resolve(undefined);
    }
  }

  #fail(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.reject(err);
    }
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
