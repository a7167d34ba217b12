/**
 * The 1 MiB blocks a receiver gathers a large file's bytes in before writing them (and a sender
 * reads a file into before sending them), and the rule for writing a block with O_DIRECT. The
 * blocks are shared memory, so the hashing thread (file-hash.ts) reads them in place.
 *
 * Why direct I/O: a receiver's buffered write copies every byte into freshly allocated page-cache
 * pages, and on this kind of VM that copy measured 0.25 s to 2.5 s of kernel CPU per GiB depending on
 * the host's state (perf: `copy_folio_from_iter_atomic`, half of the receiver's CPU); an O_DIRECT
 * write of the same GiB took 0.13 s of CPU (`dd oflag=direct`, and a Node loop). Large files are
 * therefore written with O_DIRECT where the file system allows it, which also leaves the reader's
 * page cache alone (as `dd oflag=direct` and backup tools do). Files below DIRECT_IO_MIN_BYTES, the
 * unaligned head of a resumed file and the tail are written through the page cache as before.
 *
 * O_DIRECT needs the memory, the file position and the length aligned to the logical block size
 * (4096 covers every device here). JavaScript cannot ask for aligned memory, but a
 * WebAssembly.Memory is mapped page-aligned: the blocks are views into one such arena.
 */

/** Size of one write block. */
export const WRITE_BLOCK_BYTES = 1024 * 1024;
/** Files at least this large are written with O_DIRECT when the file system accepts it. */
export const DIRECT_IO_MIN_BYTES = 16 * 1024 * 1024;
/** Alignment of memory, position and length for O_DIRECT. */
export const DIRECT_IO_ALIGN = 4096;

/**
 * Blocks in the aligned arena (shared by every transfer in the process); more come from the heap.
 * A large file's receiver holds up to ~12 (4 MiB being written, 4 MiB queued, one being filled), its
 * sender up to ~17 (4 reads ahead, 8 MiB in the socket, 4 waiting for the hashing thread).
 */
const ARENA_BLOCKS = 32;
/** Heap blocks kept for reuse once the arena is exhausted. */
const SPARE_MAX = 16;
const WASM_PAGE_BYTES = 65_536;

// The one WebAssembly type needed (this project's TypeScript libs do not declare WebAssembly).
const wasm = (globalThis as { WebAssembly?: { Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBuffer | SharedArrayBuffer } } }).WebAssembly;

let arena: ArrayBuffer | SharedArrayBuffer | undefined;
let arenaBlocks: Buffer[] = [];
const arenaFree: Buffer[] = [];
const spare: Buffer[] = [];

function ensureArena(): void {
  if (arena) return;
  try {
    // Shared, so the hashing thread (file-hash.ts) reads the blocks in place; never grown.
    const pages = (ARENA_BLOCKS * WRITE_BLOCK_BYTES) / WASM_PAGE_BYTES;
    arena = new wasm!.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
    arenaBlocks = Array.from({ length: ARENA_BLOCKS }, (_, i) => Buffer.from(arena!, i * WRITE_BLOCK_BYTES, WRITE_BLOCK_BYTES));
    arenaFree.push(...arenaBlocks);
  } catch {
    arena = new ArrayBuffer(0); // no WebAssembly: heap blocks only, written through the page cache
  }
}

/** The shared memory behind the aligned blocks (undefined when WebAssembly is not available). */
export function sharedArena(): SharedArrayBuffer | undefined {
  ensureArena();
  return arena instanceof SharedArrayBuffer ? arena : undefined;
}

/** A block to gather bytes in: an aligned one while any is free. */
export function takeBlock(): Buffer {
  ensureArena();
  return arenaFree.pop() ?? spare.pop() ?? Buffer.allocUnsafe(WRITE_BLOCK_BYTES);
}

/** Returns a block (or a view of its start) once its write has completed. */
export function giveBackBlock(block: Buffer): void {
  if (arena && block.buffer === arena) {
    arenaFree.push(arenaBlocks[Math.floor(block.byteOffset / WRITE_BLOCK_BYTES)]!);
  } else if (block.length === WRITE_BLOCK_BYTES && spare.length < SPARE_MAX) {
    spare.push(block);
  }
}

/** Whether `bytes` may be written at `position` with O_DIRECT. */
export function directWritable(bytes: Buffer, position: number): boolean {
  return (
    arena !== undefined &&
    bytes.buffer === arena &&
    bytes.byteOffset % DIRECT_IO_ALIGN === 0 &&
    bytes.length % DIRECT_IO_ALIGN === 0 &&
    position % DIRECT_IO_ALIGN === 0
  );
}
