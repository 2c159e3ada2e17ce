/**
 * The federation end to end: gateway + five subgraphs on one real PostgreSQL, every server on a
 * free port. Data are written straight into each service's own schema.
 */
import { GatewayProof, PROOF_HEADER, signUserToken } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import pg from 'pg';
import { startStack, type RunningStack, type SubgraphName } from './stack.js';

const CAMPAIGN_ID = '00000000-0000-4000-8000-000000000001';
const SEGMENT_ID = '00000000-0000-4000-8000-000000000002';
const TEMPLATE_ID = '00000000-0000-4000-8000-000000000003';
const ids = Array.from({ length: 100 }, (_, i) => `c${String(i + 1).padStart(3, '0')}`);

let db: TestDatabase;
let stack: RunningStack;
let token: string;

async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const now = new Date('2026-06-01T12:00:00Z');
  try {
    await client.query(
      `insert into ecommerce.customer (id, email, first_name, last_name, country, created_at, updated_at)
       select id, id || '@example.com', 'First' || id, 'Last' || id, 'DE', $2, $2 from unnest($1::text[]) as id`,
      [ids, now],
    );
    await client.query(
      `insert into segments.customer_profile (customer_id, email, first_name, last_name, traits, trait_versions, order_count, total_spent, created_at, updated_at)
       select id, id || '@example.com', 'First' || id, 'Last' || id, '{"plan":"gold"}', '{}', n % 5, (n % 5) * 10.5, $2, $2
       from unnest($1::text[]) with ordinality as t(id, n)`,
      [ids, now],
    );
    await client.query(
      `insert into segments.segment (id, name, definition, version, evaluated_version, created_by, updated_by, created_at, updated_at) values ($1, 'VIP', '{"attribute":"orderCount","op":"gte","value":3}', 1, 1, 'test', 'test', $2, $2)`,
      [SEGMENT_ID, now],
    );
    await client.query(
      `insert into segments.segment_membership (segment_id, customer_id, entered_at) select $1, id, $3 from unnest($2::text[]) as id`,
      [SEGMENT_ID, ids.slice(0, 10), now],
    );
    await client.query(
      // PAUSED: a running broadcast without pending recipients would be completed by the dispatcher.
      `insert into campaigns.campaign (id, name, kind, status, segment_id, created_by, created_at, updated_at)
       values ($1, 'Spring sale', 'BROADCAST', 'PAUSED', $2, 'test', $3, $3)`,
      [CAMPAIGN_ID, SEGMENT_ID, now],
    );
    await client.query(
      `insert into campaigns.campaign_variant (id, campaign_id, position, name, weight, template_id, template_version)
       values (gen_random_uuid(), $1, 0, 'A', 1, $2, 1)`,
      [CAMPAIGN_ID, TEMPLATE_ID],
    );
    await client.query(
      `insert into campaigns.campaign_enrollment (id, campaign_id, customer_id, entry_key, status, entered_at)
       select gen_random_uuid(), $1, id, 'once', case when n % 2 = 0 then 'ACTIVE' else 'COMPLETED' end, $3
       from unnest($2::text[]) with ordinality as t(id, n)`,
      [CAMPAIGN_ID, ids, now],
    );
    await client.query(
      `insert into email.email_consent (customer_id, subscribed, source, consent_updated_at)
       select id, n % 3 = 0, 'form', $2 from unnest($1::text[]) with ordinality as t(id, n)`,
      [ids, now],
    );
    await client.query(
      `insert into email.topic_subscription (customer_id, topic, subscribed, updated_at) values ($1, 'newsletter', true, $2)`,
      [ids[0], now],
    );
    await client.query(
      `insert into email.email_template (id, name, subject, html, created_at, updated_at) values ($1, 'Spring', 'Hi', '<p>Hi</p>', $2, $2)`,
      [TEMPLATE_ID, now],
    );
    await client.query(
      `insert into analytics.touchpoint (message_id, customer_id, at, type, source, campaign_id, properties)
       select id || '-' || k, id, $2::timestamptz + (k || ' minutes')::interval,
              case k when 1 then 'Product Viewed' else 'email.opened' end,
              case k when 1 then 'ECOMMERCE' else 'MARKETING' end,
              case k when 1 then null else $3::uuid end, '{}'
       from unnest($1::text[]) as id, generate_series(1, 2) as k`,
      [ids, now, CAMPAIGN_ID],
    );
    await client.query(
      `insert into analytics.campaign_stats (campaign_id, sent, delivered, unique_opens, updated_at) values ($1, 100, 80, 20, $2)`,
      [CAMPAIGN_ID, now],
    );
  } finally {
    await client.end();
  }
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: JSON.parse(text) as { data?: any; errors?: any[] },
  };
}

function graphql(
  query: string,
  variables: Record<string, unknown> = {},
  bearer: string | null = token,
) {
  return post(
    stack.gateway.url,
    { query, variables },
    bearer ? { authorization: `Bearer ${bearer}` } : {},
  );
}

async function counters(): Promise<Record<SubgraphName, { requests: number; sql: number }>> {
  const entries = await Promise.all(
    Object.entries(stack.subgraphs).map(async ([name, s]) => [
      name,
      {
        requests: await s.metrics.counterValue(s.metrics.graphqlRequests),
        sql: await s.metrics.counterValue(s.metrics.dbQueries, { origin: 'graphql' }),
      },
    ]),
  );
  return Object.fromEntries(entries);
}

beforeAll(async () => {
  db = await createTestDatabase('federation');
  stack = await startStack({ databaseUrl: db.url });
  await seed(db.url);
  token = await stack.token(['analyst']);
});

afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

describe('gateway federation', () => {
  it('resolves one operation across all five subgraphs', async () => {
    const { status, json } = await graphql(
      `
        query One($id: ID!, $campaign: ID!) {
          customer(id: $id) {
            email
            firstName
            profile {
              orderCount
              totalSpent
              averageOrderValue
              traits
            }
            segments {
              name
            }
            campaignEnrollments {
              status
              campaign {
                name
                status
              }
            }
            emailPreferences {
              subscribed
              suppressed
              topics {
                topic
                subscribed
              }
            }
            journey(first: 5) {
              type
              source
              campaign {
                name
              }
            }
          }
          campaign(id: $campaign) {
            name
            segment {
              name
            }
            variants {
              name
              template {
                name
              }
            }
            stats {
              sent
              openRate
              campaign {
                name
              }
            }
          }
        }
      `,
      { id: 'c003', campaign: CAMPAIGN_ID },
    );
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    expect(json.data.customer).toEqual({
      email: 'c003@example.com',
      firstName: 'Firstc003',
      profile: {
        orderCount: 3,
        totalSpent: 31.5,
        averageOrderValue: 10.5,
        traits: { plan: 'gold' },
      },
      segments: [{ name: 'VIP' }],
      campaignEnrollments: [
        { status: 'COMPLETED', campaign: { name: 'Spring sale', status: 'PAUSED' } },
      ],
      emailPreferences: { subscribed: true, suppressed: false, topics: [] },
      journey: [
        { type: 'email.opened', source: 'MARKETING', campaign: { name: 'Spring sale' } },
        { type: 'Product Viewed', source: 'ECOMMERCE', campaign: null },
      ],
    });
    expect(json.data.campaign).toEqual({
      name: 'Spring sale',
      segment: { name: 'VIP' },
      variants: [{ name: 'A', template: { name: 'Spring' } }],
      stats: { sent: 100, openRate: 0.25, campaign: { name: 'Spring sale' } },
    });
  });

  it('serves 100 customers with one request and at most two SQL statements per subgraph', async () => {
    const before = await counters();
    const { json } = await graphql(`
      {
        customers(first: 100) {
          edges {
            node {
              id
              email
              profile {
                orderCount
              }
              campaignEnrollments {
                status
              }
              emailPreferences {
                subscribed
              }
              journey(first: 1) {
                type
              }
            }
          }
        }
      }
    `);
    const after = await counters();
    expect(json.errors).toBeUndefined();
    const nodes = json.data.customers.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(100);
    expect(nodes[9]).toEqual({
      id: 'c010',
      email: 'c010@example.com',
      profile: { orderCount: 0 },
      campaignEnrollments: [{ status: 'ACTIVE' }],
      emailPreferences: { subscribed: false },
      journey: [{ type: 'email.opened' }],
    });
    const usage = Object.fromEntries(
      (Object.keys(after) as SubgraphName[]).map((name) => [
        name,
        {
          requests: after[name].requests - before[name].requests,
          sql: after[name].sql - before[name].sql,
        },
      ]),
    );
    console.log(`per-subgraph usage for 100 customers: ${JSON.stringify(usage)}`);
    for (const name of Object.keys(usage) as SubgraphName[]) {
      expect({ name, requests: usage[name].requests }).toEqual({ name, requests: 1 });
      expect({ name, sqlWithinTwo: usage[name].sql <= 2 }).toEqual({ name, sqlWithinTwo: true });
    }
  });

  it('pages through customers with opaque cursors and rejects a tampered cursor', async () => {
    const first = await graphql(`
      {
        customers(first: 60) {
          edges {
            cursor
            node {
              id
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
          totalCount
        }
      }
    `);
    expect(first.json.data.customers.pageInfo.hasNextPage).toBe(true);
    expect(first.json.data.customers.totalCount).toBe(100);
    const second = await graphql(
      `
        query ($after: String) {
          customers(first: 60, after: $after) {
            edges {
              node {
                id
              }
            }
            pageInfo {
              hasNextPage
            }
          }
        }
      `,
      {
        after: first.json.data.customers.pageInfo.endCursor,
      },
    );
    const seen = [...first.json.data.customers.edges, ...second.json.data.customers.edges].map(
      (e: any) => e.node.id,
    );
    expect(seen).toEqual(ids);
    expect(second.json.data.customers.pageInfo.hasNextPage).toBe(false);

    const bad = await graphql(`
      {
        customers(after: "not-a-cursor") {
          totalCount
        }
      }
    `);
    expect(bad.status).toBe(200);
    expect(bad.json.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'after',
    });
  });

  it('finds customers by exact id, email prefix and name prefix', async () => {
    const search = async (query: string) =>
      (
        await graphql(
          `
            query ($q: String) {
              customers(query: $q, first: 5) {
                totalCount
                edges {
                  node {
                    id
                  }
                }
              }
            }
          `,
          { q: query },
        )
      ).json.data.customers;
    expect(await search('c042')).toEqual({ totalCount: 1, edges: [{ node: { id: 'c042' } }] });
    expect((await search('c04')).totalCount).toBe(10);
    expect((await search('firstc09')).totalCount).toBe(10);
    expect((await search('%')).totalCount).toBe(0);
  });
});

describe('subgraph isolation', () => {
  it.each(['campaigns', 'segments', 'email', 'analytics', 'ecommerce'] as SubgraphName[])(
    '%s refuses a valid user JWT without the gateway proof of origin (401)',
    async (name) => {
      const userJwt = await stack.token(['admin']);
      const direct = await post(
        stack.subgraphs[name].url,
        { query: '{ __typename }' },
        { authorization: `Bearer ${userJwt}` },
      );
      expect(direct.status).toBe(401);
      expect(direct.json.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');

      const forged = await new GatewayProof('x'.repeat(64)).sign({
        sub: 'mallory',
        roles: ['admin'],
      });
      const forgedProof = await post(
        stack.subgraphs[name].url,
        { query: '{ __typename }' },
        { [PROOF_HEADER]: forged },
      );
      expect(forgedProof.status).toBe(401);

      const genuine = await new GatewayProof(stack.secrets.proof).sign({
        sub: 'gateway-test',
        roles: ['viewer'],
      });
      const viaProof = await post(
        stack.subgraphs[name].url,
        { query: '{ __typename }' },
        { [PROOF_HEADER]: genuine },
      );
      expect(viaProof.status).toBe(200);
      expect(viaProof.json.data).toEqual({ __typename: 'Query' });
    },
  );
});

describe('gateway authentication', () => {
  const expectRefused = (result: { status: number; text: string; json: any }, message: RegExp) => {
    expect(result.status).toBe(401);
    expect(result.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(result.json.errors[0].message).toMatch(message);
    expect(result.text).not.toMatch(/stacktrace|at .*\.js:\d+/);
  };

  it('refuses a malformed token', async () => {
    expectRefused(await graphql('{ __typename }', {}, 'not-a-jwt'), /malformed/i);
  });

  it('refuses an expired token', async () => {
    const expired = await signUserToken(stack.secrets.jwt, {
      sub: 'u',
      roles: ['admin'],
      issuer: stack.secrets.issuer,
      audience: stack.secrets.audience,
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });
    expectRefused(await graphql('{ __typename }', {}, expired), /expired/i);
  });

  it('refuses a token for another audience', async () => {
    const other = await signUserToken(stack.secrets.jwt, {
      sub: 'u',
      roles: ['admin'],
      issuer: stack.secrets.issuer,
      audience: 'someone-else',
    });
    expectRefused(await graphql('{ __typename }', {}, other), /"aud"/);
  });

  it('refuses a token signed with another secret', async () => {
    const forged = await signUserToken('y'.repeat(64), {
      sub: 'u',
      roles: ['admin'],
      issuer: stack.secrets.issuer,
      audience: stack.secrets.audience,
    });
    expectRefused(await graphql('{ __typename }', {}, forged), /signature/i);
  });

  it('answers __typename anonymously but serves no data without a token', async () => {
    expect((await graphql('{ __typename }', {}, null)).json).toEqual({
      data: { __typename: 'Query' },
    });
    const anonymous = await graphql('{ campaigns { totalCount } }', {}, null);
    expect(anonymous.json.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(anonymous.json.data).toBeNull();
  });
});
