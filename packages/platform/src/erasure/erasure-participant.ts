/**
 * A service's part in a GDPR erasure: consumes `erasure.requested` from `marketing.erasure`,
 * erases the customer in one transaction with its record of the message as processed, and reports
 * `erasure.completed` through its outbox in that same transaction. The completion's id is fixed
 * per (request, service), so a repeated report reaches the requester once.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { reportDeadLetter, type ConsumerDeps } from '../bus/consumer-support.js';
import { addToOutbox, claimMessages } from '../bus/outbox.js';
import {
  ERASURE_EVENTS_SUBJECT,
  erasureRequestedSchema,
  parseEvent,
  type ErasureCompleted,
  type ErasureRequested,
} from '../events/marketing-events.js';

/** Erases the request's customer in the caller's transaction; returns counts of rows (no data). */
export type EraseCustomer = (
  em: EntityManager,
  request: ErasureRequested,
) => Promise<Record<string, number>>;

export interface ErasureParticipantOptions {
  /** Reported as the completion's `service`. */
  service: string;
  /** The service's schema (its `processed_message` table). */
  schema: string;
  erase: EraseCustomer;
  /**
   * Record the request as processed (default). A service without a processed-message table
   * passes false: its erasure must then be a no-op when repeated.
   */
  claim?: boolean;
}

export function erasureCompletedId(requestId: string, service: string): string {
  return `erasure.completed:${requestId}:${service}`;
}

export async function startErasureParticipant(
  deps: ConsumerDeps,
  options: ErasureParticipantOptions,
): Promise<() => Promise<void>> {
  const name = `${options.service}.erasure`;
  const consumer = await deps.bus.consume<unknown>({
    name,
    subjects: [ERASURE_EVENTS_SUBJECT],
    // Rare and heavy: one request per transaction.
    batchSize: 1,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(name, deps),
    handle: async (batch) => {
      for (const delivery of batch) {
        if ((delivery.data as { type?: unknown } | null)?.type !== 'erasure.requested') continue;
        const request = parseEvent(erasureRequestedSchema, delivery.data, delivery.id);
        const counts = await deps.orm.em.fork().transactional(async (em) => {
          if (options.claim !== false) {
            const fresh = await claimMessages(em, options.schema, name, [delivery.id]);
            if (!fresh.has(delivery.id)) return null;
          }
          const erased = await options.erase(em, request);
          const completed: ErasureCompleted = {
            type: 'erasure.completed',
            requestId: request.requestId,
            service: options.service,
            completedAt: new Date().toISOString(),
            counts: erased,
          };
          addToOutbox(em, [
            {
              subject: ERASURE_EVENTS_SUBJECT,
              id: erasureCompletedId(request.requestId, options.service),
              data: completed,
            },
          ]);
          return erased;
        });
        if (counts) {
          deps.metrics?.messages.inc({ stage: name, result: 'erased' });
          deps.logger.info({ requestId: request.requestId, counts }, 'customer erased');
        }
      }
    },
  });
  return () => consumer.stop();
}
