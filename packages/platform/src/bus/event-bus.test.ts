/**
 * One contract suite for both transports of the event bus: the PostgreSQL event log always, NATS
 * JetStream when NATS_URL is set. Every test uses its own subject and consumer names.
 */
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { waitFor } from '../testing/wait-for.js';
import type { Delivery, EventBus } from './event-bus.js';
import { NatsJetStreamBus } from './nats-jetstream.js';
import { PgEventLog } from './pg-event-log.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('bus');
});
afterAll(() => db.drop());

const transports: [string, () => Promise<EventBus>][] = [
  ['postgres', () => PgEventLog.connect(db.url)],
];
if (process.env.NATS_URL)
  transports.push(['nats', () => NatsJetStreamBus.connect(process.env.NATS_URL!)]);
else
  console.warn(
    'event bus contract: NATS_URL is not set, the NATS JetStream transport is not tested',
  );

describe.each(transports)('event bus over %s', (_kind, connect) => {
  let bus: EventBus;
  let subject: string;
  let name: string;
  beforeEach(async () => {
    bus = await connect();
    const tag = randomUUID().slice(0, 8);
    subject = `marketing.test.${tag}`;
    name = `test-${tag}`;
  });
  afterEach(() => bus.close());

  const messages = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => ({
      id: `m${from + i}`,
      subject,
      data: { n: from + i },
    }));

  it('delivers every published message once, in order, to a durable consumer', async () => {
    const seen: number[] = [];
    await bus.publish(messages(0, 50));
    const consumer = await bus.consume<{ n: number }>({
      name,
      subjects: [subject],
      batchSize: 20,
      handle: async (batch) => void seen.push(...batch.map((d) => d.data.n)),
    });
    await waitFor(() => seen.length >= 50, Boolean);
    await new Promise((r) => setTimeout(r, 300));
    await consumer.stop();
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('drops a message published again with the same id', async () => {
    const seen: string[] = [];
    await bus.publish(messages(0, 3));
    await bus.publish([{ id: 'm1', subject, data: { n: 99 } }, ...messages(3, 4)]);
    const consumer = await bus.consume({
      name,
      subjects: [subject],
      handle: async (b) => void seen.push(...b.map((d) => d.id)),
    });
    await waitFor(() => seen.length >= 4, Boolean);
    await new Promise((r) => setTimeout(r, 300));
    await consumer.stop();
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('resumes a consumer where it stopped, and gives another consumer name everything', async () => {
    const first: string[] = [];
    await bus.publish(messages(0, 10));
    let consumer = await bus.consume({
      name,
      subjects: [subject],
      handle: async (b) => void first.push(...b.map((d) => d.id)),
    });
    await waitFor(() => first.length === 10, Boolean);
    await consumer.stop();
    await bus.publish(messages(10, 15));
    const resumed: string[] = [];
    consumer = await bus.consume({
      name,
      subjects: [subject],
      handle: async (b) => void resumed.push(...b.map((d) => d.id)),
    });
    const other: string[] = [];
    const otherConsumer = await bus.consume({
      name: `${name}-other`,
      subjects: [subject],
      handle: async (b) => void other.push(...b.map((d) => d.id)),
    });
    await waitFor(() => resumed.length === 5 && other.length === 15, Boolean);
    await consumer.stop();
    await otherConsumer.stop();
    expect(resumed).toEqual(['m10', 'm11', 'm12', 'm13', 'm14']);
  });

  it('dead-letters a poison message with its reason after the last attempt while the rest flow', async () => {
    const handled: string[] = [];
    const attempts: number[] = [];
    await bus.publish(messages(0, 6));
    const consumer = await bus.consume<{ n: number }>({
      name,
      subjects: [subject],
      maxDeliver: 3,
      backoffMs: [50],
      handle: async (batch: Delivery<{ n: number }>[]) => {
        const poison = batch.find((d) => d.id === 'm3');
        if (poison) {
          attempts.push(poison.attempt);
          throw new Error('cannot project message m3: unknown shape');
        }
        handled.push(...batch.map((d) => d.id));
      },
    });
    await waitFor(async () => (await bus.deadLetters(name)).length === 1, Boolean);
    await consumer.stop();
    expect(handled.sort()).toEqual(['m0', 'm1', 'm2', 'm4', 'm5']);
    expect(attempts.filter((a, i) => attempts.indexOf(a) === i)).toEqual([1, 2, 3]);
    const [letter] = await bus.deadLetters(name);
    expect(letter).toMatchObject({ id: 'm3', subject, data: { n: 3 }, attempts: 3 });
    expect(letter.reason).toContain('cannot project message m3');
  });

  it('redelivers a message that fails transiently, with the attempt number, and never dead-letters it', async () => {
    const delivered: Delivery[] = [];
    await bus.publish(messages(0, 1));
    const consumer = await bus.consume({
      name,
      subjects: [subject],
      maxDeliver: 5,
      backoffMs: [50],
      handle: async (batch) => {
        if (batch[0].attempt < 3) throw new Error('database busy');
        delivered.push(...batch);
      },
    });
    await waitFor(() => delivered.length === 1, Boolean);
    await consumer.stop();
    expect(delivered[0]).toMatchObject({ id: 'm0', attempt: 3 });
    expect(await bus.deadLetters(name)).toEqual([]);
  });

  it('retries a batch that fails for an infrastructure reason without counting it against maxDeliver', async () => {
    const delivered: Delivery[] = [];
    let outage = 6;
    await bus.publish(messages(0, 3));
    const consumer = await bus.consume({
      name,
      subjects: [subject],
      maxDeliver: 2,
      backoffMs: [50],
      handle: async (batch) => {
        if (outage-- > 0) {
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
            code: 'ECONNREFUSED',
          });
        }
        delivered.push(...batch);
      },
    });
    // Delivery is at least once: under load a message may come twice (an ack lost to a timeout);
    // what matters is that all arrive although the outage outlasts maxDeliver.
    const ids = () => [...new Set(delivered.map((d) => d.id))].sort();
    await waitFor(() => ids().length === 3, Boolean, 30_000);
    await consumer.stop();
    expect(ids()).toEqual(['m0', 'm1', 'm2']);
    expect(await bus.deadLetters(name)).toEqual([]);
  });
});
