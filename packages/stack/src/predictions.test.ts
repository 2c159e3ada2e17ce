/**
 * Predictions end to end: orders ingested at the gateway reach the analytics service, a refit
 * fits BG/NBD and Gamma-Gamma on them, `Customer.predictions` answers for any horizon, and the
 * published predictions feed `prediction` conditions of segments.
 */
import { refitPredictions } from '@marketing/analytics';
import { createLogger } from '@marketing/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@marketing/platform/testing';
import pg from 'pg';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;

beforeAll(async () => {
  db = await createTestDatabase('predictions_e2e');
  stack = await startStack({ databaseUrl: db.url });
});
afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

async function graphql(query: string, roles: ('analyst' | 'viewer' | 'marketer')[] = ['analyst']) {
  return stack.graphql(await stack.token(roles), query);
}

const DAY = 86_400_000;

const CUSTOMERS = 300;

/**
 * Customers over 300 days drawn from the BG/NBD story itself: each buys at her own Gamma(2, 1/40)
 * rate until she drops out after a purchase with her own Beta(1, 3) probability, spending around
 * her own mean. Seeded, so every run sees the same history.
 */
function orders(now: number) {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return (seed + 0.5) / 2 ** 31;
  };
  const batch: Record<string, unknown>[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const rate = (-Math.log(random()) - Math.log(random())) / 40;
    const dropout = 1 - Math.cbrt(random());
    const spend = 20 + random() * 80;
    let day = -300 + random() * 100;
    for (let i = 0; day < 0 && i < 40; i++) {
      batch.push({
        type: 'track',
        userId: `p${c}`,
        messageId: `order-p${c}-${i}`,
        event: 'Order Completed',
        timestamp: new Date(now + day * DAY).toISOString(),
        properties: { order_id: `o-p${c}-${i}`, total: Math.round(spend * (0.5 + random())) },
      });
      if (random() < dropout) break;
      day += -Math.log(random()) / rate;
    }
  }
  return batch;
}

describe('customer predictions', () => {
  it('fits on the ingested orders and answers Customer.predictions for any horizon', async () => {
    const batch = orders(Date.now());
    for (let i = 0; i < batch.length; i += 500) {
      const response = await stack.ingest('/v1/batch', { batch: batch.slice(i, i + 500) });
      expect(response.status).toBe(200);
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await waitFor(
        async () =>
          (
            await client.query(
              `select count(*)::int as n from analytics.touchpoint where type = 'Order Completed'`,
            )
          ).rows[0].n,
        (n) => n === batch.length,
      );
    } finally {
      await client.end();
    }
    const fitted = await refitPredictions(
      stack.subgraphs.analytics.orm,
      createLogger('test', 'silent'),
    );
    expect(fitted).toMatchObject({ customers: CUSTOMERS });

    const result = await graphql(`
      {
        customers(query: "p42", first: 1) {
          edges {
            node {
              predictions {
                probabilityAlive
                churnRisk
                soon: expectedPurchases(days: 30)
                later: expectedPurchases(days: 365)
                predictedClv
                modelFittedAt
              }
            }
          }
        }
      }
    `);
    expect(result.errors).toBeUndefined();
    const p = result.data.customers.edges[0].node.predictions;
    expect(p.probabilityAlive).toBeGreaterThan(0);
    expect(p.probabilityAlive).toBeLessThanOrEqual(1);
    expect(p.churnRisk).toBeCloseTo(1 - p.probabilityAlive, 10);
    expect(p.later).toBeGreaterThan(p.soon);
    expect(p.predictedClv).toBeGreaterThan(0);

    const unknown = await graphql(`
      {
        customers(query: "nobody", first: 1) {
          edges {
            node {
              predictions {
                churnRisk
              }
            }
          }
        }
      }
    `);
    expect(unknown.data.customers.edges).toEqual([]);
    const viewer = await graphql(
      `
        {
          customers(query: "p42", first: 1) {
            edges {
              node {
                predictions {
                  churnRisk
                }
              }
            }
          }
        }
      `,
      ['viewer'],
    );
    expect(viewer.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('publishes the predictions: a churn-risk segment fills from them', async () => {
    const created = await graphql(
      `
        mutation {
          createSegment(
            input: {
              name: "Any churn risk"
              definition: { prediction: "churnRisk", op: "gte", value: 0 }
            }
          ) {
            id
          }
        }
      `,
      ['marketer'],
    );
    expect(created.errors).toBeUndefined();
    const id = created.data.createSegment.id as string;
    const members = await waitFor(
      () => graphql(`{ segment(id: "${id}") { memberCount } }`),
      (r) => r.data?.segment.memberCount === CUSTOMERS,
    );
    expect(members.data.segment.memberCount).toBe(CUSTOMERS);
  });
});
