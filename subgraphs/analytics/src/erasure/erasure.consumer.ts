/**
 * The analytics service's part in a GDPR erasure: the customer's journey (touchpoints), delivery
 * facts, attributed orders and prediction inputs, and every other table with a `customer_id`
 * (found at run time), plus the customer's outbox and processed-message traces. Aggregates
 * (campaign and variant stats, fitted model parameters) hold no personal data and stay.
 */
import {
  deleteCustomerRows,
  scrubMessageTables,
  startErasureParticipant,
  type ConsumerDeps,
  type ErasureRequested,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';

export async function eraseAnalyticsCustomer(
  em: EntityManager,
  request: ErasureRequested,
): Promise<Record<string, number>> {
  return {
    ...(await deleteCustomerRows(em, 'analytics', request.customerId)),
    ...(await scrubMessageTables(em, 'analytics', { ids: [request.customerId], emails: [] })),
  };
}

export function startAnalyticsErasure(deps: ConsumerDeps): Promise<() => Promise<void>> {
  return startErasureParticipant(deps, {
    service: 'analytics',
    schema: 'analytics',
    erase: eraseAnalyticsCustomer,
  });
}
