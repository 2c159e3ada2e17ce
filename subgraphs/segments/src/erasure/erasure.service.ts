/**
 * GDPR erasure, owned here because this service owns the customer profile: the request (audit row,
 * the identifiers the final sweep needs, and `erasure.requested` in the outbox, in one
 * transaction), the services' completions, and the end (the event log swept, the identifiers
 * forgotten). The audit never holds the customer id: a keyed hash finds a customer's requests.
 */
import { createHmac, randomUUID } from 'node:crypto';
import {
  addToOutbox,
  ERASURE_EVENTS_SUBJECT,
  InvalidInputError,
  invariant,
  queryWithParams,
  type ErasureCompleted,
  type ErasureRequested,
  type Identity,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ErasureCompletion, ErasureRequest, ErasureWork } from './erasure.entity.js';

/** Who must report before a request is complete (each consumes `erasure.requested`). */
export const ERASURE_SERVICES = ['segments', 'email', 'campaigns', 'analytics', 'ecommerce'];
/** The last step, done here once every service has reported: the bus's retained messages. */
export const EVENT_LOG_STEP = 'event-log';

export interface ErasureStatus {
  request: ErasureRequest;
  completions: ErasureCompletion[];
}

export class ErasureService {
  constructor(private readonly em: EntityManager) {}

  async subjectHash(customerId: string): Promise<string> {
    const [row] = await queryWithParams<{ key: string }>(
      this.em,
      'select key from segments.erasure_key where id = 1',
      [],
    );
    invariant(row, 'segments.erasure_key has its row (written by the migration)');
    return createHmac('sha256', row.key).update(customerId, 'utf8').digest('hex');
  }

  /** Records the request and publishes it; an unknown customer is erased all the same. */
  async request(customerId: string, viewer: Identity): Promise<string> {
    if (customerId.trim().length === 0 || customerId.length > 256) {
      throw new InvalidInputError('must be 1 to 256 characters', 'customerId');
    }
    return this.em.transactional(async (em) => {
      const requestId = randomUUID();
      const requestedAt = new Date();
      const found = await queryWithParams<{ email: string | null; trait_email: string | null }>(
        em,
        `select email, traits->>'email' as trait_email from segments.customer_profile
         where customer_id = $1`,
        [customerId],
      );
      const emails = [
        ...new Set(found.flatMap((r) => [r.email, r.trait_email]).filter((e): e is string => !!e)),
      ];
      em.persist(
        em.create(ErasureRequest, {
          id: requestId,
          subjectHash: await new ErasureService(em).subjectHash(customerId),
          requestedBy: viewer.sub,
          requestedAt,
        }),
      );
      em.persist(em.create(ErasureWork, { requestId, customerId, emails }));
      const data: ErasureRequested = {
        type: 'erasure.requested',
        requestId,
        customerId,
        requestedBy: viewer.sub,
        requestedAt: requestedAt.toISOString(),
      };
      addToOutbox(em, [{ subject: ERASURE_EVENTS_SUBJECT, id: requestId, data }]);
      return requestId;
    });
  }

  /** The requests made for a customer, newest first, with each service's completion. */
  async statusOf(customerId: string): Promise<ErasureStatus[]> {
    const requests = await this.em.find(
      ErasureRequest,
      { subjectHash: await this.subjectHash(customerId) },
      { orderBy: { requestedAt: 'desc' } },
    );
    const completions = await this.em.find(
      ErasureCompletion,
      { requestId: { $in: requests.map((r) => r.id) } },
      { orderBy: { completedAt: 'asc' } },
    );
    return requests.map((request) => ({
      request,
      completions: completions.filter((c) => c.requestId === request.id),
    }));
  }

  /**
   * Records a service's completion (once). Returns the request's work when every service has now
   * reported and only the event log is left, else null.
   */
  async recordCompletion(event: ErasureCompleted): Promise<ErasureWork | null> {
    await queryWithParams(
      this.em,
      `insert into segments.erasure_completion (request_id, service, completed_at, counts)
       select $1, $2, $3, $4::jsonb where exists (select 1 from segments.erasure_request where id = $1)
       on conflict do nothing`,
      [event.requestId, event.service, event.completedAt, JSON.stringify(event.counts ?? {})],
    );
    const [done] = await queryWithParams<{ n: number }>(
      this.em,
      `select count(*)::int as n from segments.erasure_completion
       where request_id = $1 and service = any($2::text[])`,
      [event.requestId, ERASURE_SERVICES],
    );
    if ((done?.n ?? 0) < ERASURE_SERVICES.length) return null;
    return this.em.findOne(ErasureWork, { requestId: event.requestId });
  }

  /** After the event log is swept: the last completion, and the identifiers forgotten. */
  async finish(requestId: string, erasedMessages: number): Promise<void> {
    const now = new Date();
    await queryWithParams(
      this.em,
      `insert into segments.erasure_completion (request_id, service, completed_at, counts)
       values ($1, $2, $3, $4::jsonb) on conflict do nothing`,
      [requestId, EVENT_LOG_STEP, now.toISOString(), JSON.stringify({ messages: erasedMessages })],
    );
    await queryWithParams(this.em, 'delete from segments.erasure_work where request_id = $1', [
      requestId,
    ]);
    await queryWithParams(
      this.em,
      'update segments.erasure_request set completed_at = $2 where id = $1 and completed_at is null',
      [requestId, now.toISOString()],
    );
  }
}
