/**
 * Gateway overhead: a 100-customer page with one field from each marketing subgraph and the
 * e-commerce graph, through the gateway, against its baseline measured in the same run: the same
 * page of synced profiles asked of the segments subgraph directly (one subgraph, no planning).
 */
import { GatewayProof, PROOF_HEADER } from '@marketing/platform';
import { createTestDatabase } from '@marketing/platform/testing';
import { startStack } from '@marketing/stack';
import pg from 'pg';
import { percentile, report } from './report.js';

const CUSTOMERS = 1_000;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const CONCURRENCY = 8;

const FEDERATED = `{ customers(first: 100) { edges { node {
  id email profile { orderCount } campaignEnrollments { status } emailPreferences { subscribed } journey(first: 1) { type }
} } } }`;
const DIRECT = `{ customers(first: 100) { edges { node { id profile { orderCount } } } } }`;

async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ids = Array.from({ length: CUSTOMERS }, (_, i) => `b${String(i).padStart(6, '0')}`);
  await client.query(
    `insert into ecommerce.customer (id, email, created_at, updated_at) select id, id || '@example.com', now(), now() from unnest($1::text[]) id`,
    [ids],
  );
  await client.query(
    `insert into segments.customer_profile (customer_id, email, traits, trait_versions, order_count, created_at, updated_at)
     select id, id || '@example.com', '{}', '{}', 1, now(), now() from unnest($1::text[]) id`,
    [ids],
  );
  await client.query(
    `insert into analytics.touchpoint (message_id, customer_id, at, type, source, properties)
     select id, id, now(), 'Product Viewed', 'ECOMMERCE', '{}' from unnest($1::text[]) id`,
    [ids],
  );
  await client.end();
}

async function measure(url: string, query: string, headers: Record<string, string>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < REQUESTS) {
      next += 1;
      const t0 = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as { errors?: unknown[] };
      if (!response.ok || body.errors)
        throw new Error(`request failed: ${JSON.stringify(body).slice(0, 300)}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

export async function run(): Promise<void> {
  const db = await createTestDatabase('bench_federation');
  const stack = await startStack({ databaseUrl: db.url, logLevel: 'error' });
  try {
    await seed(db.url);
    const token = await stack.token(['analyst']);
    const proof = await new GatewayProof(stack.secrets.proof).sign({
      sub: 'bench',
      roles: ['analyst'],
    });
    const gatewayHeaders = { authorization: `Bearer ${token}` };
    const directHeaders = { [PROOF_HEADER]: proof };
    await measure(stack.gateway.url, FEDERATED, gatewayHeaders); // warm-up
    await measure(stack.subgraphs.segments.url, DIRECT, directHeaders);
    const direct = await measure(stack.subgraphs.segments.url, DIRECT, directHeaders);
    const federated = await measure(stack.gateway.url, FEDERATED, gatewayHeaders);
    report(
      'federation',
      [
        {
          name: '100-customer page, 5 subgraphs via gateway: throughput',
          value: federated.rps,
          baseline: direct.rps,
          unit: 'req/s',
          better: 'higher',
        },
        {
          name: '100-customer page via gateway: p50 latency',
          value: federated.p50,
          baseline: direct.p50,
          unit: 'ms',
          better: 'lower',
        },
        {
          name: '100-customer page via gateway: p99 latency',
          value: federated.p99,
          baseline: direct.p99,
          unit: 'ms',
          better: 'lower',
        },
      ],
      {
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        customers: CUSTOMERS,
        baseline: 'segments subgraph alone, same page of profiles',
      },
    );
  } finally {
    await stack.close();
    await db.drop();
  }
}
