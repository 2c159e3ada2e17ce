/**
 * The Campaign Manager's events on real PostgreSQL: the campaign snapshot keeps the highest
 * version, enrolment progress joins the journey, A/B decision requests are answered once per
 * request id through the outbox, and Campaign.abTestResult reads the figures and the decision.
 */
import {
  migrate,
  openDatabase,
  type Delivery,
  type EmailEvent,
  type Identity,
  type TrackMessage,
} from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { graphql, type GraphQLSchema } from 'graphql';
import { createLoaders } from '../loaders.js';
import { buildAnalyticsSchema } from '../schema.js';
import { analyticsSubgraph } from '../service.js';
import { applyEmailEvents, applyOrders } from '../stats/stats.projection.js';
import { applyCampaignEvents } from './campaign-events.consumer.js';

let db: TestDatabase;
let orm: MikroORM;
let schema: GraphQLSchema;
const statements: string[] = [];
beforeAll(async () => {
  db = await createTestDatabase('campaign_events');
  orm = await openDatabase({
    ...analyticsSubgraph.database,
    url: db.url,
    onQuery: (sql) => statements.push(sql),
  });
  await migrate(orm, db.url, 'analytics');
  schema = await buildAnalyticsSchema();
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const CAMPAIGN = 'c0000000-0000-4000-8000-000000000001';
const CONTROL = 'a0000000-0000-4000-8000-00000000000a';
const CHALLENGER = 'b0000000-0000-4000-8000-00000000000b';
const AT = '2026-11-20T10:00:00.000Z';

let seq = 0;
const message = (data: Record<string, unknown>, id = `m-${++seq}`): Delivery<unknown> => ({
  id,
  subject: 'marketing.campaigns',
  data,
  attempt: 1,
});

const changed = (version: number, overrides: Record<string, unknown> = {}) =>
  message({
    type: 'campaign.changed',
    campaignId: CAMPAIGN,
    version,
    name: `Spring sale v${version}`,
    kind: 'BROADCAST',
    status: 'RUNNING',
    variants: [
      { id: CONTROL, name: 'Plain subject', weight: 0.5 },
      { id: CHALLENGER, name: 'Emoji subject', weight: 0.5 },
    ],
    abTest: { metric: 'OPEN', testFraction: 0.2, decisionDelaySeconds: 3600, confidence: 0.95 },
    launchedAt: AT,
    changedAt: AT,
    ...overrides,
  });

const decisionRequest = (requestId: string, metric = 'OPEN', confidence = 0.95) =>
  message({
    type: 'abtest.decision.requested',
    requestId,
    campaignId: CAMPAIGN,
    metric,
    confidence,
    variantIds: [CONTROL, CHALLENGER],
    requestedAt: AT,
  });

const apply = (batch: Delivery<unknown>[]) =>
  orm.em.fork().transactional((em) => applyCampaignEvents(em, batch));

const rows = <T>(sql: string, params: unknown[] = []) =>
  orm.em.fork().getConnection().execute<T[]>(sql, params);

/** `delivered` deliveries of a variant, `opened` of them opened; ids unique per variant. */
async function deliver(variantId: string, delivered: number, opened: number) {
  const events: (EmailEvent & { id: string })[] = [];
  for (let i = 0; i < delivered; i++) {
    const deliveryId = `${variantId.slice(0, 24)}${String(i).padStart(12, '0')}`;
    const base = {
      deliveryId,
      customerId: `${variantId[0]}-${i}`,
      campaignId: CAMPAIGN,
      variantId,
    };
    events.push({ ...base, id: `d-${deliveryId}`, type: 'email.delivered', occurredAt: AT });
    if (i < opened) {
      events.push({ ...base, id: `o-${deliveryId}`, type: 'email.opened', occurredAt: AT });
    }
  }
  await orm.em.fork().transactional((em) => applyEmailEvents(em, events, 30));
}

async function abTestResult(roles: Identity['roles'] = ['viewer']) {
  const em = orm.em.fork();
  const result = await graphql({
    schema,
    source: `query ($id: ID!) { campaignStats(campaignId: $id) { campaign { abTestResult {
      metric confidence decided winnerVariantId reason decidedAt
      variants { variantId exposures successes rate probabilityToBeatControl expectedLoss pValue liftOverControl }
    } } } }`,
    variableValues: { id: CAMPAIGN },
    contextValue: { em, loaders: createLoaders(em), viewer: { sub: 'u', roles } },
  });
  if (result.errors) return { errors: result.errors };
  return (result.data as any).campaignStats.campaign.abTestResult;
}

describe('campaign events', () => {
  it('abTestResult is null for an unknown campaign', async () => {
    expect(await abTestResult()).toBeNull();
  });

  it('keep the highest campaign version whatever the arrival order, once', async () => {
    await apply([changed(3), changed(1)]);
    await apply([changed(2)]);
    const [snapshot] = await rows<{ version: string; name: string }>(
      `select version, name from analytics.campaign_snapshot`,
    );
    expect(snapshot).toEqual({ version: '3', name: 'Spring sale v3' });
  });

  it('add enrolment progress to the journey with its campaign and step, once per message', async () => {
    const step = message(
      {
        type: 'enrollment.step',
        campaignId: CAMPAIGN,
        enrollmentId: 'e0000000-0000-4000-8000-000000000001',
        customerId: 'cust-1',
        stepId: 'wait-1',
        stepType: 'wait',
        occurredAt: AT,
      },
      'enrol-step-1',
    );
    await apply([step]);
    await apply([step]);
    expect(
      await rows(
        `select type, source, campaign_id, properties from analytics.touchpoint where customer_id = 'cust-1'`,
      ),
    ).toEqual([
      {
        type: 'enrollment.step',
        source: 'MARKETING',
        campaign_id: CAMPAIGN,
        properties: {
          enrollmentId: 'e0000000-0000-4000-8000-000000000001',
          stepId: 'wait-1',
          stepType: 'wait',
          reason: null,
        },
      },
    ]);
  });

  it('dead-letter a malformed event with its reason and skip types that are not analytics’ business', async () => {
    await expect(apply([message({ type: 'campaign.changed', campaignId: 'x' })])).rejects.toThrow(
      /invalid event m-\d+: campaignId/,
    );
    await expect(
      apply([message({ type: 'campaign.deleted', campaignId: CAMPAIGN })]),
    ).resolves.toEqual([]);
  });

  it('show the A/B figures in campaign order, undecided while the evidence is thin', async () => {
    await deliver(CONTROL, 400, 40);
    await deliver(CHALLENGER, 400, 48);
    const result = await abTestResult();
    expect(result).toMatchObject({
      metric: 'OPEN',
      confidence: 0.95,
      decided: false,
      winnerVariantId: null,
      decidedAt: null,
    });
    expect(result.reason).toMatch(
      /^no variant beats the control at 95% confidence \(closest: Emoji subject/,
    );
    expect(result.variants.map((v: { variantId: string }) => v.variantId)).toEqual([
      CONTROL,
      CHALLENGER,
    ]);
    expect(result.variants[0]).toMatchObject({
      exposures: 400,
      successes: 40,
      rate: 0.1,
      pValue: null,
    });
    expect(result.variants[1]).toMatchObject({ exposures: 400, successes: 48, rate: 0.12 });
    expect(result.variants[1].liftOverControl).toBeCloseTo(0.2, 12);
  });

  it('answer a decision request once per request id, recorded with the outbox message', async () => {
    const requestId = 'd0000000-0000-4000-8000-000000000001';
    const first = await apply([decisionRequest(requestId)]);
    // The same request again, under another bus id: no second answer.
    expect(await apply([decisionRequest(requestId)])).toEqual([]);
    expect(first).toEqual([
      expect.objectContaining({
        type: 'abtest.decided',
        requestId,
        campaignId: CAMPAIGN,
        metric: 'OPEN',
        winnerVariantId: null,
        bestVariantId: CHALLENGER,
      }),
    ]);
    expect(first[0].reason).toMatch(/; best so far: Emoji subject$/);
    const outbox = await rows<{ subject: string; message_id: string; data: unknown }>(
      `select subject, message_id, data from analytics.outbox`,
    );
    expect(outbox).toEqual([
      { subject: 'marketing.analytics', message_id: `abtest.decided:${requestId}`, data: first[0] },
    ]);
    // The test is over for the campaign: decided, without a winner.
    expect(await abTestResult()).toMatchObject({
      decided: true,
      winnerVariantId: null,
      reason: first[0].reason,
    });
  });

  it('name the winner once the evidence is there, and abTestResult shows the recorded decision', async () => {
    await deliver(CHALLENGER, 400, 100); // the same deliveries opened more: 100 of 400
    const live = await abTestResult();
    expect(live.variants[1]).toMatchObject({ exposures: 400, successes: 100, rate: 0.25 });
    expect(live.variants[1].probabilityToBeatControl).toBeGreaterThan(0.999);
    const [answer] = await apply([decisionRequest('d0000000-0000-4000-8000-000000000002')]);
    expect(answer).toMatchObject({ winnerVariantId: CHALLENGER, bestVariantId: CHALLENGER });
    expect(answer.reason).toMatch(
      /^Emoji subject beats the control at 95% confidence \(probability to beat the control > 99.99%, p-value/,
    );
    expect(await abTestResult()).toMatchObject({ decided: true, winnerVariantId: CHALLENGER });
  });

  it('decide on revenue per recipient with the attributed orders', async () => {
    // Ten openers of each arm buy: 20 each under the control, 80 each under the challenger.
    const orders: TrackMessage[] = [];
    for (const [variant, total] of [
      [CONTROL, 20],
      [CHALLENGER, 80],
    ] as const) {
      for (let i = 0; i < 10; i++) {
        const userId = `${variant[0]}-${i}`;
        orders.push({
          type: 'track',
          messageId: `order-${userId}`,
          userId,
          event: 'Order Completed',
          properties: { order_id: `order-${userId}`, total: total + i },
          timestamp: '2026-11-20T11:00:00.000Z',
          receivedAt: '2026-11-20T11:00:00.000Z',
        });
      }
    }
    await orm.em.fork().transactional((em) => applyOrders(em, orders, 30));
    const [answer] = await apply([
      decisionRequest('d0000000-0000-4000-8000-000000000003', 'REVENUE', 0.9),
    ]);
    expect(answer).toMatchObject({ metric: 'REVENUE', winnerVariantId: CHALLENGER });
    await apply([
      changed(4, {
        abTest: { metric: 'REVENUE', testFraction: 0.2, decisionDelaySeconds: 60, confidence: 0.9 },
      }),
    ]);
    const result = await abTestResult();
    expect(result.metric).toBe('REVENUE');
    // Revenue per exposed recipient: (10 × 20 + 45) / 400 and (10 × 80 + 45) / 400.
    expect(result.variants[0]).toMatchObject({ exposures: 400, successes: 10, rate: 245 / 400 });
    expect(result.variants[1]).toMatchObject({ exposures: 400, successes: 10, rate: 845 / 400 });
  });

  it('abTestResult of many campaigns costs three statements, not three per campaign', async () => {
    const others = ['c0000000-0000-4000-8000-000000000002', 'c0000000-0000-4000-8000-000000000003'];
    await apply(
      others.map((campaignId) =>
        message({ ...(changed(1).data as Record<string, unknown>), campaignId }),
      ),
    );
    const em = orm.em.fork();
    statements.length = 0;
    const result = await graphql({
      schema,
      source: `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Campaign { abTestResult { decided variants { exposures } } }
      } }`,
      variableValues: {
        reps: [CAMPAIGN, ...others].map((id) => ({ __typename: 'Campaign', id })),
      },
      contextValue: { em, loaders: createLoaders(em), viewer: { sub: 'u', roles: ['viewer'] } },
    });
    expect(result.errors).toBeUndefined();
    const exposures = (result.data as any)._entities.map((e: any) =>
      e.abTestResult.variants.map((v: { exposures: number }) => v.exposures),
    );
    expect(exposures).toEqual([
      [400, 400],
      [0, 0],
      [0, 0],
    ]);
    expect(statements).toHaveLength(3);
  });

  it('abTestResult needs a role and is null once the campaign drops its A/B test', async () => {
    const denied = await abTestResult([]);
    expect(denied.errors?.[0].message).toMatch(/needs the viewer role/);
    await apply([changed(5, { abTest: null })]);
    expect(await abTestResult()).toBeNull();
  });
});
