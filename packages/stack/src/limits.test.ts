/**
 * The gateway's limits, over HTTP and WebSocket: depth (including the `__schema`-named-operation
 * bypass), aliases, tokens, and mutations per identity.
 */
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase('limits');
  stack = await startStack({
    databaseUrl: db.url,
    gatewayEnv: { RATE_LIMIT_MUTATIONS_PER_MINUTE: '3' },
  });
  token = await stack.token(['marketer'], 'busy-marketer');
});
afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

async function graphql(query: string, variables: Record<string, unknown> = {}) {
  return { body: await stack.graphql(token, query, variables) };
}

/** 16 levels: customers > edges > node > campaignEnrollments > campaign > segment > members > ... */
const DEEP_SELECTION = `customers(first: 1) { edges { node { campaignEnrollments { campaign { segment {
  members(first: 1) { edges { node { campaignEnrollments { campaign { segment {
    members(first: 1) { edges { node { id } } } } } } } } } } } } } } }`;

describe('gateway limits', () => {
  it('refuses a query deeper than the limit, also when the operation is named __schema', async () => {
    for (const name of ['Deep', '__schema']) {
      const { body } = await graphql(`query ${name} { ${DEEP_SELECTION} }`);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0].message).toMatch(/depth/i);
    }
    const shallow = await graphql(`
      query {
        customers(first: 1) {
          totalCount
        }
      }
    `);
    expect(shallow.body.errors).toBeUndefined();
  });

  it('refuses too many aliases and too many tokens', async () => {
    const aliases = Array.from(
      { length: 20 },
      (_, i) => `a${i}: segments(first: 1) { totalCount }`,
    );
    const manyAliases = await graphql(`{ ${aliases.join(' ')} }`);
    expect(manyAliases.body.errors?.[0].message).toMatch(/alias/i);
    const tokens = await graphql(
      `{ ${Array.from({ length: 3_500 }, () => '__typename').join(' ')} }`,
    );
    expect(tokens.body.errors?.[0].message).toMatch(/token/i);
  });

  it('limits mutations per identity: RATE_LIMITED after the allowance', async () => {
    const create = (n: number) =>
      graphql(
        `
          mutation ($i: SegmentInput!) {
            createSegment(input: $i) {
              id
            }
          }
        `,
        {
          i: { name: `S${n}`, definition: { attribute: 'country', op: 'eq', value: 'DE' } },
        },
      );
    for (let n = 0; n < 3; n++) expect((await create(n)).body.errors).toBeUndefined();
    const limited = await create(3);
    expect(limited.body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    // Queries are not counted against it.
    expect(
      (
        await graphql(`
          {
            segments(first: 1) {
              totalCount
            }
          }
        `)
      ).body.errors,
    ).toBeUndefined();
  });

  it('applies the same limits to subscriptions', async () => {
    const client = createClient({
      url: stack.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const errors = await new Promise<unknown>((resolve) =>
      client.subscribe(
        {
          query: `subscription { campaignStatsUpdated(campaignId: "00000000-0000-4000-8000-000000000001") {
            ${Array.from({ length: 20 }, (_, i) => `a${i}: sent`).join(' ')} } }`,
        },
        { next: () => resolve('data'), error: resolve, complete: () => resolve('complete') },
      ),
    );
    await client.dispose();
    expect(JSON.stringify(errors)).toMatch(/alias/i);
  });
});
