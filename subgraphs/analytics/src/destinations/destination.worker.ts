/**
 * Drains the destination queue: claims due deliveries, sends each to its destination, records the
 * outcome (delivered; retried with exponential backoff and jitter; or dead after the last attempt
 * or a refusal that retrying cannot fix, e.g. 400 or 401). Several replicas share the queue.
 * Requests run side by side up to a total and a per-destination limit, so a destination that hangs
 * holds a few slots, never the others' deliveries. Delivered rows are pruned after the retention.
 */
import { describeError, type Logger, type ServiceMetrics } from '@marketing/platform';
import type { MikroORM } from '@mikro-orm/postgresql';
import { keepAliveAgents, postJson, type Agents, type HttpOutcome } from './destination.http.js';
import { buildRequest } from './destination.payload.js';
import {
  claimDue,
  markDelivered,
  markFailed,
  pruneDelivered,
  retryDelayMs,
  type ClaimedDelivery,
} from './destination.queue.js';
import type { UrlPolicy } from './destination.url.js';

export interface DestinationWorkerOptions {
  orm: MikroORM;
  logger: Logger;
  metrics?: ServiceMetrics;
  policy: UrlPolicy;
  /** Per request, over the whole exchange. */
  timeoutMs: number;
  /** Attempts before a delivery is dead-lettered. */
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  /** How often the queue is polled when nothing wakes the worker. */
  pollMs: number;
  /** Requests in flight at most, in all (default 32) and per destination (default 4). */
  concurrency?: number;
  perDestination?: number;
  /** Delivered rows older than this are deleted (checked every ten minutes). */
  retentionMs: number;
}

export interface DestinationWorker {
  /** New deliveries were queued: look now rather than at the next poll. */
  wake(): void;
  /** Stops claiming, aborts the requests in flight (they are retried at once elsewhere). */
  stop(): Promise<void>;
}

const STAGE = 'analytics.destinations';
const PRUNE_EVERY_MS = 600_000;

export function startDestinationWorker(options: DestinationWorkerOptions): DestinationWorker {
  const concurrency = options.concurrency ?? 32;
  const perDestination = options.perDestination ?? 4;
  // A claim lapses well after the request's own timeout.
  const leaseMs = options.timeoutMs * 2 + 5_000;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const perDestinationInFlight = new Map<string, number>();
  const alarm = wakeable();
  const agents = keepAliveAgents(concurrency);
  let lastPrune = 0;

  const start = (delivery: ClaimedDelivery) => {
    const id = delivery.destinationId;
    perDestinationInFlight.set(id, (perDestinationInFlight.get(id) ?? 0) + 1);
    const running: Promise<void> = deliver(options, delivery, stopping.signal, agents)
      .catch((error) => {
        // The claim lapses and the delivery is tried again.
        options.logger.error({ err: error, eventId: delivery.event.id }, `${STAGE}: not recorded`);
      })
      .finally(() => {
        inFlight.delete(running);
        const left = (perDestinationInFlight.get(id) ?? 1) - 1;
        if (left === 0) perDestinationInFlight.delete(id);
        else perDestinationInFlight.set(id, left);
        alarm.wake();
      });
    inFlight.add(running);
  };

  const fill = async () => {
    while (!stopping.signal.aborted && inFlight.size < concurrency) {
      const limit = concurrency - inFlight.size;
      const claimed = await claimDue(
        options.orm.em.fork(),
        limit,
        leaseMs,
        perDestination,
        perDestinationInFlight,
      );
      claimed.forEach(start);
      if (claimed.length < limit) return;
    }
  };

  const prune = async () => {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    const pruned = await pruneDelivered(options.orm.em.fork(), options.retentionMs);
    if (pruned > 0) options.logger.info({ pruned }, `${STAGE}: delivered rows pruned`);
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await fill();
        await prune();
      } catch (error) {
        options.logger.error({ err: error }, `${STAGE}: draining the queue failed`);
      }
      await alarm.sleep(options.pollMs);
    }
    await Promise.allSettled([...inFlight]);
    agents.http.destroy();
    agents.https.destroy();
  })();

  return {
    wake: () => alarm.wake(),
    stop: async () => {
      stopping.abort();
      alarm.wake();
      await loop;
    },
  };
}

/** A sleep that wake() cuts short; a wake() while awake makes the next sleep return at once. */
function wakeable() {
  let pending = false;
  let interrupt: (() => void) | null = null;
  return {
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        if (pending) {
          pending = false;
          return resolve();
        }
        const timer = setTimeout(() => {
          interrupt = null;
          resolve();
        }, ms);
        interrupt = () => {
          clearTimeout(timer);
          interrupt = null;
          resolve();
        };
      }),
    wake: () => {
      if (interrupt) interrupt();
      else pending = true;
    },
  };
}

async function deliver(
  options: DestinationWorkerOptions,
  delivery: ClaimedDelivery,
  stopping: AbortSignal,
  agents: Agents,
) {
  let outcome: HttpOutcome;
  try {
    outcome = await postJson(buildRequest(delivery, delivery.event), {
      timeoutMs: options.timeoutMs,
      policy: options.policy,
      signal: stopping,
      agents,
    });
  } catch (error) {
    outcome = { ok: false, retryable: false, error: describeError(error) };
  }
  const em = options.orm.em.fork();
  if (outcome.ok) {
    await markDelivered(em, delivery);
    options.metrics?.messages.inc({ stage: STAGE, result: 'delivered' });
    return;
  }
  const error = outcome.error ?? 'failed';
  if (stopping.aborted) {
    // Cut short by the shutdown, not refused: due again at once, for this or another replica.
    await markFailed(em, delivery, {
      error: 'interrupted: the service stopped',
      retryInMs: 0,
      counted: false,
    });
    return;
  }
  const retry = outcome.retryable && delivery.attempt < options.maxAttempts;
  await markFailed(em, delivery, {
    error,
    retryInMs: retry ? retryDelayMs(delivery.attempt, options.backoff) : null,
    counted: true,
    // A receiver that is down or overloaded is given time as a whole, not hit once per event.
    pause: outcome.retryable ? options.backoff : undefined,
  });
  options.metrics?.messages.inc({ stage: STAGE, result: retry ? 'retry' : 'dead_letter' });
  const log = { destinationId: delivery.destinationId, eventId: delivery.event.id, error };
  if (retry) options.logger.warn({ ...log, attempt: delivery.attempt }, `${STAGE}: attempt failed`);
  else options.logger.error(log, `${STAGE}: delivery dead-lettered`);
}
