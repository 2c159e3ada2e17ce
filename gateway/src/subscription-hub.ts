/**
 * One upstream subscription for every identical client subscription (same document, variables and
 * roles): the first subscriber starts it, the last one to leave stops it, and each event is
 * executed once and handed to all. A subscriber joining a running stream gets the latest result
 * at once (for live stats, the latest state is what matters).
 */
import type { ExecutionResult } from 'graphql';

interface Listener {
  push(result: ExecutionResult): void;
  end(error?: unknown): void;
}

interface Channel {
  listeners: Set<Listener>;
  latest?: ExecutionResult;
  stop?: () => void;
}

export class SubscriptionHub {
  private readonly channels = new Map<string, Channel>();

  /** Streams shared by key; `start` opens the upstream and feeds `emit` until stopped. */
  subscribe(
    key: string,
    start: (emit: (result: ExecutionResult) => void, fail: (error: unknown) => void) => () => void,
  ): AsyncIterableIterator<ExecutionResult> {
    const queue: ExecutionResult[] = [];
    let done = false;
    let failure: unknown;
    let pending: ((r: IteratorResult<ExecutionResult>) => void) | undefined;
    let rejectPending: ((error: unknown) => void) | undefined;
    const listener: Listener = {
      push: (result) => {
        if (pending) {
          const resolve = pending;
          pending = rejectPending = undefined;
          resolve({ value: result, done: false });
        } else queue.push(result);
      },
      end: (error) => {
        done = true;
        failure = error;
        if (pending) {
          const [resolve, reject] = [pending, rejectPending!];
          pending = rejectPending = undefined;
          if (error) reject(error);
          else resolve({ value: undefined, done: true });
        }
      },
    };
    let channel = this.channels.get(key);
    if (!channel) {
      const created: Channel = { listeners: new Set() };
      channel = created;
      this.channels.set(key, created);
      created.listeners.add(listener);
      created.stop = start(
        (result) => {
          created.latest = result;
          for (const l of created.listeners) l.push(result);
        },
        (error) => {
          if (this.channels.get(key) === created) this.channels.delete(key);
          for (const l of created.listeners) l.end(error);
        },
      );
    } else {
      if (channel.latest) queue.push(channel.latest);
      channel.listeners.add(listener);
    }
    const joined = channel;
    let left = false;
    // Leaving is immediate (not deferred to the next event): the client may go while nothing happens.
    const leave = () => {
      if (left) return;
      left = true;
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0 && this.channels.get(key) === joined) {
        this.channels.delete(key);
        joined.stop?.();
      }
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
        if (done) {
          leave();
          return failure
            ? Promise.reject(failure)
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          pending = resolve;
          rejectPending = reject;
        });
      },
      return: () => {
        leave();
        listener.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Upstream subscriptions open now (tests and metrics). */
  get size(): number {
    return this.channels.size;
  }
}
