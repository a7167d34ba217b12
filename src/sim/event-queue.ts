/**
 * A priority queue of timed events: a binary min-heap ordered by time, then by insertion order, so
 * two events due at the same instant come out in the order they went in (that tie-break is what
 * makes a simulation replay exactly and keeps a fixed-delay link first-in first-out).
 */
import type { Instant } from '../core/time.js';

interface Entry<T> {
  atMs: Instant;
  order: number;
  value: T;
}

/** A min-heap of values keyed by `atMs`, first-in first-out among equal times. */
export class EventQueue<T> {
  readonly #heap: Entry<T>[] = [];
  #nextOrder = 0;

  /** Number of queued events. */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `value` to come due at `atMs`. */
  push(atMs: Instant, value: T): void {
    const heap = this.#heap;
    heap.push({ atMs, order: this.#nextOrder++, value });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  /** The time of the earliest event, or undefined when empty. */
  peekTime(): Instant | undefined {
    return this.#heap[0]?.atMs;
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { atMs: Instant; value: T } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        swap(heap, i, m);
        i = m;
      }
    }
    return { atMs: top.atMs, value: top.value };
  }

  /** Removes every event. */
  clear(): void {
    this.#heap.length = 0;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}

function swap<T>(heap: Entry<T>[], i: number, j: number): void {
  const t = heap[i]!;
  heap[i] = heap[j]!;
  heap[j] = t;
}
