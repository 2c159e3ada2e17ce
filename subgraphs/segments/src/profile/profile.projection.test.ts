/**
 * The profile projection on real PostgreSQL: any permutation of identify and order messages, with
 * duplicates and in batches of any size, gives the same profile as the in-order sequence.
 */
import { migrate, openDatabase, type IngestedMessage } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import fc from 'fast-check';
import { segmentsSubgraph } from '../service.js';
import { ProfileProjection } from './profile.projection.js';

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase('projection');
  orm = await openDatabase({ ...segmentsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'segments');
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const day = (n: number, minute = 0) => new Date(Date.UTC(2026, 0, 1 + n, 12, minute)).toISOString();

type Template =
  | { kind: 'identify'; at: number; traits: Record<string, string | number | null> }
  | { kind: 'order'; at: number; order: string; total: number }
  | { kind: 'refund'; at: number; order: string; amount: number | null }
  | { kind: 'view'; at: number };

/** Turns templates into messages of one customer; ids are unique per run and variant. */
function materialise(templates: Template[], customer: string): IngestedMessage[] {
  return templates.map((t, i) => {
    const common = {
      messageId: `${customer}-${i}`,
      userId: customer,
      timestamp: day(t.at, i % 7),
      receivedAt: day(40),
    };
    switch (t.kind) {
      case 'identify':
        return { type: 'identify', ...common, traits: t.traits };
      case 'order':
        return {
          type: 'track',
          ...common,
          event: 'Order Completed',
          properties: { order_id: `${customer}-${t.order}`, total: t.total },
        };
      case 'refund':
        return {
          type: 'track',
          ...common,
          event: 'Order Refunded',
          properties: {
            order_id: `${customer}-${t.order}`,
            ...(t.amount === null ? {} : { total: t.amount }),
          },
        };
      case 'view':
        return { type: 'track', ...common, event: 'Product Viewed', properties: { sku: 'X' } };
    }
  });
}

const template: fc.Arbitrary<Template> = fc.oneof(
  fc.record({
    kind: fc.constant('identify' as const),
    at: fc.integer({ min: 0, max: 20 }),
    traits: fc.dictionary(
      fc.constantFrom('email', 'firstName', 'country', 'plan', 'timezone'),
      fc.oneof(
        fc.constantFrom(
          'a@example.com',
          'B@Example.com',
          'Ann',
          'DE',
          'fr',
          'gold',
          'Europe/Berlin',
          'Not/AZone',
        ),
        fc.integer(),
        fc.constant(null),
      ),
    ),
  }),
  fc.record({
    kind: fc.constant('order' as const),
    at: fc.integer({ min: 0, max: 20 }),
    order: fc.constantFrom('o1', 'o2', 'o3'),
    total: fc.integer({ min: 0, max: 500 }),
  }),
  fc.record({
    kind: fc.constant('refund' as const),
    at: fc.integer({ min: 0, max: 20 }),
    order: fc.constantFrom('o1', 'o2', 'o3'),
    amount: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
  }),
  fc.record({ kind: fc.constant('view' as const), at: fc.integer({ min: 0, max: 20 }) }),
);

async function project(messages: IngestedMessage[], batchSizes: number[]): Promise<void> {
  const projection = new ProfileProjection(orm.em);
  let i = 0;
  let b = 0;
  while (i < messages.length) {
    const size = batchSizes[b++ % batchSizes.length];
    await projection.apply(messages.slice(i, i + size));
    i += size;
  }
}

async function profileOf(customer: string) {
  const [row] = await orm.em.fork().execute(
    `select email, first_name, country, timezone, traits, order_count, total_spent::float as total_spent,
            first_order_at, last_order_at, last_seen_at,
            (select count(*)::int from segments.customer_event e where e.customer_id = p.customer_id) as events
     from segments.customer_profile p where customer_id = ?`,
    [customer],
  );
  return row;
}

let run = 0;
describe('profile projection', () => {
  it('gives the same profile for any permutation with duplicates, in any batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(template, { minLength: 1, maxLength: 25 }),
        fc.func(fc.integer()),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (templates, shuffleKey, batchSizes, duplicateIndexes) => {
          run += 1;
          const inOrder = `inorder${run}`;
          const shuffled = `shuffled${run}`;
          await project(materialise(templates, inOrder), [templates.length]);

          const messages = materialise(templates, shuffled);
          const withDuplicates = [
            ...messages,
            ...duplicateIndexes.map((i) => messages[i % messages.length]),
          ];
          const permuted = withDuplicates
            .map((m, i) => ({ m, key: shuffleKey(i) }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.m);
          await project(permuted, batchSizes);

          expect(await profileOf(shuffled)).toEqual(await profileOf(inOrder));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps the latest value of each trait by event time, then message id', async () => {
    const customer = 'latest-wins';
    const m = (id: string, at: string, traits: Record<string, unknown>): IngestedMessage => ({
      type: 'identify',
      messageId: id,
      userId: customer,
      timestamp: at,
      receivedAt: at,
      traits,
    });
    await new ProfileProjection(orm.em).apply([
      m('b', day(2), { plan: 'gold', email: 'New@Example.com' }),
      m('a', day(1), { plan: 'silver', country: 'de' }),
      m('c', day(2), { plan: 'platinum' }),
    ]);
    const profile = await profileOf(customer);
    expect(profile).toMatchObject({
      email: 'new@example.com',
      country: 'DE',
      traits: { plan: 'platinum', email: 'New@Example.com', country: 'de' },
    });
    const hostile = JSON.parse('{"constructor":"x","__proto__":{"polluted":true},"toString":1}');
    await new ProfileProjection(orm.em).apply([m('d', day(3), hostile)]);
    expect((await profileOf(customer)).traits).toMatchObject({ constructor: 'x', toString: 1 });
    expect(
      Object.getOwnPropertyDescriptor((await profileOf(customer)).traits, '__proto__')?.value,
    ).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('computes order aggregates from completions and refunds, whatever arrives first', async () => {
    const customer = 'orders';
    const t = (
      id: string,
      at: number,
      event: string,
      properties: Record<string, unknown>,
    ): IngestedMessage => ({
      type: 'track',
      messageId: id,
      userId: customer,
      timestamp: day(at),
      receivedAt: day(at),
      event,
      properties,
    });
    const projection = new ProfileProjection(orm.em);
    await projection.apply([t('r1', 5, 'Order Refunded', { order_id: 'A' })]);
    await projection.apply([
      t('o1', 1, 'Order Completed', { order_id: 'A', total: 100 }),
      t('o2', 2, 'Order Completed', { order_id: 'B', total: 50 }),
      t('o3', 3, 'Order Completed', { order_id: 'C', revenue: 30 }),
      t('r2', 4, 'Order Refunded', { order_id: 'B', total: 20 }),
    ]);
    const profile = await profileOf(customer);
    expect(profile).toMatchObject({ order_count: 2, total_spent: 60, events: 5 });
    expect(new Date(profile.first_order_at).toISOString()).toBe(day(2));
    expect(new Date(profile.last_order_at).toISOString()).toBe(day(3));
    expect(new Date(profile.last_seen_at).toISOString()).toBe(day(5));
  });

  it('moves an order between customers when a newer completion names another customer', async () => {
    const t = (id: string, user: string, at: number, total: number): IngestedMessage => ({
      type: 'track',
      messageId: id,
      userId: user,
      timestamp: day(at),
      receivedAt: day(at),
      event: 'Order Completed',
      properties: { order_id: 'MOVED', total },
    });
    const projection = new ProfileProjection(orm.em);
    await projection.apply([t('mv1', 'first-owner', 1, 80)]);
    await projection.apply([t('mv2', 'second-owner', 2, 90)]);
    expect(await profileOf('first-owner')).toMatchObject({ order_count: 0, total_spent: 0 });
    expect(await profileOf('second-owner')).toMatchObject({ order_count: 1, total_spent: 90 });
  });
});
