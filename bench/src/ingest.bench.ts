/**
 * Ingestion throughput into the profile projection, end to end (accepted -> projected), beside the
 * PostgreSQL limit measured in the same run: COPY of the same rows into a table shaped like the
 * event store. Paths: HTTP /v1/batch through the gateway (PostgreSQL event log), and NATS
 * JetStream `ecommerce.events` consumed by the segments projection (when NATS_URL is set). The
 * gateway and the segments service run as their own processes, as in production.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { generatePopulation, toMessage } from '@marketing/ecommerce';
import {
  ECOMMERCE_EVENTS_SUBJECT,
  NatsJetStreamBus,
  type IngestedMessage,
} from '@marketing/platform';
import { createTestDatabase, startServiceProcess } from '@marketing/platform/testing';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { report, type Measurement } from './report.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = 500;
const CONCURRENCY = 4;

function workload(tag: string): IngestedMessage[] {
  const population = generatePopulation({ customers: 5_000, days: 60, seed: 7 });
  const products = new Map(population.products.map((p) => [p.id, p]));
  const out: IngestedMessage[] = [];
  for (const event of population.events()) {
    const m = toMessage(event, products);
    out.push({ ...m, messageId: `${tag}-${m.messageId}`, userId: `${tag}-${m.userId}` });
    if (out.length >= EVENTS) break;
  }
  return out;
}

async function processed(url: string, tag: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    `select count(*)::int as n from segments.processed_message where consumer = 'segments.profile' and message_id like $1`,
    [`${tag}-%`],
  );
  await client.end();
  return rows[0].n;
}

async function untilProcessed(url: string, tag: string, n: number): Promise<void> {
  while ((await processed(url, tag)) < n) await new Promise((r) => setTimeout(r, 100));
}

async function copyRate(url: string, messages: IngestedMessage[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `create temp table copy_target (message_id text primary key, customer_id text, event text, properties jsonb, occurred_at timestamptz)`,
  );
  const escape = (v: string) =>
    v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  const lines = messages.map(
    (m) =>
      [
        m.messageId,
        m.userId,
        m.type === 'track' ? m.event : 'identify',
        JSON.stringify(m.type === 'track' ? m.properties : m.traits),
        m.timestamp,
      ]
        .map(escape)
        .join('\t') + '\n',
  );
  const started = performance.now();
  await pipeline(Readable.from(lines), client.query(copyFrom('copy copy_target from stdin')));
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return messages.length / seconds;
}

const service = (script: string) => fileURLToPath(new URL(`../../${script}`, import.meta.url));

async function httpRate(tag: string): Promise<number> {
  const db = await createTestDatabase('bench_ingest_http');
  const proof = randomBytes(32).toString('hex');
  const writeKey = `wk_${randomBytes(8).toString('hex')}`;
  const segments = await startServiceProcess(service('subgraphs/segments/dist/main.js'), {
    DATABASE_URL: db.url,
    GATEWAY_PROOF_SECRET: proof,
  });
  // The gateway composes nothing at start (static supergraph): only ingestion is exercised here.
  const gateway = await startServiceProcess(service('gateway/dist/main.js'), {
    DATABASE_URL: db.url,
    GATEWAY_PROOF_SECRET: proof,
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    INGEST_WRITE_KEY: writeKey,
  });
  const origin = gateway.origin;
  try {
    const messages = workload(tag).map((m) => ({ ...m, receivedAt: undefined }));
    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < messages.length) {
          const batch = messages.slice(next, next + BATCH);
          next += BATCH;
          const response = await fetch(`${origin}/v1/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: auth },
            body: JSON.stringify({ batch }),
          });
          if (!response.ok)
            throw new Error(
              `batch rejected: ${response.status} ${(await response.text()).slice(0, 300)}`,
            );
        }
      }),
    );
    const accepted = (performance.now() - started) / 1000;
    await untilProcessed(db.url, tag, messages.length);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `HTTP: ${messages.length} accepted in ${accepted.toFixed(1)} s (${Math.round(messages.length / accepted)}/s), projected after ${seconds.toFixed(1)} s`,
    );
    return messages.length / seconds;
  } finally {
    await gateway.stop();
    await segments.stop();
    await db.drop();
  }
}

async function jetStreamRate(natsUrl: string, tag: string): Promise<number> {
  const db = await createTestDatabase('bench_ingest_nats');
  const bus = await NatsJetStreamBus.connect(natsUrl);
  await bus.reset(ECOMMERCE_EVENTS_SUBJECT, ['segments.profile']);
  const segments = await startServiceProcess(service('subgraphs/segments/dist/main.js'), {
    DATABASE_URL: db.url,
    NATS_URL: natsUrl,
    GATEWAY_PROOF_SECRET: randomBytes(32).toString('hex'),
  });
  try {
    const messages = workload(tag);
    // As the e-commerce platform would: publish while the projection consumes.
    const started = performance.now();
    await bus.publish(
      messages.map((m) => ({ id: m.messageId, subject: ECOMMERCE_EVENTS_SUBJECT, data: m })),
    );
    const published = (performance.now() - started) / 1000;
    await untilProcessed(db.url, tag, messages.length);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `JetStream: ${messages.length} published in ${published.toFixed(1)} s, projected after ${seconds.toFixed(1)} s`,
    );
    return messages.length / seconds;
  } finally {
    await segments.stop();
    await bus.close();
    await db.drop();
  }
}

export async function run(): Promise<void> {
  const tag = `b${Date.now().toString(36)}`;
  const sample = workload(`${tag}copy`);
  const copy = await copyRate(process.env.DATABASE_URL!.replace(/\/[^/]*$/, '/postgres'), sample);
  const measurements: Measurement[] = [];
  const http = await httpRate(`${tag}http`);
  measurements.push({
    name: 'HTTP /v1/batch -> profile projection',
    value: http,
    baseline: copy,
    unit: 'events/s',
    better: 'higher',
    target: '>= 10,000/s and >= 1/3 of COPY',
  });
  if (process.env.NATS_URL) {
    const js = await jetStreamRate(process.env.NATS_URL, `${tag}nats`);
    measurements.push({
      name: 'JetStream ecommerce.events -> profile projection',
      value: js,
      baseline: copy,
      unit: 'events/s',
      better: 'higher',
      target: '>= 20,000/s and >= 1/3 of COPY',
    });
  } else {
    console.log('NATS_URL is not set: the JetStream path is not measured');
  }
  measurements.push({
    name: 'COPY of the same rows (PostgreSQL limit)',
    value: copy,
    unit: 'events/s',
    better: 'higher',
  });
  report('ingest', measurements, {
    events: EVENTS,
    batch: BATCH,
    concurrency: CONCURRENCY,
    workload: 'simulator, 5,000 customers, 60 days, seed 7',
  });
}
