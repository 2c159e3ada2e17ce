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
  ): AsyncGenerator<ExecutionResult> {
    const queue: ExecutionResult[] = [];
    let done = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const listener: Listener = {
      push: (result) => {
        queue.push(result);
        wake?.();
      },
      end: (error) => {
        done = true;
        failure = error;
        wake?.();
      },
    };
    let channel = this.channels.get(key);
    if (!channel) {
      const created: Channel = { listeners: new Set() };
      channel = created;
      this.channels.set(key, created);
      created.stop = start(
        (result) => {
          created.latest = result;
          for (const l of created.listeners) l.push(result);
        },
        (error) => {
          this.channels.delete(key);
          for (const l of created.listeners) l.end(error);
        },
      );
    } else if (channel.latest) {
      queue.push(channel.latest);
    }
    channel.listeners.add(listener);
    const joined = channel;
    const leave = () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0 && this.channels.get(key) === joined) {
        this.channels.delete(key);
        joined.stop?.();
      }
    };
    return (async function* () {
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!;
          if (done) {
            if (failure) throw failure;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        leave();
      }
    })();
  }

  /** Upstream subscriptions open now (tests and metrics). */
  get size(): number {
    return this.channels.size;
  }
}
