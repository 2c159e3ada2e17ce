/**
 * The customer profile projection: applies identify and track messages from `ecommerce.events` to
 * the profile, the event store and the order aggregates, one transaction per batch. Idempotent
 * (message ids are claimed in the same transaction) and order-independent (traits merge by source
 * version; order aggregates are recomputed from the order and refund rows).
 */
import { claimMessages, type IngestedMessage, type TrackMessage } from '@marketing/platform';
import {
  laterOf,
  mergeTraits,
  messageVersion,
  profileColumns,
  type TraitState,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CustomerChange, LiveMembership } from '../segment/membership.js';

export const PROFILE_CONSUMER = 'segments.profile';
const SCHEMA = 'segments';

interface ProfileRow extends TraitState {
  customer_id: string;
  last_seen_at: string | null;
}

export interface ProjectionResult {
  applied: number;
  duplicates: number;
  customers: string[];
}

const ORDER_ATTRIBUTES = [
  'orderCount',
  'totalSpent',
  'averageOrderValue',
  'firstOrderAt',
  'lastOrderAt',
];

export class ProfileProjection {
  /**
   * With `live`, the segments that read what a batch changed are re-evaluated for the customers it
   * changed, in the batch's transaction.
   */
  constructor(
    private readonly em: EntityManager,
    private readonly live?: LiveMembership,
  ) {}

  async apply(messages: IngestedMessage[]): Promise<ProjectionResult> {
    const unique = [...new Map(messages.map((m) => [m.messageId, m])).values()];
    return this.em.fork().transactional(async (em) => {
      const fresh = await claimMessages(
        em,
        SCHEMA,
        PROFILE_CONSUMER,
        unique.map((m) => m.messageId),
      );
      const todo = unique.filter((m) => fresh.has(m.messageId));
      if (todo.length === 0) return { applied: 0, duplicates: messages.length, customers: [] };
      const customers = [...new Set(todo.map((m) => m.userId))].sort();
      await em.execute(
        `select pg_advisory_xact_lock(hashtextextended('profile:' || id, 0))
         from (select jsonb_array_elements_text(?::jsonb) as id order by 1) ids`,
        [JSON.stringify(customers)],
      );
      const changes = await this.upsertProfiles(em, customers, todo);
      const tracks = todo.filter((m): m is TrackMessage => m.type === 'track');
      await insertEvents(em, tracks);
      const orderCustomers = await recordOrders(em, tracks);
      if (orderCustomers.length > 0) await recomputeOrderAggregates(em, orderCustomers);
      if (this.live) {
        for (const m of tracks) changes.get(m.userId)!.events.add(m.event);
        for (const id of orderCustomers) {
          const change = changes.get(id) ?? {
            customerId: id,
            attributes: new Set(),
            events: new Set(),
          };
          ORDER_ATTRIBUTES.forEach((a) => change.attributes.add(a));
          changes.set(id, change);
        }
        await this.live.apply(em, [...changes.values()]);
      }
      return { applied: todo.length, duplicates: messages.length - todo.length, customers };
    });
  }

  /** Merges the batch into the profiles; returns what changed for each customer. */
  private async upsertProfiles(
    em: EntityManager,
    customers: string[],
    messages: IngestedMessage[],
  ): Promise<Map<string, ProfileChange>> {
    const existing = await em.execute<ProfileRow[]>(
      `select customer_id, traits, trait_versions as "traitVersions", last_seen_at::text
       from ${SCHEMA}.customer_profile where customer_id in (select jsonb_array_elements_text(?::jsonb))`,
      [JSON.stringify(customers)],
    );
    const state = new Map<string, { traits: TraitState; lastSeen: string | null }>(
      customers.map((id) => [id, { traits: { traits: {}, traitVersions: {} }, lastSeen: null }]),
    );
    for (const row of existing) {
      state.set(row.customer_id, {
        traits: { traits: row.traits, traitVersions: row.traitVersions },
        lastSeen: row.last_seen_at ? new Date(row.last_seen_at).toISOString() : null,
      });
    }
    const before = new Map(
      [...state.entries()].map(([id, s]) => [
        id,
        {
          columns: profileColumns(s.traits.traits),
          traits: JSON.stringify(s.traits.traits),
          lastSeen: s.lastSeen,
        },
      ]),
    );
    const known = new Set(existing.map((r) => r.customer_id));
    for (const m of messages) {
      const s = state.get(m.userId)!;
      if (m.type === 'identify') s.traits = mergeTraits(s.traits, m.traits, messageVersion(m));
      s.lastSeen = laterOf(s.lastSeen, m.timestamp);
    }
    const rows = [...state.entries()].map(([id, s]) => ({
      customer_id: id,
      ...snake(profileColumns(s.traits.traits)),
      traits: s.traits.traits,
      trait_versions: s.traits.traitVersions,
      last_seen_at: s.lastSeen,
    }));
    await em.execute(
      `insert into ${SCHEMA}.customer_profile (customer_id, email, first_name, last_name, country, timezone,
         traits, trait_versions, last_seen_at, order_count, total_spent, created_at, updated_at)
       select r.customer_id, r.email, r.first_name, r.last_name, r.country,
         (select t.name from ${SCHEMA}.time_zone t where t.name = r.timezone),
         r.traits, r.trait_versions, r.last_seen_at, 0, 0, now(), now()
       from jsonb_to_recordset(?::jsonb) as r(customer_id text, email text, first_name text, last_name text,
         country text, timezone text, traits jsonb, trait_versions jsonb, last_seen_at timestamptz)
       on conflict (customer_id) do update set email = excluded.email, first_name = excluded.first_name,
         last_name = excluded.last_name, country = excluded.country, timezone = excluded.timezone,
         traits = excluded.traits, trait_versions = excluded.trait_versions,
         last_seen_at = excluded.last_seen_at, updated_at = now()`,
      [JSON.stringify(rows)],
    );
    const changes = new Map<string, ProfileChange>();
    for (const [id, s] of state) {
      const old = before.get(id)!;
      const columns = profileColumns(s.traits.traits);
      const change: ProfileChange = {
        customerId: id,
        created: !known.has(id),
        attributes: new Set(),
        events: new Set(),
      };
      for (const key of Object.keys(columns) as (keyof typeof columns)[]) {
        if (columns[key] !== old.columns[key]) change.attributes.add(key);
      }
      if (JSON.stringify(s.traits.traits) !== old.traits) change.attributes.add('traits');
      if (s.lastSeen !== old.lastSeen) change.attributes.add('lastSeenAt');
      changes.set(id, change);
    }
    return changes;
  }
}

interface ProfileChange extends CustomerChange {
  attributes: Set<string>;
  events: Set<string>;
}

function snake(c: ReturnType<typeof profileColumns>) {
  return {
    email: c.email,
    first_name: c.firstName,
    last_name: c.lastName,
    country: c.country,
    timezone: c.timezone,
  };
}

async function insertEvents(em: EntityManager, tracks: TrackMessage[]): Promise<void> {
  if (tracks.length === 0) return;
  await em.execute(
    `insert into ${SCHEMA}.customer_event (message_id, customer_id, event, properties, occurred_at)
     select r.message_id, r.customer_id, r.event, r.properties, r.occurred_at
     from jsonb_to_recordset(?::jsonb) as r(message_id text, customer_id text, event text, properties jsonb, occurred_at timestamptz)
     on conflict (message_id) do nothing`,
    [
      JSON.stringify(
        tracks.map((m) => ({
          message_id: m.messageId,
          customer_id: m.userId,
          event: m.event,
          properties: m.properties,
          occurred_at: m.timestamp,
        })),
      ),
    ],
  );
}

function orderAmount(properties: Record<string, unknown>): number | null {
  const value = properties.total ?? properties.revenue;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Stores completed orders (latest version per order wins) and refunds; returns the customers touched. */
async function recordOrders(em: EntityManager, tracks: TrackMessage[]): Promise<string[]> {
  const completed = new Map<string, Record<string, unknown>>();
  const refunds: Record<string, unknown>[] = [];
  for (const m of tracks) {
    const orderId = String(m.properties.order_id);
    if (m.event === 'Order Completed') {
      const row = {
        order_id: orderId,
        customer_id: m.userId,
        total: orderAmount(m.properties) ?? 0,
        currency: typeof m.properties.currency === 'string' ? m.properties.currency : null,
        completed_at: m.timestamp,
        version: messageVersion(m),
      };
      const current = completed.get(orderId);
      if (!current || row.version > String(current.version)) completed.set(orderId, row);
    } else if (m.event === 'Order Refunded') {
      refunds.push({
        message_id: m.messageId,
        order_id: orderId,
        customer_id: m.userId,
        amount: orderAmount(m.properties),
        refunded_at: m.timestamp,
      });
    }
  }
  // An order may belong to someone else than the message says (a corrected order, a refund sent
  // for another account): recompute its stored owner's aggregates too.
  const orderIds = [...new Set([...completed.keys(), ...refunds.map((r) => String(r.order_id))])];
  const owners =
    orderIds.length === 0
      ? []
      : await em.execute<{ customer_id: string }[]>(
          `select distinct customer_id from ${SCHEMA}.customer_order
           where order_id in (select jsonb_array_elements_text(?::jsonb))`,
          [JSON.stringify(orderIds)],
        );
  if (completed.size > 0) {
    await em.execute(
      `insert into ${SCHEMA}.customer_order (order_id, customer_id, total, currency, completed_at, version)
       select * from jsonb_to_recordset(?::jsonb) as r(order_id text, customer_id text, total numeric,
         currency text, completed_at timestamptz, version text)
       on conflict (order_id) do update set customer_id = excluded.customer_id, total = excluded.total,
         currency = excluded.currency, completed_at = excluded.completed_at, version = excluded.version
       where excluded.version > customer_order.version`,
      [JSON.stringify([...completed.values()])],
    );
  }
  if (refunds.length > 0) {
    await em.execute(
      `insert into ${SCHEMA}.customer_order_refund (message_id, order_id, customer_id, amount, refunded_at)
       select * from jsonb_to_recordset(?::jsonb) as r(message_id text, order_id text, customer_id text,
         amount numeric, refunded_at timestamptz)
       on conflict (message_id) do nothing`,
      [JSON.stringify(refunds)],
    );
  }
  return [
    ...new Set([
      ...[...completed.values(), ...refunds].map((r) => String(r.customer_id)),
      ...owners.map((o) => o.customer_id),
    ]),
  ];
}

/** Order aggregates from the rows: an order counts unless refunded in full. */
async function recomputeOrderAggregates(em: EntityManager, customers: string[]): Promise<void> {
  await em.execute(
    `update ${SCHEMA}.customer_profile p
     set order_count = a.order_count, total_spent = a.total_spent,
         first_order_at = a.first_order_at, last_order_at = a.last_order_at, updated_at = now()
     from (
       select c.id as customer_id,
              count(o.order_id) filter (where o.refunded < o.total or o.refund_count = 0) as order_count,
              coalesce(sum(o.total - o.refunded), 0) as total_spent,
              min(o.completed_at) filter (where o.refunded < o.total or o.refund_count = 0) as first_order_at,
              max(o.completed_at) filter (where o.refunded < o.total or o.refund_count = 0) as last_order_at
       from jsonb_array_elements_text(?::jsonb) as c(id)
       left join lateral (
         select o.order_id, o.total, o.completed_at, count(r.message_id) as refund_count,
                least(o.total, coalesce(sum(case when r.message_id is null then 0 else coalesce(r.amount, o.total) end), 0)) as refunded
         from ${SCHEMA}.customer_order o
         left join ${SCHEMA}.customer_order_refund r on r.order_id = o.order_id
         where o.customer_id = c.id
         group by o.order_id, o.total, o.completed_at
       ) o on true
       group by c.id
     ) a
     where p.customer_id = a.customer_id`,
    [JSON.stringify(customers)],
  );
}
