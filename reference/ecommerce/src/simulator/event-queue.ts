/**
 * The simulator's pending events, ordered by time. Sessions are planned a day at a time but their
 * events (and refunds days later) land at scattered instants, so they wait here until every event
 * that could come before them has been planned. Ids are handed out only when an event is released,
 * which keeps message, order and checkout ids increasing in time order and free of gaps.
 */
import type { SimEvent } from './population.js';

export interface IdSource {
  messageId(): string;
  orderId(): string;
  checkoutId(): string;
}

/** Builds an event when it is released; it may allocate ids. */
export type EventBuilder = (ids: IdSource, timestamp: Date) => SimEvent;

interface Pending {
  at: number;
  /** Push order: breaks ties so events at the same millisecond keep a fixed order. */
  sequence: number;
  build: EventBuilder;
}

export function createIdSource(seed: number): IdSource {
  let messages = 0;
  let orders = 0;
  let checkouts = 0;
  return {
    messageId: () => `sim-${seed}-${++messages}`,
    orderId: () => `ord_${String(++orders).padStart(7, '0')}`,
    checkoutId: () => `chk_${String(++checkouts).padStart(7, '0')}`,
  };
}

/** A binary min-heap on (time, push order). */
export class EventQueue {
  private readonly heap: Pending[] = [];
  private pushed = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, build: EventBuilder): void {
    this.heap.push({ at, sequence: this.pushed++, build });
    this.siftUp(this.heap.length - 1);
  }

  /** Releases, in order, every event strictly before `limitMs`. */
  *releaseBefore(limitMs: number, ids: IdSource): Generator<SimEvent> {
    while (this.heap.length > 0 && this.heap[0].at < limitMs) {
      const next = this.popFirst();
      yield next.build(ids, new Date(next.at));
    }
  }

  private popFirst(): Pending {
    const first = this.heap[0];
    const last = this.heap.pop() as Pending;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return first;
  }

  private siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >>> 1;
      if (!this.before(child, parent)) return;
      this.swap(child, parent);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let first = parent;
      if (left < this.heap.length && this.before(left, first)) first = left;
      if (right < this.heap.length && this.before(right, first)) first = right;
      if (first === parent) return;
      this.swap(parent, first);
      parent = first;
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    return x.at < y.at || (x.at === y.at && x.sequence < y.sequence);
  }

  private swap(a: number, b: number): void {
    [this.heap[a], this.heap[b]] = [this.heap[b], this.heap[a]];
  }
}
