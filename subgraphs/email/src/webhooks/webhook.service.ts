/**
 * What a provider's bounce, complaint or delivery notification does, whichever provider sent it:
 * a hard bounce suppresses the address and marks the delivery BOUNCED; a complaint suppresses it
 * and marks COMPLAINED; a soft bounce is kept in the history; a delivery confirms DELIVERED. Each
 * with its `email.*` event, once per provider event id.
 */
import { claimMessages, EMAIL_EVENTS_SUBJECT, queryWithParams } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { addressHash } from '../preferences/suppression.js';
import type { WebhookEvent } from './webhook-event.js';

export type ProviderEvent = WebhookEvent;

export async function applyProviderEvents(
  em: EntityManager,
  events: ProviderEvent[],
): Promise<number> {
  if (events.length === 0) return 0;
  const fresh = await claimMessages(
    em,
    'email',
    `webhook.${events[0]!.provider}`,
    events.map((e) => e.eventId),
  );
  let applied = 0;
  for (const e of events.filter((x) => fresh.has(x.eventId))) {
    applied += 1;
    const messageId = e.messageId ? `<${e.messageId.replace(/^<|>$/g, '')}>` : null;
    const [delivery] = await queryWithParams<{
      id: string;
      customer_id: string;
      campaign_id: string | null;
      variant_id: string | null;
    }>(
      em,
      `select id, customer_id, campaign_id, variant_id from email.email_delivery
       where ($1::text is not null and message_id = $1) or ($1::text is null and lower(email) = lower($2))
       order by queued_at desc limit 1`,
      [messageId, e.email],
    );
    const hard = e.type === 'complaint' || (e.type === 'bounce' && e.bounceType !== 'soft');
    if (hard) {
      await queryWithParams(
        em,
        `insert into email.suppression (address_hash, customer_id, reason, created_at)
         values ($1, $2, $3, now()) on conflict (address_hash) do nothing`,
        [
          addressHash(e.email),
          delivery?.customer_id ?? null,
          e.type === 'complaint' ? 'COMPLAINT' : 'HARD_BOUNCE',
        ],
      );
    }
    if (!delivery) continue;
    const status =
      e.type === 'complaint'
        ? 'COMPLAINED'
        : e.type === 'delivery'
          ? 'DELIVERED'
          : hard
            ? 'BOUNCED'
            : 'DEFERRED';
    if (hard || e.type === 'delivery') {
      await queryWithParams(
        em,
        `update email.email_delivery set status = $2::email.delivery_status,
           delivered_at = case when $2 = 'DELIVERED' then coalesce(delivered_at, $3::timestamptz) else delivered_at end,
           error = case when $2 = 'DELIVERED' then error else $4 end
         where id = $1 and ($2 <> 'DELIVERED' or status in ('SENT', 'SENDING', 'DELIVERED'))`,
        [delivery.id, status, e.occurredAt, `${e.provider}: ${e.reason ?? e.type}`],
      );
    }
    await queryWithParams(
      em,
      `insert into email.email_delivery_event (delivery_id, status, detail, at) values ($1, $2, $3, $4)`,
      [
        delivery.id,
        status,
        `${e.provider} ${e.type}${e.bounceType ? ` (${e.bounceType})` : ''}: ${e.reason ?? ''}`.trim(),
        e.occurredAt,
      ],
    );
    const type =
      e.type === 'complaint'
        ? 'email.complained'
        : e.type === 'delivery'
          ? null
          : hard
            ? 'email.bounced'
            : 'email.deferred';
    if (type) {
      await queryWithParams(
        em,
        `insert into email.outbox (subject, message_id, data, created_at) values ($1, $2, $3::jsonb, now())`,
        [
          EMAIL_EVENTS_SUBJECT,
          `${type}:${delivery.id}:${e.eventId}`,
          JSON.stringify({
            type,
            customerId: delivery.customer_id,
            deliveryId: delivery.id,
            campaignId: delivery.campaign_id,
            variantId: delivery.variant_id,
            occurredAt: new Date(e.occurredAt).toISOString(),
          }),
        ],
      );
    }
  }
  return applied;
}
