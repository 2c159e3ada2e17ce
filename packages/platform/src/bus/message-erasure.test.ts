/**
 * Erasing a person's messages from the bus, on both transports (NATS JetStream when NATS_URL is
 * set): exact ids and addresses anywhere in the data, ids as message-id tokens, dead letters too;
 * other people's messages, look-alike ids included, stay, and consumers carry on past the gaps.
 */
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { waitFor } from '../testing/wait-for.js';
import type { BusMessage, EventBus } from './event-bus.js';
import { messageMentions } from './message-erasure.js';
import { NatsJetStreamBus } from './nats-jetstream.js';
import { PgEventLog } from './pg-event-log.js';

describe('messageMentions', () => {
  const mentions = messageMentions({ ids: ['c-1'], emails: [' Ann@Mail.example'] });

  it('matches exact ids and addresses anywhere in the data, and ids as message-id tokens', () => {
    expect(mentions('m1', { userId: 'c-1' })).toBe(true);
    expect(mentions('m2', { a: [{ b: 'ANN@mail.example ' }] })).toBe(true);
    expect(mentions('email.unsubscribed:c-1:2026-01-01', {})).toBe(true);
    expect(mentions('c-1', null)).toBe(true);
  });

  it('leaves look-alike ids and other addresses alone', () => {
    expect(mentions('m3', { userId: 'c-10', note: 'about c-1 and ann@mail.example' })).toBe(false);
    expect(mentions('xc-1:y', { email: 'bob@mail.example' })).toBe(false);
  });

  it('takes an id only as the value of an identifying key, not any equal value', () => {
    const one = messageMentions({ ids: ['1'], emails: [] });
    expect(one('m4', { userId: 'c-2', properties: { quantity: 1, sku: '1' } })).toBe(false);
    expect(one('m5', { templateVersion: 1, customerId: 'c-3' })).toBe(false);
    expect(one('m6', { properties: { customer_id: 1 } })).toBe(true);
    expect(one('m7', { data: [{ customerId: '1' }] })).toBe(true);
  });
});

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('bus_erasure');
});
afterAll(() => db.drop());

const transports: [string, () => Promise<EventBus>][] = [
  ['postgres', () => PgEventLog.connect(db.url)],
];
if (process.env.NATS_URL)
  transports.push(['nats', () => NatsJetStreamBus.connect(process.env.NATS_URL!)]);

describe.each(transports)('erasing messages over %s', (_kind, connect) => {
  let bus: EventBus;
  beforeEach(async () => {
    bus = await connect();
  });
  afterEach(() => bus.close());

  it("deletes the person's messages and dead letters, keeps the rest, and consumers go on", async () => {
    const tag = randomUUID().slice(0, 8);
    const subject = `marketing.test.${tag}`;
    const person = `cust-${tag}`;
    const email = `ann.${tag}@mail.example`;
    const message = (id: string, data: unknown): BusMessage => ({ id, subject, data });
    await bus.publish([
      message('a', { customerId: person, n: 1 }),
      message('b', { userId: `other-${tag}`, traits: { email: `bob.${tag}@mail.example` } }),
      message('c', { nested: { list: [` ${email.toUpperCase()}`] } }),
      message(`email.unsubscribed:${person}:2026`, { n: 2 }),
      message('e', { customerId: `${person}0`, poison: true }),
      message('f', { customerId: person, poison: true }),
      // The id as a value under a key that does not identify a person: not theirs.
      message('h', { properties: { sku: person } }),
    ]);
    const seen: string[] = [];
    const name = `test-${tag}`;
    const consumer = await bus.consume<{ poison?: boolean }>({
      name,
      subjects: [subject],
      maxDeliver: 1,
      handle: async (batch) => {
        if (batch.some((d) => d.data.poison)) throw new Error('poison');
        seen.push(...batch.map((d) => d.id));
      },
    });
    await waitFor(
      () => bus.deadLetters(name),
      (letters) => letters.length === 2,
    );
    expect(await bus.eraseMessages({ ids: [person], emails: [email] })).toBe(5);

    const kept: string[] = [];
    await bus.replay(subject, async (batch) => void kept.push(...batch.map((m) => m.id)));
    expect(kept).toEqual(['b', 'e', 'h']);
    expect((await bus.deadLetters(name)).map((l) => l.id)).toEqual(['e']);
    await bus.publish([message('g', { n: 3 })]);
    await waitFor(
      () => Promise.resolve(seen),
      (ids) => ids.includes('g'),
    );
    await consumer.stop();
  });
});
