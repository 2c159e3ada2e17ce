/**
 * Campaign performance from the bus, idempotently: each email event moves the delivery's fact at
 * most once per outcome (first send, first delivery, first open, ...), and the counters move with
 * the facts, per campaign, per variant and per minute, hour and day bucket of the event's time.
 * Orders are credited by last touch: the latest click within the attribution window before the
 * order, else the latest open; each order once.
 */
import {
  claimMessages,
  queryWithParams,
  type EmailEvent,
  type TrackMessage,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';

export const EMAIL_STATS_CONSUMER = 'analytics.email';
export const ORDER_STATS_CONSUMER = 'analytics.orders';

type Counter =
  | 'recipients'
  | 'sent'
  | 'delivered'
  | 'bounced'
  | 'unique_opens'
  | 'unique_clicks'
  | 'unsubscribed'
  | 'complained'
  | 'conversions'
  | 'revenue';

/** Counters that also exist per variant and per bucket. */
const BREAKDOWN: Counter[] = [
  'sent',
  'delivered',
  'unique_opens',
  'unique_clicks',
  'conversions',
  'revenue',
];

interface Fact {
  delivery_id: string;
  campaign_id: string | null;
  variant_id: string | null;
  customer_id: string;
  sent_at: string | null;
  delivered_at: string | null;
  bounced_at: string | null;
  first_open_at: string | null;
  first_click_at: string | null;
  unsubscribed_at: string | null;
  complained_at: string | null;
}

const FIRST: Partial<Record<EmailEvent['type'], { column: keyof Fact; counter: Counter }>> = {
  'email.sent': { column: 'sent_at', counter: 'sent' },
  'email.delivered': { column: 'delivered_at', counter: 'delivered' },
  'email.bounced': { column: 'bounced_at', counter: 'bounced' },
  'email.opened': { column: 'first_open_at', counter: 'unique_opens' },
  'email.clicked': { column: 'first_click_at', counter: 'unique_clicks' },
  'email.unsubscribed': { column: 'unsubscribed_at', counter: 'unsubscribed' },
  'email.complained': { column: 'complained_at', counter: 'complained' },
};

/** Deltas collected in a batch, then written with one statement per table. */
class Deltas {
  readonly campaigns = new Map<string, Partial<Record<Counter, number>>>();
  readonly variants = new Map<string, Partial<Record<Counter, number>>>();
  readonly buckets = new Map<string, Partial<Record<Counter, number>>>();

  add(campaignId: string, variantId: string | null, at: Date, counter: Counter, by = 1) {
    bump(this.campaigns, campaignId, counter, by);
    if (!BREAKDOWN.includes(counter)) return;
    if (variantId) bump(this.variants, `${campaignId}|${variantId}`, counter, by);
    for (const size of ['MINUTE', 'HOUR', 'DAY'] as const) {
      bump(this.buckets, `${campaignId}|${size}|${truncate(at, size).toISOString()}`, counter, by);
    }
  }

  get empty() {
    return this.campaigns.size === 0;
  }

  async write(em: EntityManager) {
    if (this.empty) return;
    const counters: Counter[] = [
      'recipients',
      'sent',
      'delivered',
      'bounced',
      'unique_opens',
      'unique_clicks',
      'unsubscribed',
      'complained',
      'conversions',
      'revenue',
    ];
    const rows = (map: Map<string, Partial<Record<Counter, number>>>, keys: string[]) =>
      JSON.stringify(
        [...map.entries()].map(([key, values]) => ({
          ...Object.fromEntries(key.split('|').map((part, i) => [keys[i]!, part])),
          ...Object.fromEntries(counters.map((c) => [c, values[c] ?? 0])),
        })),
      );
    const columns = (list: Counter[]) => list.map((c) => `${c} numeric`).join(', ');
    const sets = (list: Counter[], table: string) =>
      list.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(', ');
    await queryWithParams(
      em,
      `insert into analytics.campaign_stats (campaign_id, ${counters.join(', ')}, updated_at)
       select campaign_id, ${counters.join(', ')}, now()
       from jsonb_to_recordset($1::jsonb) as r(campaign_id uuid, ${columns(counters)})
       on conflict (campaign_id) do update set ${sets(counters, 'campaign_stats')}, updated_at = now()`,
      [rows(this.campaigns, ['campaign_id'])],
    );
    if (this.variants.size > 0) {
      await queryWithParams(
        em,
        `insert into analytics.variant_stats (campaign_id, variant_id, ${BREAKDOWN.join(', ')})
         select campaign_id, variant_id, ${BREAKDOWN.join(', ')}
         from jsonb_to_recordset($1::jsonb) as r(campaign_id uuid, variant_id uuid, ${columns(BREAKDOWN)})
         on conflict (campaign_id, variant_id) do update set ${sets(BREAKDOWN, 'variant_stats')}`,
        [rows(this.variants, ['campaign_id', 'variant_id'])],
      );
    }
    if (this.buckets.size > 0) {
      await queryWithParams(
        em,
        `insert into analytics.stats_bucket (campaign_id, size, start, ${BREAKDOWN.join(', ')})
         select campaign_id, size, start, ${BREAKDOWN.join(', ')}
         from jsonb_to_recordset($1::jsonb) as r(campaign_id uuid, size text, start timestamptz, ${columns(BREAKDOWN)})
         on conflict (campaign_id, size, start) do update set ${sets(BREAKDOWN, 'stats_bucket')}`,
        [rows(this.buckets, ['campaign_id', 'size', 'start'])],
      );
    }
  }
}

/** Applies email events (with their bus ids); returns the campaigns whose stats changed. */
export async function applyEmailEvents(
  em: EntityManager,
  events: (EmailEvent & { id: string })[],
  windowDays: number,
): Promise<string[]> {
  const fresh = await claimMessages(
    em,
    'analytics',
    EMAIL_STATS_CONSUMER,
    events.map((e) => e.id),
  );
  const todo = events.filter((e) => fresh.has(e.id) && e.deliveryId);
  if (todo.length === 0) return [];
  await touchpoints(em, todo);
  const ids = [...new Set(todo.map((e) => e.deliveryId!))].sort();
  const existing = await queryWithParams<Fact>(
    em,
    `select delivery_id, campaign_id, variant_id, customer_id, sent_at, delivered_at, bounced_at,
       first_open_at, first_click_at, unsubscribed_at, complained_at
     from analytics.delivery_fact where delivery_id = any($1::uuid[]) order by delivery_id for update`,
    [ids],
  );
  const facts = new Map(existing.map((f) => [f.delivery_id, f]));
  const deltas = new Deltas();
  const touched = new Set<string>();
  for (const e of todo.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt))) {
    let fact = facts.get(e.deliveryId!);
    const at = new Date(e.occurredAt);
    if (!fact) {
      fact = {
        delivery_id: e.deliveryId!,
        campaign_id: e.campaignId ?? null,
        variant_id: e.variantId ?? null,
        customer_id: e.customerId,
        sent_at: null,
        delivered_at: null,
        bounced_at: null,
        first_open_at: null,
        first_click_at: null,
        unsubscribed_at: null,
        complained_at: null,
      };
      facts.set(fact.delivery_id, fact);
      if (fact.campaign_id) deltas.add(fact.campaign_id, fact.variant_id, at, 'recipients');
    }
    const firsts = [FIRST[e.type]];
    // A click means the message was opened, even with images off.
    if (e.type === 'email.clicked') firsts.push(FIRST['email.opened']);
    for (const first of firsts) {
      if (!first || fact[first.column]) continue;
      (fact as unknown as Record<string, string>)[first.column] = at.toISOString();
      if (fact.campaign_id) deltas.add(fact.campaign_id, fact.variant_id, at, first.counter);
      if (
        fact.campaign_id &&
        (first.counter === 'unique_opens' || first.counter === 'unique_clicks')
      ) {
        touched.add(fact.customer_id);
      }
    }
  }
  await queryWithParams(
    em,
    `insert into analytics.delivery_fact (delivery_id, campaign_id, variant_id, customer_id, sent_at,
       delivered_at, bounced_at, first_open_at, first_click_at, unsubscribed_at, complained_at)
     select * from jsonb_to_recordset($1::jsonb) as r(delivery_id uuid, campaign_id uuid, variant_id uuid,
       customer_id text, sent_at timestamptz, delivered_at timestamptz, bounced_at timestamptz,
       first_open_at timestamptz, first_click_at timestamptz, unsubscribed_at timestamptz, complained_at timestamptz)
     on conflict (delivery_id) do update set sent_at = excluded.sent_at, delivered_at = excluded.delivered_at,
       bounced_at = excluded.bounced_at, first_open_at = excluded.first_open_at,
       first_click_at = excluded.first_click_at, unsubscribed_at = excluded.unsubscribed_at,
       complained_at = excluded.complained_at`,
    [JSON.stringify([...facts.values()])],
  );
  await creditEarlierOrders(em, deltas, windowDays, [...touched].sort());
  await deltas.write(em);
  return [...deltas.campaigns.keys()];
}

/** Credits completed orders to the last touch within `windowDays`; returns the campaigns credited. */
export async function applyOrders(
  em: EntityManager,
  orders: TrackMessage[],
  windowDays: number,
): Promise<string[]> {
  const fresh = await claimMessages(
    em,
    'analytics',
    ORDER_STATS_CONSUMER,
    orders.map((o) => o.messageId),
  );
  const todo = orders.filter((o) => fresh.has(o.messageId));
  if (todo.length === 0) return [];
  await touchpoints(
    em,
    todo.map((o) => ({
      id: o.messageId,
      type: o.event,
      customerId: o.userId,
      occurredAt: o.timestamp,
      properties: o.properties,
      source: 'ECOMMERCE',
    })),
  );
  const deltas = new Deltas();
  for (const order of todo.filter((o) => o.event === 'Order Completed')) {
    const orderId = order.properties.order_id;
    if (orderId === undefined || orderId === null) continue;
    const revenue = Number(order.properties.total ?? order.properties.revenue ?? 0);
    await creditOrder(em, deltas, windowDays, {
      orderId: String(orderId),
      customerId: order.userId,
      at: order.timestamp,
      revenue: Number.isFinite(revenue) ? revenue : 0,
    });
  }
  await deltas.write(em);
  return [...deltas.campaigns.keys()];
}

/** Credits one order to its last touch, once; adds the conversion to `deltas`. */
async function creditOrder(
  em: EntityManager,
  deltas: Deltas,
  windowDays: number,
  order: { orderId: string; customerId: string; at: string; revenue: number },
) {
  const [credited] = await queryWithParams<{ campaign_id: string; variant_id: string | null }>(
    em,
    `with touch as (
       (select delivery_id, campaign_id, variant_id, 'click' as touch, 1 as rank
        from analytics.delivery_fact
        where customer_id = $1 and campaign_id is not null and first_click_at <= $2::timestamptz
          and first_click_at > $2::timestamptz - make_interval(days => $3)
        order by first_click_at desc limit 1)
       union all
       (select delivery_id, campaign_id, variant_id, 'open', 2
        from analytics.delivery_fact
        where customer_id = $1 and campaign_id is not null and first_open_at <= $2::timestamptz
          and first_open_at > $2::timestamptz - make_interval(days => $3)
        order by first_open_at desc limit 1)
     ),
     best as (select * from touch order by rank limit 1)
     insert into analytics.attributed_order (order_id, customer_id, delivery_id, campaign_id, variant_id,
       touch, revenue, ordered_at)
     select $4, $1, delivery_id, campaign_id, variant_id, touch, $5, $2::timestamptz from best
     on conflict (order_id) do nothing
     returning campaign_id, variant_id`,
    [order.customerId, order.at, windowDays, order.orderId, order.revenue],
  );
  if (!credited) return;
  const at = new Date(order.at);
  deltas.add(credited.campaign_id, credited.variant_id, at, 'conversions');
  deltas.add(credited.campaign_id, credited.variant_id, at, 'revenue', order.revenue);
}

/**
 * Orders recorded before the open or click that led to them was (events from two streams arrive in
 * any order): credited when the touch arrives.
 */
async function creditEarlierOrders(
  em: EntityManager,
  deltas: Deltas,
  windowDays: number,
  customerIds: string[],
) {
  if (customerIds.length === 0) return;
  const pending = await queryWithParams<{
    order_id: string;
    customer_id: string;
    at: string;
    revenue: string;
  }>(
    em,
    `select t.properties->>'order_id' as order_id, t.customer_id, t.at::text,
       coalesce(t.properties->>'total', t.properties->>'revenue', '0') as revenue
     from analytics.touchpoint t
     where t.customer_id = any($1::text[]) and t.type = 'Order Completed'
       and t.at > now() - make_interval(days => $2 * 2)
       and t.properties ? 'order_id'
       and not exists (select 1 from analytics.attributed_order a where a.order_id = t.properties->>'order_id')
     order by t.at`,
    [customerIds, windowDays],
  );
  for (const p of pending) {
    const revenue = Number(p.revenue);
    await creditOrder(em, deltas, windowDays, {
      orderId: p.order_id,
      customerId: p.customer_id,
      at: new Date(p.at).toISOString(),
      revenue: Number.isFinite(revenue) ? revenue : 0,
    });
  }
}

/** The customer's journey: every email, e-commerce and segment event, once per message id. */
export async function touchpoints(
  em: EntityManager,
  events: {
    id: string;
    type: string;
    customerId: string;
    occurredAt: string;
    campaignId?: string | null;
    properties?: Record<string, unknown>;
    source?: string;
  }[],
) {
  await queryWithParams(
    em,
    `insert into analytics.touchpoint (message_id, customer_id, at, type, source, campaign_id, properties)
     select message_id, customer_id, at, type, source, campaign_id, properties
     from jsonb_to_recordset($1::jsonb) as r(message_id text, customer_id text, at timestamptz, type text,
       source text, campaign_id uuid, properties jsonb)
     on conflict (message_id) do nothing`,
    [
      JSON.stringify(
        events.map((e) => ({
          message_id: e.id,
          customer_id: e.customerId,
          at: e.occurredAt,
          type: e.type,
          source: e.source ?? 'MARKETING',
          campaign_id: e.campaignId ?? null,
          properties: e.properties ?? {},
        })),
      ),
    ],
  );
}

function bump(
  map: Map<string, Partial<Record<Counter, number>>>,
  key: string,
  counter: Counter,
  by: number,
) {
  const values = map.get(key) ?? {};
  values[counter] = (values[counter] ?? 0) + by;
  map.set(key, values);
}

function truncate(at: Date, size: 'MINUTE' | 'HOUR' | 'DAY'): Date {
  const d = new Date(at);
  d.setUTCSeconds(0, 0);
  if (size !== 'MINUTE') d.setUTCMinutes(0);
  if (size === 'DAY') d.setUTCHours(0);
  return d;
}
