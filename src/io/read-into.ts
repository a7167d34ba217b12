/**
 * Reads of a kernel TCP socket into memory the caller picks, read by read: `readInto`.
 *
 * Why: a net.Socket reads into a fresh 64 KiB buffer per read(2) and hands it on as a 'data' chunk.
 * A file receiver then copies each chunk into the block it writes to disk. For a 1 GiB upload that
 * is ~16,000 new buffers (fresh pages to fault in) and a second copy of every byte; reading each
 * DATA frame's bytes straight into the block instead measured 0.3 s of receiver CPU per GiB against
 * 0.9–1.4 s (bench/files-transfer, docs/files.md §8).
 *
 * Node documents exactly this as the `onread` option of `new net.Socket()` / `net.connect()`: a
 * buffer (or a function returning the next one) and a callback per read. A server's accepted
 * sockets cannot be given that option, so `readInto` switches an existing socket over by setting the
 * same three per-socket fields the option sets (found by their symbol descriptions) and asking the
 * handle to use the caller's buffer, as Node's own `initSocketHandle` does. When this Node build does
 * not have them, or the socket is not a node:net socket (RUDP), it returns false and the caller keeps
 * reading 'data' events. test/transfer/read-into.test.ts checks that the switch happens on this Node.
 *
 * Contract, as for `onread`: `next()` gives the memory for the next read (any length ≥ 1; the read
 * fills at most that much); `onRead(n, buf)` runs once per read with the bytes in `buf[0, n)`, and
 * the memory of `buf` is the caller's again once it returns; then `next()` is asked again. pause()
 * and resume() stop and restart reading; 'end', 'error' and 'close' are emitted as usual.
 */
import net from 'node:net';

/** Where reads go and who hears of them. */
export interface ReadIntoHandlers {
  /** The memory for the next read. */
  next(): Uint8Array;
  /** `n` bytes were read into `buf` (the last memory `next` returned). */
  onRead(n: number, buf: Uint8Array): void;
}

interface UserBufferHandle {
  useUserBuffer(buf: Uint8Array): void;
}

type SymbolKeyed = Record<symbol, unknown>;

function ownSymbol(target: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(target).find((s) => s.description === description);
}

/**
 * Switches `socket` to read into the memory `handlers.next()` returns. Bytes the stream had already
 * read and buffered are returned (in order, before any read into the caller's memory), so nothing is
 * lost; `undefined` means the switch is not possible here and the socket is left as it was.
 */
export function readInto(socket: object, handlers: ReadIntoHandlers): Buffer[] | undefined {
  if (process.env['SOCKIT_READ_INTO'] === 'off') return undefined;
  if (!(socket instanceof net.Socket) || socket.destroyed || socket.connecting) return undefined;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return undefined;
  const kBuffer = ownSymbol(socket, 'kBuffer');
  const kBufferCb = ownSymbol(socket, 'kBufferCb');
  const kBufferGen = ownSymbol(socket, 'kBufferGen');
  const s = socket as unknown as SymbolKeyed;
  if (!kBuffer || !kBufferCb || !kBufferGen || s[kBuffer] !== null) return undefined;
  // What the stream read before the switch comes first.
  const early: Buffer[] = [];
  for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null; ) early.push(chunk);
  const first = handlers.next();
  s[kBufferCb] = (n: number, buf: Uint8Array): boolean => {
    handlers.onRead(n, buf);
    return true;
  };
  s[kBufferGen] = (): Uint8Array => handlers.next();
  s[kBuffer] = first;
  handle.useUserBuffer(first);
  return early;
}
