/**
 * Writes a simulated population into the e-commerce graph's tables and, in the same transactions,
 * its outbox: the running e-commerce service relays the outbox to `ecommerce.events`, exactly as it
 * does for changes made through its API. Bulk statements, a chunk of events per transaction.
 */
import { ECOMMERCE_EVENTS_SUBJECT, inTransaction, type IngestedMessage } from '@marketing/platform';
import type pg from 'pg';
import type { Population, SimEvent } from './population.js';

const CHUNK = 2_000;

export async function writeCatalogue(pool: pg.Pool, population: Population): Promise<void> {
  await pool.query(
    `insert into ecommerce.product (id, sku, name, category, price, created_at)
     select id, sku, name, category, price, now() from jsonb_to_recordset($1::jsonb)
       as r(id text, sku text, name text, category text, price numeric)
     on conflict (id) do nothing`,
    [JSON.stringify(population.products)],
  );
  for (let i = 0; i < population.customers.length; i += 5_000) {
    await pool.query(
      `insert into ecommerce.customer (id, email, first_name, last_name, country, created_at, updated_at)
       select id, email, "firstName", "lastName", country, "createdAt", "createdAt" from jsonb_to_recordset($1::jsonb)
         as r(id text, email text, "firstName" text, "lastName" text, country text, "createdAt" timestamptz)
       on conflict (id) do nothing`,
      [JSON.stringify(population.customers.slice(i, i + 5_000))],
    );
  }
}

export function toMessage(
  event: SimEvent,
  products: Map<string, Population['products'][number]>,
): IngestedMessage {
  const common = {
    messageId: event.messageId,
    userId: event.userId,
    timestamp: event.timestamp.toISOString(),
    receivedAt: event.timestamp.toISOString(),
  };
  if (event.kind === 'identify') return { type: 'identify', ...common, traits: event.traits };
  if (event.kind === 'track')
    return { type: 'track', ...common, event: event.event, properties: event.properties };
  return {
    type: 'track',
    ...common,
    event: 'Order Completed',
    properties: {
      order_id: event.orderId,
      total: event.total,
      revenue: event.total,
      currency: event.currency,
      products: event.lines.map((l) => {
        const p = products.get(l.productId);
        return {
          product_id: l.productId,
          sku: p?.sku,
          category: p?.category,
          name: p?.name,
          price: l.unitPrice,
          quantity: l.quantity,
        };
      }),
    },
  };
}

/** Writes events in chunks; calls `progress` with the number written so far. */
export async function writeEvents(
  pool: pg.Pool,
  population: Population,
  progress: (written: number) => void,
): Promise<number> {
  const products = new Map(population.products.map((p) => [p.id, p]));
  let chunk: SimEvent[] = [];
  let written = 0;
  const flush = async () => {
    await writeChunk(pool, chunk, products);
    written += chunk.length;
    chunk = [];
    progress(written);
  };
  for (const event of population.events()) {
    chunk.push(event);
    if (chunk.length >= CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
  return written;
}

async function writeChunk(
  pool: pg.Pool,
  events: SimEvent[],
  products: Map<string, Population['products'][number]>,
) {
  const orders = events.filter(
    (e): e is Extract<SimEvent, { kind: 'order' }> => e.kind === 'order',
  );
  const refunds = events.filter(
    (e) => e.kind === 'track' && e.event === 'Order Refunded',
  ) as Extract<SimEvent, { kind: 'track' }>[];
  await inTransaction(pool, async (client) => {
    if (orders.length > 0) {
      await client.query(
        `insert into ecommerce."order" (id, customer_id, total, currency, status, placed_at)
         select "orderId", "userId", total, currency, 'COMPLETED', "timestamp" from jsonb_to_recordset($1::jsonb)
           as r("orderId" text, "userId" text, total numeric, currency text, "timestamp" timestamptz)
         on conflict (id) do nothing`,
        [JSON.stringify(orders)],
      );
      await client.query(
        `insert into ecommerce.order_line (order_id, product_id, quantity, unit_price)
         select order_id, product_id, quantity, unit_price from jsonb_to_recordset($1::jsonb)
           as r(order_id text, product_id text, quantity int, unit_price numeric)`,
        [
          JSON.stringify(
            orders.flatMap((o) =>
              o.lines.map((l) => ({
                order_id: o.orderId,
                product_id: l.productId,
                quantity: l.quantity,
                unit_price: l.unitPrice,
              })),
            ),
          ),
        ],
      );
    }
    if (refunds.length > 0) {
      await client.query(
        `update ecommerce."order" set status = 'REFUNDED' where id = any($1::text[])`,
        [refunds.map((r) => String(r.properties.order_id))],
      );
    }
    await client.query(
      `insert into ecommerce.outbox (subject, message_id, data, created_at)
       select $1, r.message_id, r.data, now() from jsonb_to_recordset($2::jsonb) as r(message_id text, data jsonb)`,
      [
        ECOMMERCE_EVENTS_SUBJECT,
        JSON.stringify(
          events.map((e) => ({ message_id: e.messageId, data: toMessage(e, products) })),
        ),
      ],
    );
  });
}
