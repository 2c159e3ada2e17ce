/**
 * The reference shop's part in a GDPR erasure (it stands in for the e-commerce platform, the other
 * bounded context, which must forget the person too). The customer's profile is deleted; their
 * orders are kept for the shop's accounting but moved to a fresh random customer with no contact
 * data, and no record of the link is kept. Queued identify/order events of the customer never
 * leave the outbox. Repeating it finds nothing left to do, so no processed-message table is needed.
 */
import { randomUUID } from 'node:crypto';
import {
  queryWithParams,
  scrubMessageTables,
  startErasureParticipant,
  type ConsumerDeps,
  type ErasureRequested,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';

export async function eraseEcommerceCustomer(
  em: EntityManager,
  request: ErasureRequested,
): Promise<Record<string, number>> {
  const customerId = request.customerId;
  const [customer] = await queryWithParams<{ email: string }>(
    em,
    'select email from ecommerce.customer where id = $1 for update',
    [customerId],
  );
  const scrubbed = await scrubMessageTables(
    em,
    'ecommerce',
    { ids: [customerId], emails: customer ? [customer.email] : [] },
    { outbox: true, processed: false },
  );
  if (!customer) return { customer: 0, order: 0, ...scrubbed };
  const anonymous = `erased-${randomUUID()}`;
  await queryWithParams(
    em,
    `insert into ecommerce.customer (id, email, first_name, last_name, country, created_at, updated_at)
     select $2, $2 || '@erased.invalid', null, null, null, created_at, now()
     from ecommerce.customer where id = $1`,
    [customerId, anonymous],
  );
  const [orders] = await queryWithParams<{ n: number }>(
    em,
    `with moved as (update ecommerce."order" set customer_id = $2 where customer_id = $1 returning 1)
     select count(*)::int as n from moved`,
    [customerId, anonymous],
  );
  await queryWithParams(em, 'delete from ecommerce.customer where id = $1', [customerId]);
  return { customer: 1, order: orders?.n ?? 0, ...scrubbed };
}

export function startEcommerceErasure(deps: ConsumerDeps): Promise<() => Promise<void>> {
  return startErasureParticipant(deps, {
    service: 'ecommerce',
    schema: 'ecommerce',
    erase: eraseEcommerceCustomer,
    claim: false,
  });
}
