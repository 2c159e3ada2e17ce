/**
 * The delivery ledger's entry point: send requests (from the Campaign Manager over
 * `marketing.sends`) become QUEUED rows, one per dedupe key whatever the number of requests,
 * each with its template version pinned at that moment.
 */
import {
  parseEvent,
  queryWithParams,
  SEND_REQUESTS_SUBJECT,
  sendRequestSchema,
  type SendRequest,
  type ConsumerDeps,
  reportDeadLetter,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';

export const SEND_REQUEST_CONSUMER = 'email.send-requests';

/** Queues the requests; returns how many were new (a known dedupe key changes nothing). */
export async function enqueueSends(em: EntityManager, requests: SendRequest[]): Promise<number> {
  if (requests.length === 0) return 0;
  const rows = await queryWithParams<{ id: string }>(
    em,
    `with r as (
       select * from jsonb_to_recordset($1::jsonb) as r(dedupe_key text, customer_id text,
         template_id uuid, template_version int, campaign_id uuid, variant_id uuid, topic text,
         event jsonb, requested_at timestamptz)
     ),
     inserted as (
       insert into email.email_delivery (id, dedupe_key, campaign_id, customer_id, variant_id, status,
         template_id, template_version, topic, context, attempts, next_attempt_at, queued_at, error)
       select gen_random_uuid(), r.dedupe_key, r.campaign_id, r.customer_id, r.variant_id,
         (case when t.id is null then 'FAILED' else 'QUEUED' end)::email.delivery_status,
         r.template_id, coalesce(r.template_version, t.version, 0), r.topic, r.event, 0, now(), now(),
         case when t.id is null then 'template ' || r.template_id || ' not found' end
       from r left join email.email_template t on t.id = r.template_id
       on conflict (dedupe_key) do nothing
       returning id, status, error
     ),
     history as (
       insert into email.email_delivery_event (delivery_id, status, detail, at)
       select id, status, error, now() from inserted
     )
     select id from inserted`,
    [
      JSON.stringify(
        requests.map((r) => ({
          dedupe_key: r.dedupeKey,
          customer_id: r.customerId,
          template_id: r.templateId,
          template_version: r.templateVersion ?? null,
          campaign_id: r.campaignId ?? null,
          variant_id: r.variantId ?? null,
          topic: r.topic ?? null,
          event: r.event ?? null,
          requested_at: r.requestedAt,
        })),
      ),
    ],
  );
  return rows.length;
}

export async function startSendRequestConsumer(deps: ConsumerDeps) {
  const consumer = await deps.bus.consume<unknown>({
    name: SEND_REQUEST_CONSUMER,
    subjects: [SEND_REQUESTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(SEND_REQUEST_CONSUMER, deps),
    handle: async (batch) => {
      const requests = batch.map((d) => parseEvent(sendRequestSchema, d.data, d.id));
      const queued = await deps.orm.em.fork().transactional((em) => enqueueSends(em, requests));
      deps.metrics?.messages.inc({ stage: SEND_REQUEST_CONSUMER, result: 'queued' }, queued);
      deps.metrics?.messages.inc(
        { stage: SEND_REQUEST_CONSUMER, result: 'duplicate' },
        requests.length - queued,
      );
    },
  });
  return () => consumer.stop();
}
