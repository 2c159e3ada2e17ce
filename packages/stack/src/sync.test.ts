/**
 * Customer data sync end to end: ingestion at the gateway and the e-commerce graph's outbox feed
 * the profile projection through the bus (the PostgreSQL event log here; NATS in the fault suite).
 */
import { createTestDatabase, waitFor, type TestDatabase } from '@marketing/platform/testing';
import pg from 'pg';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase('sync');
  stack = await startStack({ databaseUrl: db.url });
  token = await stack.token(['admin']);
});
afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

function ingest(
  path: string,
  body: unknown,
  options: { writeKey?: string; raw?: string; contentType?: string } = {},
) {
  const key = options.writeKey ?? stack.secrets.writeKey;
  return fetch(`${stack.origin}${path}`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
    },
    body: options.raw ?? JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
}

async function graphql(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: any[] };
}

/** Through marketing's search: `customer(id)` belongs to the e-commerce graph, which may not know the id. */
const profileOf = (id: string) =>
  graphql(
    `
      query ($id: String) {
        customers(query: $id, first: 1) {
          edges {
            node {
              id
              email
              profile {
                email
                country
                traits
                orderCount
                totalSpent
                lastSeenAt
              }
            }
          }
        }
      }
    `,
    {
      id,
    },
  ).then((r) => r.data?.customers.edges[0]?.node ?? null);

async function storedEvents(customerId: string): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query(
    'select count(*)::int as n from segments.customer_event where customer_id = $1',
    [customerId],
  );
  await client.end();
  return rows[0].n;
}

describe('ingestion into the profile', () => {
  it('projects identify and track messages, once per messageId', async () => {
    const at = '2026-11-01T10:00:00.000Z';
    expect(
      (
        await ingest('/v1/identify', {
          userId: 'u1',
          messageId: 'i-1',
          timestamp: at,
          traits: { email: 'U1@Example.com', country: 'de', plan: 'gold' },
        })
      ).status,
    ).toBe(200);
    const order = {
      userId: 'u1',
      messageId: 't-1',
      event: 'Order Completed',
      timestamp: at,
      properties: { order_id: 'o-1', total: 42.5 },
    };
    expect((await ingest('/v1/track', order)).body).toEqual({ success: true, messageId: 't-1' });
    expect((await ingest('/v1/track', order)).status).toBe(200);
    const batch = await ingest('/v1/batch', {
      batch: [
        { type: 'track', ...order },
        { type: 'track', userId: 'u1', messageId: 't-2', event: 'Product Viewed', timestamp: at },
      ],
    });
    expect(batch).toEqual({ status: 200, body: { success: true, accepted: 2, rejected: [] } });

    const customer = await waitFor(
      () => profileOf('u1'),
      (c) => c?.profile?.orderCount === 1 && c.profile.lastSeenAt !== null,
    );
    expect(customer).toEqual({
      id: 'u1',
      email: null, // the e-commerce graph does not know u1
      profile: {
        email: 'u1@example.com',
        country: 'DE',
        traits: { email: 'U1@Example.com', country: 'de', plan: 'gold' },
        orderCount: 1,
        totalSpent: 42.5,
        lastSeenAt: at,
      },
    });
    expect(
      await waitFor(
        () => storedEvents('u1'),
        (n) => n === 2,
      ),
    ).toBe(2);
    // Four requests carried five messages; the projection applied three (two were duplicates).
    const metrics = await (await fetch(`${stack.origin}/metrics`)).text();
    expect(metrics).toMatch(
      /marketing_messages_total\{[^}]*stage="ingest",result="accepted"[^}]*\} 5\b/,
    );
    const projected = stack.subgraphs.segments.metrics;
    expect(
      await projected.counterValue(projected.messages, {
        stage: 'segments.profile',
        result: 'applied',
      }),
    ).toBe(3);
  });

  it('rejects bad input with a 4xx that names the problem, and stores nothing from it', async () => {
    expect(await ingest('/v1/track', null, { raw: '{"userId": "u2", ' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/Malformed JSON/) },
    });
    expect(await ingest('/v1/track', { event: 'Product Viewed' })).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'userId' }] },
    });
    expect(
      await ingest('/v1/track', { userId: 'u2', event: 'Product Viewed', timestamp: 'yesterday' }),
    ).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'timestamp', message: expect.stringMatching(/ISO 8601/) }] },
    });
    expect(
      await ingest('/v1/track', {
        userId: 'u2',
        event: 'Order Completed',
        properties: { total: 5 },
      }),
    ).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'properties.order_id' }] },
    });
    const oversize = await ingest('/v1/track', {
      userId: 'u2',
      event: 'Big',
      properties: { blob: 'x'.repeat(40_000) },
    });
    expect(oversize.status).toBe(413);
    expect(oversize.body.error).toMatch(/limit/);
    expect(await ingest('/v1/identify', { userId: 'u2' }, { writeKey: 'wrong-key' })).toMatchObject(
      { status: 401, body: { error: 'Unknown write key' } },
    );
    const deep = `${'['.repeat(5_000)}"leaf"${']'.repeat(5_000)}`;
    const nested = `{"userId":"u2","event":"Deep","properties":{"x":${deep}}}`;
    expect(await ingest('/v1/track', null, { raw: nested })).toMatchObject({
      status: 400,
      body: { errors: [{ message: 'is nested too deeply' }] },
    });
    expect(
      await ingest('/v1/identify', { userId: 'u2', traits: { name: 'a\u0000b' } }),
    ).toMatchObject({
      status: 400,
      body: { errors: [{ message: expect.stringMatching(/NUL/) }] },
    });

    const mixed = await ingest('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u3', messageId: 'good-1', event: 'Product Viewed' },
        { type: 'track', messageId: 'bad-1', event: 'Product Viewed' },
        { type: 'page', userId: 'u3', messageId: 'bad-2' },
        { type: 'identify', userId: 'u3', messageId: 'good-2', traits: { plan: 'silver' } },
      ],
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body).toMatchObject({
      success: false,
      accepted: 2,
      rejected: [
        { index: 1, messageId: 'bad-1', errors: [{ path: 'batch[1].userId' }] },
        { index: 2, messageId: 'bad-2', errors: [{ path: 'batch[2].type' }] },
      ],
    });
    const u3 = await waitFor(
      () => profileOf('u3'),
      (c) => c?.profile?.traits?.plan === 'silver',
    );
    expect(u3.profile.traits).toEqual({ plan: 'silver' });
    expect(
      await waitFor(
        () => storedEvents('u3'),
        (n) => n === 1,
      ),
    ).toBe(1);
    expect(await profileOf('u2')).toBeNull();
  });
});

describe('GraphQL transport errors', () => {
  it('answers malformed JSON on /graphql with a 400, not a 500', async () => {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"query": "{ __typename }"',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('the e-commerce graph as an event source', () => {
  it('publishes customer changes and orders through its outbox into the profile', async () => {
    const created = await graphql(`
      mutation {
        createCustomer(
          input: { id: "shop-1", email: "Shopper@Example.com", firstName: "Sam", country: "fr" }
        ) {
          id
        }
        createProduct(
          input: { id: "p-1", sku: "SKU-1", name: "Shoe", category: "shoes", price: 30 }
        ) {
          id
        }
      }
    `);
    expect(created.errors).toBeUndefined();
    const order = await graphql(`
      mutation {
        placeOrder(input: { customerId: "shop-1", lines: [{ productId: "p-1", quantity: 2 }] }) {
          id
          total
        }
      }
    `);
    expect(order.data.placeOrder.total).toBe(60);

    const customer = await waitFor(
      () => profileOf('shop-1'),
      (c) => c?.profile?.orderCount === 1,
    );
    expect(customer).toMatchObject({
      email: 'shopper@example.com',
      profile: { email: 'shopper@example.com', country: 'FR', orderCount: 1, totalSpent: 60 },
    });

    await graphql(`
      mutation {
        updateCustomer(
          id: "shop-1"
          input: { email: "sam@example.com", firstName: "Samuel", country: "FR" }
        ) {
          id
        }
      }
    `);
    const updated = await waitFor(
      () => profileOf('shop-1'),
      (c) => c?.profile?.email === 'sam@example.com',
    );
    expect(updated.profile.traits).toMatchObject({ email: 'sam@example.com', firstName: 'Samuel' });

    const found = await graphql(`
      {
        customers(query: "sam@") {
          totalCount
          edges {
            node {
              id
              firstName
              profile {
                orderCount
              }
            }
          }
        }
      }
    `);
    expect(found.data.customers).toEqual({
      totalCount: 1,
      edges: [{ node: { id: 'shop-1', firstName: 'Samuel', profile: { orderCount: 1 } } }],
    });
  });
});
