/**
 * Gathers one large file's incoming bytes into write blocks (write-blocks.ts), in file order, and
 * lends the connection the free end of the last block so the next DATA bytes can be read straight
 * into place (FrameChannel's DataTarget; src/io/read-into.ts says why).
 *
 * Two positions move through the file: `placed` — every byte read or copied into a block so far —
 * and `processed` — the bytes the receiver has taken in order (`append`), which it counts as
 * received and hashes. Bytes between them are in blocks already but still wait in the connection's
 * queue as DATA messages; when the receiver takes such a message, `append` recognises the view and
 * only moves `processed`. Any other bytes (a DATA slice that arrived before the file began) are
 * copied, which is only allowed when nothing is placed ahead. Blocks end on multiples of
 * WRITE_BLOCK_BYTES in the file, so all but a resumed file's first block are aligned for O_DIRECT.
 *
 * A block goes to `onBlock` once all of it is processed (or, at `drain`, with what is processed).
 * Its memory may be lent to a read that has not landed yet only in `drain`'s leftovers; such a block
 * goes back to the pool when that read lands (the connection always reports it, with 0 bytes if the
 * socket closed), never while the socket may still write into it.
 */
import { LimitExceededError, FileCodes } from '../errors.js';
import type { DataTarget, Landing } from './frame-channel.js';
import { giveBackBlock, takeBlock, WRITE_BLOCK_BYTES } from './write-blocks.js';

/** A block whose processed bytes are ready for the disk. */
export interface GatheredBlock {
  /** The bytes (a view of the block's start). */
  readonly bytes: Buffer;
  /** Where in the file they go. */
  readonly position: number;
  /** Returns the block's memory (after its write and hash completed). */
  release(): void;
}

interface Slot {
  block: Buffer;
  /** Bytes this block takes (less than a whole block at an unaligned start). */
  limit: number;
  position: number;
  processed: number;
  placed: number;
  /** A read into this block is outstanding. */
  lent: boolean;
  /** Released while lent: the landing gives the block back. */
  orphan: boolean;
}

/** In-order gathering of a file's bytes into blocks, with reads into place. */
export class BlockGatherer implements DataTarget {
  readonly #end: number;
  readonly #slots: Slot[] = [];
  #processedTo: number;
  #placedTo: number;

  /** Gathers the bytes of [start, end) of a file. */
  constructor(start: number, end: number) {
    this.#end = end;
    this.#processedTo = start;
    this.#placedTo = start;
  }

  /** Bytes placed in blocks ahead of what was processed. */
  get ahead(): number {
    return this.#placedTo - this.#processedTo;
  }

  reserve(max: number): Landing | undefined {
    const room = this.#end - this.#placedTo;
    if (room <= 0 || max <= 0) return undefined;
    let slot = this.#slots[this.#slots.length - 1];
    if (!slot || slot.placed === slot.limit) slot = this.#newSlot(this.#placedTo);
    if (slot.lent) throw new Error('BlockGatherer: a read into this file is already outstanding');
    const view = slot.block.subarray(slot.placed, slot.placed + Math.min(max, room, slot.limit - slot.placed));
    slot.lent = true;
    let landed = false;
    return {
      view,
      land: (n: number): void => {
        if (landed) return;
        landed = true;
        slot.lent = false;
        if (slot.orphan) {
          giveBackBlock(slot.block);
          return;
        }
        slot.placed += n;
        this.#placedTo += n;
      },
    };
  }

  /**
   * Takes the next `bytes` of the file in order, calling `onBlock` for each block completed. A view
   * of the next placed bytes is taken in place; anything else is copied in.
   */
  append(bytes: Buffer, onBlock: (b: GatheredBlock) => void): void {
    const head = this.#slots[0];
    if (head && bytes.buffer === head.block.buffer && bytes.byteOffset === head.block.byteOffset + head.processed && bytes.length <= head.placed - head.processed) {
      head.processed += bytes.length;
      this.#processedTo += bytes.length;
      if (head.processed === head.limit) this.#handOn(onBlock);
      return;
    }
    if (this.ahead > 0) throw new Error('BlockGatherer: bytes out of order (placed bytes are waiting to be processed first)');
    if (this.#processedTo + bytes.length > this.#end) {
      throw new LimitExceededError(FileCodes.BAD_HEADER, `more bytes than the ${this.#end}-byte file holds`, this.#end, this.#processedTo + bytes.length);
    }
    for (let at = 0; at < bytes.length; ) {
      let slot = this.#slots[this.#slots.length - 1];
      if (!slot || slot.placed === slot.limit) slot = this.#newSlot(this.#placedTo);
      if (slot.lent) throw new Error('BlockGatherer: bytes copied into a block a read is outstanding on');
      const n = bytes.copy(slot.block, slot.placed, at, Math.min(bytes.length, at + slot.limit - slot.placed));
      at += n;
      slot.placed += n;
      slot.processed += n;
      this.#placedTo += n;
      this.#processedTo += n;
      if (slot.processed === slot.limit) this.#handOn(onBlock);
    }
  }

  /**
   * Hands on what is processed but not yet handed on (a partial block) and gives back every other
   * block; bytes placed ahead are dropped. The gatherer is empty afterwards.
   */
  drain(onBlock: (b: GatheredBlock) => void): void {
    while (this.#slots.length > 0) {
      const slot = this.#slots[0]!;
      if (slot.processed > 0) {
        this.#handOn(onBlock);
      } else {
        this.#slots.shift();
        this.#release(slot);
      }
    }
    this.#placedTo = this.#processedTo;
  }

  #newSlot(position: number): Slot {
    const slot: Slot = { block: takeBlock(), limit: WRITE_BLOCK_BYTES - (position % WRITE_BLOCK_BYTES), position, processed: 0, placed: 0, lent: false, orphan: false };
    this.#slots.push(slot);
    return slot;
  }

  #handOn(onBlock: (b: GatheredBlock) => void): void {
    const slot = this.#slots.shift()!;
    onBlock({
      bytes: slot.processed === slot.block.length ? slot.block : slot.block.subarray(0, slot.processed),
      position: slot.position,
      release: () => this.#release(slot),
    });
  }

  #release(slot: Slot): void {
    if (slot.lent) slot.orphan = true;
    else giveBackBlock(slot.block);
  }
}
