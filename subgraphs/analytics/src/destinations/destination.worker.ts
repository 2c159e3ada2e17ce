/**
 * Drains the destination queue: claims due deliveries, sends each to its destination, records the
 * outcome (delivered; retried with exponential backoff and jitter; or dead after the last attempt
 * or a refusal that retrying cannot fix, e.g. 400 or 401). Several replicas share the queue.
 */
import { describeError, type Logger, type ServiceMetrics } from '@marketing/platform';
import type { MikroORM } from '@mikro-orm/postgresql';
import { postJson } from './destination.http.js';
import { buildRequest } from './destination.payload.js';
import {
  claimDue,
  markDelivered,
  markFailed,
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
  /** Deliveries claimed (and sent concurrently) at a time. */
  batchSize?: number;
}

export interface DestinationWorker {
  /** New deliveries were queued: look now rather than at the next poll. */
  wake(): void;
  stop(): Promise<void>;
}

const STAGE = 'analytics.destinations';

export function startDestinationWorker(options: DestinationWorkerOptions): DestinationWorker {
  let running = true;
  let woken = false;
  let interrupt: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || !running) {
        woken = false;
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
    });
  // A claim lapses well after the request's own timeout.
  const leaseMs = options.timeoutMs * 2 + 5_000;

  const loop = (async () => {
    while (running) {
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await claimDue(options.orm.em.fork(), options.batchSize ?? 20, leaseMs);
        await Promise.all(claimed.map((d) => deliver(options, d)));
      } catch (error) {
        options.logger.error({ err: error }, `${STAGE}: draining the queue failed`);
      }
      if (claimed.length === 0) await sleep(options.pollMs);
    }
  })();

  return {
    wake: () => {
      if (interrupt) interrupt();
      else woken = true;
    },
    stop: async () => {
      running = false;
      interrupt?.();
      await loop;
    },
  };
}

async function deliver(options: DestinationWorkerOptions, delivery: ClaimedDelivery) {
  const em = options.orm.em.fork();
  let outcome;
  try {
    outcome = await postJson(buildRequest(delivery, delivery.event), {
      timeoutMs: options.timeoutMs,
      policy: options.policy,
    });
  } catch (error) {
    outcome = { ok: false, retryable: false, error: describeError(error) };
  }
  if (outcome.ok) {
    await markDelivered(em, delivery);
    options.metrics?.messages.inc({ stage: STAGE, result: 'delivered' });
    return;
  }
  const error = outcome.error ?? 'failed';
  const retry = outcome.retryable && delivery.attempt < options.maxAttempts;
  await markFailed(
    em,
    delivery,
    error,
    retry ? retryDelayMs(delivery.attempt, options.backoff) : null,
  );
  options.metrics?.messages.inc({ stage: STAGE, result: retry ? 'retry' : 'dead_letter' });
  const log = { destinationId: delivery.destinationId, eventId: delivery.event.id, error };
  if (retry) options.logger.warn({ ...log, attempt: delivery.attempt }, `${STAGE}: attempt failed`);
  else options.logger.error(log, `${STAGE}: delivery dead-lettered`);
}
