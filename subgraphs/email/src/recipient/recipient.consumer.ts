/**
 * Keeps `email_recipient` in step with the e-commerce identify events on `ecommerce.events`:
 * traits merged per field by source version (so any arrival order gives the same recipient),
 * idempotent by message id.
 */
import {
  claimMessages,
  ECOMMERCE_EVENTS_SUBJECT,
  mergeTraits,
  messageVersion,
  profileColumns,
  queryWithParams,
  type IdentifyMessage,
  type ConsumerDeps,
  reportDeadLetter,
  parseIngestedDelivery,
} from '@marketing/platform';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';

export const RECIPIENT_CONSUMER = 'email.recipients';

export async function startRecipientConsumer(deps: ConsumerDeps) {
  const consumer = await deps.bus.consume<unknown>({
    name: RECIPIENT_CONSUMER,
    subjects: [ECOMMERCE_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(RECIPIENT_CONSUMER, deps),
    handle: async (batch) => {
      const identifies = batch
        .filter((d) => (d.data as { type?: unknown } | null)?.type === 'identify')
        .map((d) => parseIngestedDelivery(d) as IdentifyMessage);
      if (identifies.length === 0) return;
      const applied = await applyIdentifies(deps.orm, identifies);
      deps.metrics?.messages.inc({ stage: RECIPIENT_CONSUMER, result: 'applied' }, applied);
    },
  });
  return () => consumer.stop();
}

export async function applyIdentifies(orm: MikroORM, messages: IdentifyMessage[]): Promise<number> {
  return orm.em.fork().transactional(async (em) => {
    const fresh = await claimMessages(
      em,
      'email',
      RECIPIENT_CONSUMER,
      messages.map((m) => m.messageId),
    );
    const todo = messages.filter((m) => fresh.has(m.messageId));
    if (todo.length === 0) return 0;
    const customers = [...new Set(todo.map((m) => m.userId))].sort();
    await queryWithParams(
      em,
      `select pg_advisory_xact_lock(hashtextextended('recipient:' || id, 0)) from unnest($1::text[]) id`,
      [customers],
    );
    const existing = await queryWithParams<{
      customer_id: string;
      traits: Record<string, unknown>;
      trait_versions: Record<string, string>;
      updated_at: string;
    }>(
      em,
      `select customer_id, traits, trait_versions, updated_at from email.email_recipient where customer_id = any($1::text[])`,
      [customers],
    );
    const state = new Map(
      customers.map((id) => [
        id,
        { traits: {}, traitVersions: {} } as {
          traits: Record<string, unknown>;
          traitVersions: Record<string, string>;
        },
      ]),
    );
    for (const row of existing) {
      state.set(row.customer_id, { traits: row.traits, traitVersions: row.trait_versions });
    }
    for (const m of todo) {
      state.set(m.userId, mergeTraits(state.get(m.userId)!, m.traits, messageVersion(m)));
    }
    const rows = [...state.entries()].map(([id, s]) => {
      const c = profileColumns(s.traits);
      return {
        customer_id: id,
        email: c.email,
        first_name: c.firstName,
        last_name: c.lastName,
        timezone: c.timezone,
        traits: s.traits,
        trait_versions: s.traitVersions,
      };
    });
    await queryWithParams(
      em,
      `insert into email.email_recipient (customer_id, email, first_name, last_name, timezone, traits, trait_versions, updated_at)
       select r.customer_id, r.email, r.first_name, r.last_name, r.timezone, r.traits, r.trait_versions, now()
       from jsonb_to_recordset($1::jsonb) as r(customer_id text, email text, first_name text, last_name text,
         timezone text, traits jsonb, trait_versions jsonb)
       on conflict (customer_id) do update set email = excluded.email, first_name = excluded.first_name,
         last_name = excluded.last_name, timezone = excluded.timezone, traits = excluded.traits,
         trait_versions = excluded.trait_versions, updated_at = now()`,
      [JSON.stringify(rows)],
    );
    await recordConsentFromTraits(em, todo);
    return todo.length;
  });
}

/** Identify traits that carry marketing email consent, as e-commerce platforms send them. */
const CONSENT_TRAITS = [
  'emailConsent',
  'email_consent',
  'marketingConsent',
  'marketing_consent',
  'acceptsMarketing',
  'accepts_marketing',
];

/** Consent given or withdrawn at the shop, kept when newer than what is recorded. */
async function recordConsentFromTraits(em: EntityManager, messages: IdentifyMessage[]) {
  const changes = messages.flatMap((m) => {
    const key = CONSENT_TRAITS.find((k) => typeof m.traits[k] === 'boolean');
    return key
      ? [{ customer_id: m.userId, subscribed: m.traits[key] as boolean, at: m.timestamp, key }]
      : [];
  });
  if (changes.length === 0) return;
  await queryWithParams(
    em,
    `with r as (select * from jsonb_to_recordset($1::jsonb) as r(customer_id text, subscribed boolean, at timestamptz, key text)),
     latest as (select distinct on (customer_id) * from r order by customer_id, at desc),
     changed as (
       insert into email.email_consent (customer_id, subscribed, source, consent_updated_at)
       select customer_id, subscribed, 'ecommerce identify (' || key || ')', at from latest
       on conflict (customer_id) do update set subscribed = excluded.subscribed,
         source = excluded.source, consent_updated_at = excluded.consent_updated_at
       where excluded.consent_updated_at > email_consent.consent_updated_at
       returning customer_id, subscribed, source, consent_updated_at
     )
     insert into email.email_consent_event (customer_id, topic, subscribed, source, actor, at)
     select customer_id, null, subscribed, source, 'system:ecommerce', consent_updated_at from changed`,
    [JSON.stringify(changes)],
  );
}
