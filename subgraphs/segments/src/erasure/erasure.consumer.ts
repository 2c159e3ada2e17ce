/**
 * The segments service's erasure workers: its own part (the profile, events, orders, memberships
 * and signals of the customer) and the audit, which records every service's completion and, once
 * all have reported, sweeps the event log and closes the request.
 */
import {
  deleteCustomerRows,
  ERASURE_EVENTS_SUBJECT,
  erasureCompletedSchema,
  parseEvent,
  queryWithParams,
  reportDeadLetter,
  scrubMessageTables,
  startErasureParticipant,
  type ConsumerDeps,
  type ErasureRequested,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ErasureService } from './erasure.service.js';

export const ERASURE_AUDIT_CONSUMER = 'segments.erasure-audit';

/** Deletes every row of the customer in `segments` (the erasure's own work rows excepted). */
export async function eraseSegmentsCustomer(
  em: EntityManager,
  request: ErasureRequested,
): Promise<Record<string, number>> {
  const known = await queryWithParams<{ email: string | null; trait_email: string | null }>(
    em,
    `select email, traits->>'email' as trait_email from segments.customer_profile where customer_id = $1`,
    [request.customerId],
  );
  const emails = known.flatMap((r) => [r.email, r.trait_email]).filter((e): e is string => !!e);
  return {
    ...(await deleteCustomerRows(em, 'segments', request.customerId, ['erasure_work'])),
    ...(await scrubMessageTables(em, 'segments', { ids: [request.customerId], emails })),
  };
}

export async function startErasureWorkers(deps: ConsumerDeps): Promise<() => Promise<void>> {
  const stopParticipant = await startErasureParticipant(deps, {
    service: 'segments',
    schema: 'segments',
    erase: eraseSegmentsCustomer,
  });
  const audit = await deps.bus.consume<unknown>({
    name: ERASURE_AUDIT_CONSUMER,
    subjects: [ERASURE_EVENTS_SUBJECT],
    batchSize: 1,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(ERASURE_AUDIT_CONSUMER, deps),
    handle: async (batch) => {
      for (const delivery of batch) {
        if ((delivery.data as { type?: unknown } | null)?.type !== 'erasure.completed') continue;
        const event = parseEvent(erasureCompletedSchema, delivery.data, delivery.id);
        const work = await deps.orm.em
          .fork()
          .transactional((em) => new ErasureService(em).recordCompletion(event));
        if (!work) continue;
        // Idempotent: when closing fails below, the redelivered completion sweeps again.
        const erased = await deps.bus.eraseMessages({
          ids: [work.customerId],
          emails: work.emails,
        });
        await deps.orm.em
          .fork()
          .transactional((em) => new ErasureService(em).finish(work.requestId, erased));
        deps.logger.info({ requestId: work.requestId, erased }, 'erasure request completed');
      }
    },
  });
  return async () => {
    await audit.stop();
    await stopParticipant();
  };
}
