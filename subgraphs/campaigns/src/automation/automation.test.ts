/**
 * Automations on real PostgreSQL and real pg-boss, driven by pg-boss's TestClock: time only moves
 * when the test moves it, and both the engine and pg-boss's job table read that time. What the
 * engine asks the email service to send is read from the outbox (`marketing.sends`), the boundary
 * between the Campaign Manager and the email service.
 */
import {
  createLogger,
  migrate,
  openDatabase,
  queryWithParams,
  type IngestedMessage,
} from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { TestClock } from 'pg-boss';
import { CampaignKind } from '../campaign/campaign.entity.js';
import { CampaignService } from '../campaign/campaign.service.js';
import { campaignsSubgraph } from '../service.js';
import { startAutomationJobs, type AutomationWorker } from './automation.worker.js';
import { BLUEPRINTS, buildFromBlueprint } from './blueprints.js';

let db: TestDatabase;
let orm: MikroORM;
let worker: AutomationWorker;
let clock: TestClock;
const marketer = { sub: 'marketer-1', roles: ['marketer' as const] };
const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const T3 = '33333333-3333-4333-8333-333333333333';
const SEGMENT = '44444444-4444-4444-8444-444444444444';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The next 12:00 UTC at least an hour ahead: campaigns launched now are older than any event. */
function nextNoonUtc(): number {
  const noon = new Date();
  noon.setUTCHours(12, 0, 0, 0);
  while (noon.getTime() < Date.now() + HOUR) noon.setUTCDate(noon.getUTCDate() + 1);
  return noon.getTime();
}

beforeAll(async () => {
  db = await createTestDatabase('automations');
  orm = await openDatabase({ ...campaignsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'campaigns');
  await sql(
    `insert into campaigns.template_version (template_id, version, name)
     values ($1, 3, 'Cart reminder'), ($2, 1, 'Welcome 2'), ($3, 1, 'Welcome 3')`,
    [T1, T2, T3],
  );
  clock = new TestClock(nextNoonUtc());
  worker = await startAutomationJobs({
    orm,
    databaseUrl: db.url,
    logger: createLogger('automation-test', 'silent'),
    clock,
    settings: {
      frequencyCap: { count: 3, windowMs: DAY },
      quietHours: { start: 21 * 60, end: 8 * 60 },
      defaultTimezone: 'UTC',
    },
    retryDelaySeconds: 1,
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await orm?.close();
  await db?.drop();
});

function sql<T>(text: string, params: unknown[] = []) {
  return queryWithParams<T>(orm.em.fork(), text, params);
}

let messageSeq = 0;
function track(
  userId: string,
  event: string,
  properties: Record<string, unknown> = {},
): IngestedMessage {
  const timestamp = new Date(clock.now()).toISOString();
  return {
    type: 'track',
    messageId: `m-${++messageSeq}`,
    userId,
    event,
    properties,
    timestamp,
    receivedAt: timestamp,
  };
}
function identify(userId: string, traits: Record<string, unknown>): IngestedMessage {
  const timestamp = new Date(clock.now()).toISOString();
  return {
    type: 'identify',
    messageId: `m-${++messageSeq}`,
    userId,
    traits,
    timestamp,
    receivedAt: timestamp,
  };
}

/** Runs every job due by now (and what they schedule for now), ticking pg-boss's clock. */
async function settle() {
  for (let i = 0; i < 200; i++) {
    await clock.tick(500);
    await new Promise((r) => setTimeout(r, 15));
    const [row] = await sql<{ n: number }>(
      `select count(*)::int as n from campaigns_jobs.job
       where name = 'automation-step' and (state = 'active' or (state in ('created', 'retry') and start_after <= $1))`,
      [new Date(clock.now()).toISOString()],
    );
    if (row!.n === 0) return;
  }
  throw new Error('automation jobs did not settle');
}

/** Moves time forward by `ms`, running every job that falls due on the way, in order. */
async function advance(ms: number) {
  const target = clock.now() + ms;
  for (;;) {
    const [next] = await sql<{ at: Date | null }>(
      `select min(start_after) as at from campaigns_jobs.job
       where name = 'automation-step' and state in ('created', 'retry') and start_after <= $1`,
      [new Date(target).toISOString()],
    );
    if (!next?.at) break;
    if (new Date(next.at).getTime() > clock.now()) await clock.setTime(new Date(next.at).getTime());
    await settle();
  }
  if (target > clock.now()) await clock.setTime(target);
  await settle();
}

/** Each case starts at the next noon UTC, clear of the quiet hours unless it moves there itself. */
async function toNoon() {
  const noon = new Date(clock.now());
  noon.setUTCHours(12, 0, 0, 0);
  if (noon.getTime() <= clock.now()) noon.setUTCDate(noon.getUTCDate() + 1);
  await advance(noon.getTime() - clock.now());
}

async function ingest(...messages: IngestedMessage[]) {
  await worker.engine.onIngested(messages);
  await settle();
}

interface SendRow {
  dedupeKey: string;
  customerId: string;
  templateId: string;
  templateVersion: number;
  campaignId: string;
  event: { event: string; properties: Record<string, unknown> } | null;
}
async function sends(campaignId: string): Promise<SendRow[]> {
  const rows = await sql<{ data: SendRow }>(
    `select data from campaigns.outbox where subject = 'marketing.sends' and data->>'campaignId' = $1 order by seq`,
    [campaignId],
  );
  return rows.map((r) => r.data);
}

async function enrollments(campaignId: string) {
  return sql<{
    customer_id: string;
    status: string;
    current_step: string | null;
    exit_reason: string | null;
  }>(
    `select customer_id, status, current_step, exit_reason from campaigns.campaign_enrollment
     where campaign_id = $1 order by entered_at, customer_id`,
    [campaignId],
  );
}

async function automation(name: string, trigger: unknown, steps: unknown, variants = true) {
  const service = new CampaignService(orm.em.fork());
  const campaign = await service.create(
    {
      name,
      kind: CampaignKind.AUTOMATION,
      variants: variants ? [{ name: 'A', weight: 1, templateId: T1 }] : [],
      trigger,
      steps,
    },
    marketer,
  );
  await new CampaignService(orm.em.fork()).launch(campaign.id, marketer);
  return campaign.id;
}

const abandonedCheckout = {
  trigger: {
    on: {
      type: 'event',
      event: 'Checkout Started',
      where: [{ property: 'total', op: 'gt', value: 0 }],
    },
    reentry: { policy: 'always' },
  },
  steps: [
    {
      id: 'wait-for-order',
      type: 'waitForEvent',
      event: 'Order Completed',
      timeout: { hours: 1 },
      onEvent: 'ordered',
      onTimeout: 'remind',
    },
    { id: 'remind', type: 'sendEmail', next: 'done' },
    { id: 'ordered', type: 'exit' },
    { id: 'done', type: 'exit' },
  ],
};

describe('automations', () => {
  beforeEach(toNoon, 60_000);

  it('abandoned checkout: no order within the hour gets the reminder, with the cart; an order within the hour gets nothing', async () => {
    const id = await automation(
      'Abandoned checkout',
      abandonedCheckout.trigger,
      abandonedCheckout.steps,
    );
    const cart = { total: 59.9, products: [{ name: 'Trail shoes', price: 59.9 }] };
    await ingest(track('ac-1', 'Checkout Started', cart), track('ac-2', 'Checkout Started', cart));
    await advance(30 * MINUTE);
    await ingest(track('ac-2', 'Order Completed', { order_id: 'o-1', total: 59.9 }));
    await advance(29 * MINUTE);
    expect(await sends(id)).toEqual([]);

    await advance(2 * MINUTE);
    const sent = await sends(id);
    expect(sent.map((s) => [s.customerId, s.templateId, s.templateVersion])).toEqual([
      ['ac-1', T1, 3],
    ]);
    expect(sent[0]!.event).toMatchObject({ event: 'Checkout Started', properties: cart });
    expect(sent[0]!.dedupeKey).toMatch(/^workflow:[0-9a-f-]{36}:remind:\d+$/);

    await advance(3 * HOUR);
    expect(await sends(id)).toHaveLength(1);
    expect(await enrollments(id)).toEqual([
      { customer_id: 'ac-1', status: 'EXITED', current_step: 'done', exit_reason: 'exit step' },
      { customer_id: 'ac-2', status: 'EXITED', current_step: 'ordered', exit_reason: 'exit step' },
    ]);
  }, 60_000);

  it("a late batch with the checkout and the order: the order counts, from the events' own times", async () => {
    const waiting = await automation(
      'Late wait',
      abandonedCheckout.trigger,
      abandonedCheckout.steps,
    );
    const goal = await automation(
      'Late goal',
      { on: { type: 'event', event: 'Checkout Started' }, exitOn: [{ event: 'Order Completed' }] },
      [
        { id: 'wait', type: 'wait', duration: { hours: 1 } },
        { id: 'send', type: 'sendEmail' },
      ],
    );
    const checkout = track('late-1', 'Checkout Started', { total: 5 });
    await advance(10 * MINUTE);
    const order = track('late-1', 'Order Completed', { order_id: 'late' });
    await advance(10 * MINUTE);
    await ingest(checkout, order); // the consumer saw both 20 minutes after the checkout
    await advance(2 * HOUR);
    expect(await sends(waiting)).toEqual([]);
    expect(await sends(goal)).toEqual([]);
    expect((await enrollments(waiting)).map((e) => [e.status, e.current_step])).toEqual([
      ['EXITED', 'ordered'],
    ]);
    expect((await enrollments(goal)).map((e) => [e.status, e.exit_reason])).toEqual([
      ['EXITED', 'goal: Order Completed'],
    ]);
  }, 60_000);

  it('completing an automation exits its active enrolments, and their waits do nothing', async () => {
    const id = await automation('Stopped', { on: { type: 'event', event: 'Stop Trigger' } }, [
      { id: 'wait', type: 'wait', duration: { days: 1 } },
      { id: 'send', type: 'sendEmail' },
    ]);
    await ingest(track('stop-1', 'Stop Trigger'));
    await new CampaignService(orm.em.fork()).change(id, 'complete', marketer);
    expect((await enrollments(id)).map((e) => [e.status, e.exit_reason])).toEqual([
      ['EXITED', 'campaign completed'],
    ]);
    await advance(2 * DAY);
    expect(await sends(id)).toEqual([]);
  }, 60_000);

  it('a checkout without a total does not match the trigger filter', async () => {
    const id = await automation(
      'Filtered checkout',
      abandonedCheckout.trigger,
      abandonedCheckout.steps,
    );
    await ingest(track('ac-3', 'Checkout Started', { total: 0 }));
    expect(await enrollments(id)).toEqual([]);
  });

  it('welcome series: three emails a day and two days apart, then complete', async () => {
    const id = await automation('Welcome', { on: { type: 'event', event: 'Signed Up' } }, [
      { id: 'w1', type: 'sendEmail' },
      { id: 'd1', type: 'wait', duration: { days: 1 } },
      { id: 'w2', type: 'sendEmail', templateId: T2 },
      { id: 'd2', type: 'wait', duration: { days: 2 } },
      { id: 'w3', type: 'sendEmail', templateId: T3 },
    ]);
    await ingest(track('wel-1', 'Signed Up'));
    expect((await sends(id)).map((s) => s.templateId)).toEqual([T1]);
    await advance(DAY - MINUTE);
    expect(await sends(id)).toHaveLength(1);
    await advance(MINUTE);
    expect((await sends(id)).map((s) => s.templateId)).toEqual([T1, T2]);
    await advance(2 * DAY);
    expect((await sends(id)).map((s) => s.templateId)).toEqual([T1, T2, T3]);
    expect(await enrollments(id)).toEqual([
      { customer_id: 'wel-1', status: 'COMPLETED', current_step: 'w3', exit_reason: null },
    ]);
  }, 60_000);

  it('a goal event ends the enrolment before the next email', async () => {
    const id = await automation(
      'Browse nudge',
      { on: { type: 'event', event: 'Product Viewed' }, exitOn: [{ event: 'Order Completed' }] },
      [
        { id: 'wait', type: 'wait', duration: { hours: 4 } },
        { id: 'nudge', type: 'sendEmail' },
      ],
    );
    await ingest(track('goal-1', 'Product Viewed'), track('goal-2', 'Product Viewed'));
    await advance(HOUR);
    await ingest(track('goal-1', 'Order Completed', { total: 10 }));
    await advance(4 * HOUR);
    expect((await sends(id)).map((s) => s.customerId)).toEqual(['goal-2']);
    expect((await enrollments(id)).map((e) => [e.customer_id, e.status, e.exit_reason])).toEqual([
      ['goal-1', 'EXITED', 'goal: Order Completed'],
      ['goal-2', 'COMPLETED', null],
    ]);
  }, 60_000);

  it('re-entry: once enrols a customer once; a cooldown enrols again only after it', async () => {
    const steps = [{ id: 's', type: 'sendEmail' }];
    const once = await automation(
      'Once',
      { on: { type: 'event', event: 'Visit A' }, reentry: { policy: 'once' } },
      steps,
    );
    const cooldown = await automation(
      'Cooldown',
      {
        on: { type: 'event', event: 'Visit B' },
        reentry: { policy: 'cooldown', cooldown: { days: 7 } },
      },
      steps,
    );
    await ingest(track('re-1', 'Visit A'), track('re-1', 'Visit B'));
    await advance(DAY + HOUR);
    await ingest(track('re-1', 'Visit A'), track('re-1', 'Visit B'));
    expect(await enrollments(once)).toHaveLength(1);
    expect(await enrollments(cooldown)).toHaveLength(1);
    await advance(7 * DAY);
    await ingest(track('re-1', 'Visit A'), track('re-1', 'Visit B'));
    expect(await enrollments(once)).toHaveLength(1);
    expect(await enrollments(cooldown)).toHaveLength(2);
    expect(await sends(cooldown)).toHaveLength(2);
  }, 60_000);

  it('the frequency cap (3 a day, across campaigns) skips the fourth email and the enrolment goes on', async () => {
    const steps = [
      { id: 'first', type: 'sendEmail' },
      { id: 'second', type: 'sendEmail', templateId: T2 },
    ];
    const a = await automation('Cap A', { on: { type: 'event', event: 'Cap Trigger' } }, steps);
    const b = await automation('Cap B', { on: { type: 'event', event: 'Cap Trigger' } }, steps);
    await ingest(track('cap-1', 'Cap Trigger'));
    const total = (await sends(a)).length + (await sends(b)).length;
    expect(total).toBe(3);
    const steps_ = await sql<{ reason: string | null }>(
      `select data->>'reason' as reason from campaigns.outbox
       where data->>'type' = 'enrollment.step' and data->>'customerId' = 'cap-1' and data->>'stepType' = 'sendEmail'`,
    );
    expect(steps_.map((s) => s.reason).sort()).toEqual([
      'send requested',
      'send requested',
      'send requested',
      'skipped: frequency cap',
    ]);
    expect((await enrollments(a)).concat(await enrollments(b)).map((e) => e.status)).toEqual([
      'COMPLETED',
      'COMPLETED',
    ]);
    // A day later the window has room again.
    await advance(DAY + MINUTE);
    const c = await automation('Cap C', { on: { type: 'event', event: 'Cap Again' } }, [
      { id: 'x', type: 'sendEmail' },
    ]);
    await ingest(track('cap-1', 'Cap Again'));
    expect(await sends(c)).toHaveLength(1);
  }, 60_000);

  it('quiet hours (21:00-08:00) hold a send until morning in the customer’s own timezone', async () => {
    const id = await automation('Quiet', { on: { type: 'event', event: 'Quiet Trigger' } }, [
      { id: 'q', type: 'sendEmail' },
    ]);
    // Move to 14:00 UTC: 23:00 in Tokyo (quiet), 09:00 or 10:00 in New York, 14:00 in London.
    const now = new Date(clock.now());
    const at14 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 14, 0);
    await advance(at14 - clock.now());
    await ingest(
      identify('tokyo', { timezone: 'Asia/Tokyo' }),
      identify('newyork', { timezone: 'America/New_York' }),
      track('tokyo', 'Quiet Trigger'),
      track('newyork', 'Quiet Trigger'),
    );
    expect((await sends(id)).map((s) => s.customerId)).toEqual(['newyork']);
    // 08:00 in Tokyo is 23:00 UTC: nothing before, the email right then.
    await advance(9 * HOUR - MINUTE);
    expect(await sends(id)).toHaveLength(1);
    await advance(MINUTE);
    expect((await sends(id)).map((s) => s.customerId)).toEqual(['newyork', 'tokyo']);
  }, 60_000);

  it('waitUntil resumes at a local time of day in the customer’s timezone', async () => {
    const id = await automation('Morning', { on: { type: 'event', event: 'Morning Trigger' } }, [
      { id: 'nine', type: 'waitUntil', time: '09:00' },
      { id: 'send', type: 'sendEmail' },
    ]);
    await ingest(
      identify('paris', { timezone: 'Europe/Paris' }),
      track('paris', 'Morning Trigger'),
    );
    const [row] = await sql<{ wake_at: Date }>(
      `select wake_at from campaigns.campaign_enrollment where campaign_id = $1`,
      [id],
    );
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      hour: '2-digit',
      minute: '2-digit',
    }).format(new Date(row!.wake_at));
    expect(local).toBe('09:00');
    await advance(new Date(row!.wake_at).getTime() - clock.now());
    expect(await sends(id)).toHaveLength(1);
  }, 60_000);

  it('branches on attributes, past events and a random split, deterministically', async () => {
    const id = await automation('Branchy', { on: { type: 'event', event: 'Branch Trigger' } }, [
      {
        id: 'vip',
        type: 'branch',
        condition: { attribute: 'traits.plan', op: 'eq', value: 'gold' },
        then: 'gold',
        else: 'wait',
      },
      { id: 'gold', type: 'sendEmail', templateId: T2, next: 'end' },
      { id: 'wait', type: 'wait', duration: { hours: 2 } },
      {
        id: 'browsed',
        type: 'branch',
        condition: {
          event: 'Product Viewed',
          where: [{ property: 'category', op: 'eq', value: 'shoes' }],
        },
        then: 'split',
        else: 'end',
      },
      {
        id: 'split',
        type: 'split',
        branches: [
          { weight: 0.5, next: 'a' },
          { weight: 0.5, next: 'b' },
        ],
      },
      { id: 'a', type: 'sendEmail', next: 'end' },
      { id: 'b', type: 'sendEmail', templateId: T3, next: 'end' },
      { id: 'end', type: 'exit' },
    ]);
    await ingest(
      identify('br-gold', { plan: 'gold' }),
      track('br-gold', 'Branch Trigger'),
      track('br-shoes', 'Branch Trigger'),
      track('br-none', 'Branch Trigger'),
    );
    await advance(HOUR);
    await ingest(track('br-shoes', 'Product Viewed', { category: 'Shoes' }));
    await advance(2 * HOUR);
    const byCustomer = Object.fromEntries(
      (await sends(id)).map((s) => [s.customerId, s.templateId]),
    );
    expect(byCustomer['br-gold']).toBe(T2);
    expect([T1, T3]).toContain(byCustomer['br-shoes']);
    expect(byCustomer['br-none']).toBeUndefined();
  }, 60_000);

  it('a step job that runs twice, or a timeout after the awaited event, has no second effect', async () => {
    const id = await automation('Twice', { on: { type: 'event', event: 'Twice Trigger' } }, [
      { id: 'once', type: 'sendEmail' },
    ]);
    const message = track('tw-1', 'Twice Trigger');
    await ingest(message, message); // the same message twice in a batch
    await ingest(message); // and again later
    expect(await enrollments(id)).toHaveLength(1);
    expect(await sends(id)).toHaveLength(1);
    const [enrollment] = await sql<{ id: string }>(
      `select id from campaigns.campaign_enrollment where campaign_id = $1`,
      [id],
    );
    // Replaying the first job (seq 0) and a made-up resume: the enrolment's seq has moved on.
    await worker.engine.run({ enrollmentId: enrollment!.id, seq: 0 });
    await worker.engine.run({ enrollmentId: enrollment!.id, seq: 0, resume: 'timeout' });
    expect(await sends(id)).toHaveLength(1);
  }, 60_000);

  it('segment triggers: an entry after the launch enrols, one from before it does not', async () => {
    const id = await automation(
      'Segment welcome',
      { on: { type: 'segmentEntered', segmentId: SEGMENT } },
      [{ id: 'hello', type: 'sendEmail' }],
    );
    const event = (customerId: string, occurredAt: string, n: number) => ({
      id: `seg-${n}`,
      type: 'segment.entered' as const,
      segmentId: SEGMENT,
      segmentName: 'VIP',
      customerId,
      occurredAt,
      reason: 'evaluation',
    });
    await worker.engine.onSegmentEvents([
      event('seg-old', '2020-01-01T00:00:00.000Z', 1),
      event('seg-new', new Date(clock.now()).toISOString(), 2),
    ]);
    await settle();
    expect((await sends(id)).map((s) => s.customerId)).toEqual(['seg-new']);
  }, 60_000);

  it('enrolment progress goes on the bus for the journey: entered, each step, completed', async () => {
    const id = await automation('Journeyed', { on: { type: 'event', event: 'Journey Trigger' } }, [
      { id: 'j1', type: 'wait', duration: { minutes: 5 } },
      { id: 'j2', type: 'sendEmail' },
    ]);
    await ingest(track('jr-1', 'Journey Trigger'));
    await advance(5 * MINUTE);
    const events = await sql<{ type: string; step: string | null }>(
      `select data->>'type' as type, data->>'stepId' as step from campaigns.outbox
       where subject = 'marketing.campaigns' and data->>'campaignId' = $1 and data->>'type' like 'enrollment.%' order by seq`,
      [id],
    );
    expect(events).toEqual([
      { type: 'enrollment.entered', step: null },
      { type: 'enrollment.step', step: 'j1' },
      { type: 'enrollment.step', step: 'j2' },
      { type: 'enrollment.completed', step: null },
    ]);
  }, 60_000);
});

describe('automation input', () => {
  const service = () => new CampaignService(orm.em.fork());
  const create = (trigger: unknown, steps: unknown) =>
    service().create(
      {
        name: 'Bad',
        kind: CampaignKind.AUTOMATION,
        variants: [{ name: 'A', weight: 1, templateId: T1 }],
        trigger,
        steps,
      },
      marketer,
    );
  const trigger = { on: { type: 'event', event: 'X' } };

  it.each([
    [
      'an unreachable step',
      trigger,
      [
        { id: 'a', type: 'exit' },
        { id: 'b', type: 'sendEmail' },
      ],
      'input.steps[1]',
      'cannot be reached',
    ],
    [
      'a loop without a wait',
      trigger,
      [
        { id: 'a', type: 'sendEmail' },
        { id: 'b', type: 'branch', condition: { inSegment: SEGMENT }, then: 'a', else: 'c' },
        { id: 'c', type: 'exit' },
      ],
      'input.steps[1].then',
      'without a wait',
    ],
    [
      'an unknown template',
      trigger,
      [{ id: 'a', type: 'sendEmail', templateId: '99999999-9999-4999-8999-999999999999' }],
      'input.steps[0].templateId',
      'no email template',
    ],
    [
      'split weights that do not sum to 1',
      trigger,
      [{ id: 's', type: 'split', branches: [{ weight: 0.5 }, { weight: 0.6 }] }],
      'input.steps[0].branches',
      'sum to 1.1',
    ],
    [
      'an unknown next step',
      trigger,
      [{ id: 'a', type: 'wait', duration: { hours: 1 }, next: 'nowhere' }],
      'input.steps[0].next',
      'no step with id "nowhere"',
    ],
    [
      'a duplicate id',
      trigger,
      [
        { id: 'a', type: 'exit' },
        { id: 'a', type: 'exit' },
      ],
      'input.steps[1].id',
      'duplicate',
    ],
    [
      'a zero duration',
      trigger,
      [{ id: 'a', type: 'wait', duration: { hours: 0 } }],
      'input.steps[0].duration',
      'above zero',
    ],
    ['an unknown step type', trigger, [{ id: 'a', type: 'teleport' }], 'input.steps[0].type', ''],
    [
      'a bad filter value',
      { on: { type: 'event', event: 'X', where: [{ property: 'total', op: 'in', value: 3 }] } },
      [{ id: 'a', type: 'exit' }],
      'input.trigger.on.where[0].value',
      'list',
    ],
    [
      'a bad time of day',
      trigger,
      [{ id: 'a', type: 'waitUntil', time: '25:00' }],
      'input.steps[0].time',
      'HH:MM',
    ],
    ['no steps', trigger, [], 'input.steps', ''],
    ['no trigger', null, [{ id: 'a', type: 'exit' }], 'input.trigger', 'required'],
  ])(
    'refuses %s with a path, creating nothing',
    async (_case, badTrigger, steps, path, message) => {
      const [before] = await sql<{ n: number }>(
        `select count(*)::int as n from campaigns.campaign`,
      );
      const error = await create(badTrigger, steps).catch((e: unknown) => e);
      expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', path } });
      expect((error as Error).message).toContain(message);
      const [after] = await sql<{ n: number }>(`select count(*)::int as n from campaigns.campaign`);
      expect(after!.n).toBe(before!.n);
    },
  );

  it('accepts a loop that passes through a wait', async () => {
    await expect(
      create(trigger, [
        { id: 'a', type: 'sendEmail' },
        { id: 'w', type: 'wait', duration: { days: 7 } },
        { id: 'b', type: 'branch', condition: { inSegment: SEGMENT }, then: 'a' },
      ]),
    ).resolves.toMatchObject({ kind: 'AUTOMATION' });
  });

  it('a broadcast takes no trigger or steps', async () => {
    const error = await service()
      .create(
        {
          name: 'B',
          kind: CampaignKind.BROADCAST,
          segmentId: SEGMENT,
          variants: [{ name: 'A', weight: 1, templateId: T1 }],
          trigger,
        },
        marketer,
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', path: 'input.trigger' } });
  });
});

describe('ready-made automations', () => {
  beforeEach(toNoon, 60_000);

  const create = (key: string, templateIds: string[], segmentId?: string) => {
    const built = buildFromBlueprint(key, { templateIds, segmentId });
    return new CampaignService(orm.em.fork()).create(
      {
        name: built.blueprint.name,
        kind: CampaignKind.AUTOMATION,
        variants: [],
        trigger: built.trigger,
        steps: built.steps,
      },
      marketer,
    );
  };

  it.each(BLUEPRINTS.map((b) => [b.key, b] as const))(
    '%s builds a valid automation with the fewest and the most templates',
    async (_key, blueprint) => {
      const templates = [T1, T2, T3];
      for (const count of [blueprint.templates.min, blueprint.templates.max]) {
        const campaign = await create(blueprint.key, templates.slice(0, count), SEGMENT);
        expect(campaign.steps).toEqual(expect.any(Array));
      }
    },
  );

  it('refuses a wrong number of templates, a missing segment or an unknown blueprint, with the path', () => {
    expect(() => buildFromBlueprint('welcome-series', { templateIds: [] })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path: 'templateIds' }) }),
    );
    expect(() => buildFromBlueprint('win-back', { templateIds: [T1] })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path: 'segmentId' }) }),
    );
    expect(() => buildFromBlueprint('teleport', { templateIds: [T1] })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path: 'blueprint' }) }),
    );
  });

  it('post-purchase cross-sell: a week after the order, only for customers who have not ordered again', async () => {
    const campaign = await create('post-purchase-cross-sell', [T2]);
    await new CampaignService(orm.em.fork()).launch(campaign.id, marketer);
    await ingest(
      track('pp-1', 'Order Completed', { order_id: 'a' }),
      track('pp-2', 'Order Completed', { order_id: 'b' }),
    );
    await advance(2 * DAY);
    await ingest(track('pp-2', 'Order Completed', { order_id: 'c' }));
    await advance(5 * DAY);
    expect((await sends(campaign.id)).map((s) => s.customerId)).toEqual(['pp-1']);
  }, 60_000);
});
