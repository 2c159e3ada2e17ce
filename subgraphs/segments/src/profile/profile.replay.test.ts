/** Replay rebuilds exactly the state the live consumer built from the same log. */
import {
  createLogger,
  ECOMMERCE_EVENTS_SUBJECT,
  migrate,
  openDatabase,
  PgEventLog,
  type IngestedMessage,
} from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { segmentsSubgraph } from '../service.js';
import { startProfileConsumer } from './profile.consumer.js';
import { replayProfiles } from './profile.replay.js';

let db: TestDatabase;
let orm: MikroORM;
let bus: PgEventLog;
beforeAll(async () => {
  db = await createTestDatabase('replay');
  orm = await openDatabase({ ...segmentsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'segments');
  bus = await PgEventLog.connect(db.url);
});
afterAll(async () => {
  await bus?.close();
  await orm?.close();
  await db?.drop();
});

function messages(): IngestedMessage[] {
  const out: IngestedMessage[] = [];
  for (let i = 0; i < 3_000; i++) {
    // Out of time order on purpose: later events arrive first for some customers.
    const at = new Date(Date.UTC(2026, 3, 1) + ((i * 7919) % 3_000) * 60_000).toISOString();
    const common = { messageId: `r${i}`, userId: `c${i % 120}`, timestamp: at, receivedAt: at };
    if (i % 4 === 0)
      out.push({
        type: 'identify',
        ...common,
        traits: { email: `c${i % 120}@example.com`, tier: i % 3 },
      });
    else if (i % 4 === 1)
      out.push({
        type: 'track',
        ...common,
        event: 'Order Completed',
        properties: { order_id: `o${i % 500}`, total: i % 50 },
      });
    else if (i % 4 === 2)
      out.push({
        type: 'track',
        ...common,
        event: 'Order Refunded',
        properties: { order_id: `o${(i + 4) % 500}`, total: 3 },
      });
    else out.push({ type: 'track', ...common, event: 'Product Viewed', properties: {} });
  }
  return out;
}

async function snapshot() {
  const em = orm.em.fork();
  return {
    profiles: await em.execute(
      `select customer_id, email, traits, trait_versions, order_count, total_spent::text, first_order_at, last_order_at, last_seen_at
       from segments.customer_profile order by customer_id`,
    ),
    events: await em.execute(
      'select message_id, customer_id, event, occurred_at from segments.customer_event order by message_id',
    ),
  };
}

describe('replay', () => {
  it('rebuilds the same projection the live consumer built, skipping what it dead-lettered', async () => {
    const published = messages();
    await bus.publish(
      published.map((m) => ({ id: m.messageId, subject: ECOMMERCE_EVENTS_SUBJECT, data: m })),
    );
    await bus.publish([{ id: 'bad', subject: ECOMMERCE_EVENTS_SUBJECT, data: { type: 'track' } }]);
    const stop = await startProfileConsumer({
      orm,
      bus,
      logger: createLogger('test', 'silent'),
      backoffMs: [20],
    });
    const deadline = Date.now() + 30_000;
    while ((await bus.deadLetters('segments.profile')).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect(replayProfiles({ orm, bus, databaseUrl: db.url })).rejects.toThrow(
      /stop the segments service/,
    );
    await stop();
    const live = await snapshot();
    expect(live.profiles).toHaveLength(120);

    const result = await replayProfiles({ orm, bus, databaseUrl: db.url });
    expect(result).toEqual({ replayed: published.length + 1, invalid: 1, profiles: 120 });
    expect(await snapshot()).toEqual(live);
  });
});
