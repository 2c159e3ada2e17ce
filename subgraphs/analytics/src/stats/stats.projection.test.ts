/**
 * The campaign aggregates on real PostgreSQL: each outcome counts once per delivery whatever the
 * duplicates, a click implies an open, orders go to the last click (else open) within the window,
 * whichever of the order and the touch arrives first.
 */
import { migrate, openDatabase, type EmailEvent, type TrackMessage } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { analyticsSubgraph } from '../service.js';
import { applyEmailEvents, applyOrders } from './stats.projection.js';

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase('stats');
  orm = await openDatabase({ ...analyticsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'analytics');
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const CAMPAIGN = '11111111-1111-4111-8111-111111111111';
const VARIANT = '22222222-2222-4222-8222-222222222222';
const D1 = '33333333-3333-4333-8333-333333333331';
const D2 = '33333333-3333-4333-8333-333333333332';
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 20, 10, minutes)).toISOString();

const email = (
  id: string,
  type: EmailEvent['type'],
  deliveryId: string,
  customerId: string,
  minute: number,
): EmailEvent & { id: string } => ({
  id,
  type,
  deliveryId,
  customerId,
  campaignId: CAMPAIGN,
  variantId: VARIANT,
  occurredAt: at(minute),
});

const order = (id: string, customerId: string, minute: number, total: number): TrackMessage => ({
  type: 'track',
  messageId: id,
  userId: customerId,
  event: 'Order Completed',
  properties: { order_id: id, total },
  timestamp: at(minute),
  receivedAt: at(minute),
});

const stats = async () =>
  (
    await orm.em
      .fork()
      .execute<Record<string, string>[]>(
        `select recipients, sent, delivered, bounced, unique_opens, unique_clicks, conversions, revenue from analytics.campaign_stats`,
      )
  )[0];

const apply = (events: (EmailEvent & { id: string })[]) =>
  orm.em.fork().transactional((em) => applyEmailEvents(em, events, 5));
const applyOrder = (orders: TrackMessage[]) =>
  orm.em.fork().transactional((em) => applyOrders(em, orders, 5));

describe('campaign aggregates', () => {
  it('count each outcome once per delivery, whatever the duplicates and the order', async () => {
    const events = [
      email('e1', 'email.sent', D1, 'ann', 0),
      email('e2', 'email.delivered', D1, 'ann', 0),
      email('e3', 'email.opened', D1, 'ann', 5),
      email('e4', 'email.opened', D1, 'ann', 6),
      email('e5', 'email.sent', D2, 'bob', 0),
      email('e6', 'email.delivered', D2, 'bob', 0),
      // Bob clicks with images off: the click counts as an open too.
      email('e7', 'email.clicked', D2, 'bob', 9),
    ];
    await apply(events.slice(4).reverse());
    await apply(events);
    await apply(events);
    expect(await stats()).toEqual({
      recipients: 2,
      sent: 2,
      delivered: 2,
      bounced: 0,
      unique_opens: 2,
      unique_clicks: 1,
      conversions: 0,
      revenue: '0.00',
    });
  });

  it('credit an order to the last touch within the window, once, whichever arrives first', async () => {
    // Ann opened at :05; her order at :30 is credited to the open.
    await applyOrder([order('o-ann', 'ann', 30, 50)]);
    await applyOrder([order('o-ann', 'ann', 30, 50)]);
    // Cid's order arrives before the click that led to it.
    await applyOrder([order('o-cid', 'cid', 40, 20)]);
    expect((await stats())!.conversions).toBe(1);
    const D3 = '33333333-3333-4333-8333-333333333333';
    await apply([
      email('e8', 'email.sent', D3, 'cid', 1),
      email('e9', 'email.clicked', D3, 'cid', 35),
    ]);
    // An order long after every touch is nobody's conversion.
    await applyOrder([
      {
        ...order('o-late', 'bob', 0, 99),
        timestamp: new Date(Date.UTC(2026, 10, 30)).toISOString(),
      },
    ]);
    expect(await stats()).toMatchObject({ conversions: 2, revenue: '70.00' });
    const credited = await orm.em
      .fork()
      .execute(
        `select order_id, customer_id, touch from analytics.attributed_order order by order_id`,
      );
    expect(credited).toEqual([
      { order_id: 'o-ann', customer_id: 'ann', touch: 'open' },
      { order_id: 'o-cid', customer_id: 'cid', touch: 'click' },
    ]);
  });
});
