/**
 * The email service's part in a GDPR erasure: every address the customer was known or mailed by
 * becomes an anonymous ERASED suppression (a hash of the normalised address, checked by the sender
 * before every message, and never lifted by a later opt-in), then the recipient, consent and its
 * history, topics, deliveries with their history and links, and the customer's outbox and
 * processed-message traces are deleted.
 */
import {
  deleteCustomerRows,
  queryWithParams,
  scrubMessageTables,
  startErasureParticipant,
  type ConsumerDeps,
  type ErasureRequested,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { addressHash } from '../preferences/suppression.js';

export async function eraseEmailCustomer(
  em: EntityManager,
  request: ErasureRequested,
): Promise<Record<string, number>> {
  const customerId = request.customerId;
  const known = await queryWithParams<{ email: string }>(
    em,
    `select email from email.email_recipient where customer_id = $1 and email is not null
     union select traits->>'email' from email.email_recipient where customer_id = $1 and traits ? 'email'
     union select email from email.email_delivery where customer_id = $1 and email is not null`,
    [customerId],
  );
  const emails = [...new Set(known.map((r) => r.email.trim()).filter((e) => e.length > 0))];
  const hashes = [...new Set(emails.map(addressHash))];
  await queryWithParams(
    em,
    `insert into email.suppression (address_hash, customer_id, reason, created_at)
     select h, null, 'ERASED', now() from unnest($1::text[]) h
     on conflict (address_hash) do update set customer_id = null, reason = 'ERASED'`,
    [hashes],
  );
  await queryWithParams(
    em,
    'update email.suppression set customer_id = null where customer_id = $1',
    [customerId],
  );
  const [links] = await queryWithParams<{ n: number }>(
    em,
    `with gone as (delete from email.email_link where delivery_id in
       (select id from email.email_delivery where customer_id = $1) returning 1)
     select count(*)::int as n from gone`,
    [customerId],
  );
  return {
    suppressed: hashes.length,
    email_link: links?.n ?? 0,
    ...(await deleteCustomerRows(em, 'email', customerId, ['suppression'])),
    ...(await scrubMessageTables(em, 'email', { ids: [customerId], emails })),
  };
}

export function startEmailErasure(deps: ConsumerDeps): Promise<() => Promise<void>> {
  return startErasureParticipant(deps, {
    service: 'email',
    schema: 'email',
    erase: eraseEmailCustomer,
  });
}
