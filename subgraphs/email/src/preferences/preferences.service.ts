/**
 * Consent, topics and unsubscribes. Every change is recorded as a consent event (proof of what,
 * where from, when, by whom). An unsubscribe also suppresses the address (by hash) and publishes
 * `email.unsubscribed`, all in one transaction.
 */
import {
  EMAIL_EVENTS_SUBJECT,
  InvalidInputError,
  queryWithParams,
  type Identity,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { addressHash } from './suppression.js';

export interface PreferencesChange {
  subscribed?: boolean | null;
  topics?: { topic: string; subscribed: boolean }[] | null;
  source: string;
}

const TOPIC = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkPreferencesChange(input: PreferencesChange): void {
  if (input.source.trim().length === 0 || input.source.length > 200) {
    throw new InvalidInputError('must be 1 to 200 characters', 'input.source');
  }
  (input.topics ?? []).forEach((t, i) => {
    if (!TOPIC.test(t.topic)) {
      throw new InvalidInputError(
        'a topic is 1-64 lower-case letters, digits, ".", "_" or "-"',
        `input.topics[${i}].topic`,
      );
    }
  });
}

/** Applies a consent change for a customer, in the caller's transaction. */
export async function changePreferences(
  em: EntityManager,
  customerId: string,
  input: PreferencesChange,
  actor: string,
  context: { deliveryId?: string | null; campaignId?: string | null } = {},
): Promise<void> {
  checkPreferencesChange(input);
  const at = new Date().toISOString();
  if (input.subscribed !== undefined && input.subscribed !== null) {
    const [previous] = await queryWithParams<{ subscribed: boolean }>(
      em,
      `select subscribed from email.email_consent where customer_id = $1 for update`,
      [customerId],
    );
    await queryWithParams(
      em,
      `insert into email.email_consent (customer_id, subscribed, source, consent_updated_at)
       values ($1, $2, $3, $4)
       on conflict (customer_id) do update set subscribed = excluded.subscribed,
         source = excluded.source, consent_updated_at = excluded.consent_updated_at`,
      [customerId, input.subscribed, input.source, at],
    );
    await recordConsentEvent(em, customerId, null, input.subscribed, input.source, actor, at);
    const email = await recipientEmail(em, customerId);
    if (!input.subscribed) {
      if (email) {
        await queryWithParams(
          em,
          `insert into email.suppression (address_hash, customer_id, reason, created_at)
           values ($1, $2, 'UNSUBSCRIBED', $3) on conflict (address_hash) do nothing`,
          [addressHash(email), customerId, at],
        );
      }
      if (previous?.subscribed !== false) {
        await publishUnsubscribed(em, customerId, at, context);
      }
    } else if (email) {
      // Opting in again lifts an unsubscribe, never a bounce, a complaint or an erasure.
      await queryWithParams(
        em,
        `delete from email.suppression where address_hash = $1 and reason = 'UNSUBSCRIBED'`,
        [addressHash(email)],
      );
    }
  }
  for (const t of input.topics ?? []) {
    await queryWithParams(
      em,
      `insert into email.topic_subscription (customer_id, topic, subscribed, updated_at)
       values ($1, $2, $3, $4)
       on conflict (customer_id, topic) do update set subscribed = excluded.subscribed,
         updated_at = excluded.updated_at`,
      [customerId, t.topic, t.subscribed, at],
    );
    await recordConsentEvent(em, customerId, t.topic, t.subscribed, input.source, actor, at);
  }
}

async function recordConsentEvent(
  em: EntityManager,
  customerId: string,
  topic: string | null,
  subscribed: boolean,
  source: string,
  actor: string,
  at: string,
) {
  await queryWithParams(
    em,
    `insert into email.email_consent_event (customer_id, topic, subscribed, source, actor, at)
     values ($1, $2, $3, $4, $5, $6)`,
    [customerId, topic, subscribed, source, actor, at],
  );
}

async function recipientEmail(em: EntityManager, customerId: string): Promise<string | null> {
  const [row] = await queryWithParams<{ email: string | null }>(
    em,
    `select coalesce(
       (select email from email.email_recipient where customer_id = $1),
       (select email from email.email_delivery where customer_id = $1 and email is not null
        order by queued_at desc limit 1)) as email`,
    [customerId],
  );
  return row?.email ?? null;
}

async function publishUnsubscribed(
  em: EntityManager,
  customerId: string,
  at: string,
  context: { deliveryId?: string | null; campaignId?: string | null },
) {
  await queryWithParams(
    em,
    `insert into email.outbox (subject, message_id, data, created_at)
     values ($1, $2, $3::jsonb, now())`,
    [
      EMAIL_EVENTS_SUBJECT,
      `email.unsubscribed:${customerId}:${at}`,
      JSON.stringify({
        type: 'email.unsubscribed',
        customerId,
        ...(context.deliveryId ? { deliveryId: context.deliveryId } : {}),
        campaignId: context.campaignId ?? null,
        occurredAt: at,
      }),
    ],
  );
}

export function actorOf(viewer: Identity): string {
  return viewer.sub;
}
