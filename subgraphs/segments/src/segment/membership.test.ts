/**
 * Membership on real PostgreSQL: live re-evaluation touches only affected segments and the changed
 * customers; the sweep catches windows that expire without a new event; history is kept.
 */
import { migrate, openDatabase, queryWithParams } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { segmentsSubgraph } from '../service.js';
import { LiveMembership } from './membership.js';
import { SegmentService } from './segment.service.js';
import { dueSegments, evaluateSegment } from './segment.worker.js';

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase('membership');
  orm = await openDatabase({ ...segmentsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'segments');
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const T0 = new Date('2026-06-15T12:00:00Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const admin = { sub: 'tester', roles: ['admin' as const] };

async function sql<T>(text: string, params: unknown[] = []) {
  return queryWithParams<T>(orm.em.fork(), text, params);
}

async function profile(id: string) {
  await sql(
    `insert into segments.customer_profile (customer_id, traits, trait_versions, order_count, total_spent, created_at, updated_at)
     values ($1, '{}', '{}', 0, 0, now(), now())`,
    [id],
  );
}

async function event(id: string, customer: string, name: string, at: Date) {
  await sql(
    `insert into segments.customer_event (message_id, customer_id, event, properties, occurred_at)
     values ($1, $2, $3, '{}', $4)`,
    [id, customer, name, at.toISOString()],
  );
}

const history = async (segmentId: string) =>
  (
    await sql<{ customer_id: string; entered_at: string; exited_at: string | null }>(
      `select customer_id, entered_at, exited_at from segments.segment_membership
       where segment_id = $1 order by id`,
      [segmentId],
    )
  ).map((r) => ({
    customer_id: r.customer_id,
    entered_at: new Date(r.entered_at),
    exited_at: r.exited_at === null ? null : new Date(r.exited_at),
  }));

const outbox = () =>
  sql<{ message_id: string; data: { type: string; customerId: string; reason: string } }>(
    `select message_id, data from segments.outbox order by seq`,
  );

describe('segment membership', () => {
  it('a window that expires without a new event is caught by the sweep', async () => {
    await profile('m1');
    await event('e-m1', 'm1', 'Browse', hours(-12));
    const segment = await new SegmentService(orm.em.fork()).create(
      { name: 'Browsed today', definition: { event: 'Browse', withinDays: 1 } },
      admin,
    );
    expect(await dueSegments(orm.em.fork(), 60_000, T0)).toEqual([
      { id: segment.id, reason: 'evaluation' },
    ]);
    expect(await evaluateSegment(orm, segment.id, 'evaluation', T0)).toEqual({
      entered: 1,
      exited: 0,
    });
    expect(await dueSegments(orm.em.fork(), 60_000, hours(0.01))).toEqual([]);
    // An hour later nothing expired, but the sweep interval has passed.
    expect(await dueSegments(orm.em.fork(), 60_000, hours(1))).toEqual([
      { id: segment.id, reason: 'sweep' },
    ]);
    expect(await evaluateSegment(orm, segment.id, 'sweep', hours(1))).toEqual({
      entered: 0,
      exited: 0,
    });
    // 12 h later the event is more than 24 h old: the sweep ends the membership.
    expect(await evaluateSegment(orm, segment.id, 'sweep', hours(12.5))).toEqual({
      entered: 0,
      exited: 1,
    });
    expect(await history(segment.id)).toEqual([
      { customer_id: 'm1', entered_at: T0, exited_at: hours(12.5) },
    ]);
    expect((await outbox()).map((m) => [m.data.type, m.data.customerId, m.data.reason])).toEqual([
      ['segment.entered', 'm1', 'evaluation'],
      ['segment.exited', 'm1', 'sweep'],
    ]);
    // A rule without a relative window is never swept.
    const plain = await new SegmentService(orm.em.fork()).create(
      { name: 'Ever browsed', definition: { event: 'Browse' } },
      admin,
    );
    await evaluateSegment(orm, plain.id, 'evaluation', T0);
    expect(await dueSegments(orm.em.fork(), 60_000, hours(100))).not.toContainEqual(
      expect.objectContaining({ id: plain.id }),
    );
    await sql(`delete from segments.outbox`);
  });

  it('live re-evaluation reads only affected segments, for the changed customers only', async () => {
    await profile('m2');
    await profile('m3');
    await event('e-m2', 'm2', 'Wishlist Added', hours(-1));
    await event('e-m3', 'm3', 'Wishlist Added', hours(-1));
    const segment = await new SegmentService(orm.em.fork()).create(
      { name: 'Wishlisters', definition: { event: 'Wishlist Added' } },
      admin,
    );
    const live = new LiveMembership();
    const apply = (changes: Parameters<LiveMembership['apply']>[1]) =>
      orm.em.fork().transactional((em) => live.apply(em, changes, T0));

    // A change that no rule reads re-evaluates nothing.
    expect(await apply([{ customerId: 'm2', attributes: ['country'] }])).toEqual({
      entered: 0,
      exited: 0,
      segments: 0,
    });
    // The event m2 had: m2 enters, m3 (who matches too but did not change) is left alone.
    expect(await apply([{ customerId: 'm2', events: ['Wishlist Added'] }])).toMatchObject({
      entered: 1,
      segments: 1,
    });
    expect((await history(segment.id)).map((h) => h.customer_id)).toEqual(['m2']);
    // Applying the same change again changes nothing and announces nothing twice.
    expect(await apply([{ customerId: 'm2', events: ['Wishlist Added'] }])).toMatchObject({
      entered: 0,
      exited: 0,
    });
    // A new customer is evaluated against every segment.
    expect(await apply([{ customerId: 'm3', created: true }])).toMatchObject({ entered: 1 });
    const events = (await outbox()).filter((m) => m.message_id.startsWith('segment.entered'));
    expect(events.map((m) => [m.data.customerId, m.data.reason])).toEqual([
      ['m2', 'change'],
      ['m3', 'change'],
    ]);
    // The full evaluation that follows finds the materialised state right: nothing to change.
    expect(await evaluateSegment(orm, segment.id, 'evaluation', T0)).toEqual({
      entered: 0,
      exited: 0,
    });
  });
});
