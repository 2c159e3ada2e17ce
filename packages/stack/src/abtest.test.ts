/**
 * A/B tests end to end: the Campaign Manager's events (published here on the bus directly)
 * give analytics the campaign's test settings and variant order, email events give the counts,
 * Campaign.abTestResult answers at the gateway, a decision request is answered with
 * `abtest.decided` on `marketing.analytics` and shows as the test's outcome, and enrolment
 * progress appears in the customer's journey.
 */
import type { Delivery } from '@marketing/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@marketing/platform/testing';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;
const decisions: Delivery<unknown>[] = [];
let stopListening: (() => Promise<void>) | undefined;

beforeAll(async () => {
  db = await createTestDatabase('abtest_e2e');
  stack = await startStack({ databaseUrl: db.url });
  const consumer = await stack.subgraphs.analytics.bus!.consume<unknown>({
    name: 'test.abtest-decisions',
    subjects: ['marketing.analytics'],
    handle: async (batch) => {
      decisions.push(...batch);
    },
  });
  stopListening = () => consumer.stop();
});
afterAll(async () => {
  await stopListening?.();
  await stack?.close();
  await db?.drop();
});

const CAMPAIGN = 'c1000000-0000-4000-8000-000000000001';
const CONTROL = 'a1000000-0000-4000-8000-00000000000a';
const CHALLENGER = 'b1000000-0000-4000-8000-00000000000b';
const REQUEST = 'd1000000-0000-4000-8000-000000000001';
const now = () => new Date().toISOString();

const publish = (messages: { id: string; subject: string; data: unknown }[]) =>
  stack.subgraphs.analytics.bus!.publish(messages);

const campaignChanged = (version: number) => ({
  id: `campaign.changed:${CAMPAIGN}:${version}`,
  subject: 'marketing.campaigns',
  data: {
    type: 'campaign.changed',
    campaignId: CAMPAIGN,
    version,
    name: 'Winter sale',
    kind: 'BROADCAST',
    status: 'RUNNING',
    variants: [
      { id: CONTROL, name: 'Plain', weight: 0.5 },
      { id: CHALLENGER, name: 'Countdown', weight: 0.5 },
    ],
    abTest: { metric: 'OPEN', testFraction: 0.2, decisionDelaySeconds: 600, confidence: 0.95 },
    launchedAt: now(),
    changedAt: now(),
  },
});

/** Delivered and opened email events of one variant. */
function emailEvents(variantId: string, delivered: number, opened: number) {
  const events = [];
  for (let i = 0; i < delivered; i++) {
    const deliveryId = `${variantId.slice(0, 24)}${String(i).padStart(12, '0')}`;
    const base = {
      customerId: `ab-${variantId[0]}-${i}`,
      deliveryId,
      campaignId: CAMPAIGN,
      variantId,
      occurredAt: now(),
    };
    events.push({
      id: `email.delivered:${deliveryId}`,
      subject: 'marketing.email',
      data: { ...base, type: 'email.delivered' },
    });
    if (i < opened) {
      events.push({
        id: `email.opened:${deliveryId}`,
        subject: 'marketing.email',
        data: { ...base, type: 'email.opened', unique: true },
      });
    }
  }
  return events;
}

const AB_TEST_RESULT = `query ($id: ID!) { campaignStats(campaignId: $id) { campaign { abTestResult {
  metric decided winnerVariantId reason decidedAt
  variants { variantId exposures successes rate probabilityToBeatControl expectedLoss pValue liftOverControl }
} } } }`;

async function abTestResult(roles: ('viewer' | 'analyst')[] = ['viewer']) {
  const response = await stack.graphql(await stack.token(roles), AB_TEST_RESULT, { id: CAMPAIGN });
  expect(response.errors).toBeUndefined();
  return response.data.campaignStats.campaign.abTestResult;
}

describe('A/B tests', () => {
  it('Campaign.abTestResult is null until analytics knows the campaign’s A/B test', async () => {
    expect(await abTestResult()).toBeNull();
  });

  it('shows the figures per variant to a viewer, control first, from the published events', async () => {
    await publish([campaignChanged(1), campaignChanged(2)]);
    await publish([...emailEvents(CHALLENGER, 300, 75), ...emailEvents(CONTROL, 300, 30)]);
    const result = await waitFor(
      () => abTestResult(),
      (r) => r?.variants.every((v: { exposures: number }) => v.exposures === 300),
    );
    expect(result).toMatchObject({ metric: 'OPEN', decidedAt: null });
    expect(result.variants.map((v: { variantId: string }) => v.variantId)).toEqual([
      CONTROL,
      CHALLENGER,
    ]);
    expect(result.variants[0]).toMatchObject({ successes: 30, rate: 0.1, pValue: null });
    expect(result.variants[1]).toMatchObject({ successes: 75, rate: 0.25 });
    expect(result.variants[1].pValue).toBeLessThan(0.001);
    expect(result.variants[1].probabilityToBeatControl).toBeGreaterThan(0.999);
    expect(result.variants[1].liftOverControl).toBeCloseTo(1.5, 12);
    // Already significant both ways: a winner exists at the campaign's confidence.
    expect(result).toMatchObject({ decided: true, winnerVariantId: CHALLENGER });
  });

  it('answers a decision request once with abtest.decided, and shows it as the outcome', async () => {
    const request = {
      id: `abtest.decision.requested:${REQUEST}`,
      subject: 'marketing.campaigns',
      data: {
        type: 'abtest.decision.requested',
        requestId: REQUEST,
        campaignId: CAMPAIGN,
        metric: 'OPEN',
        confidence: 0.95,
        variantIds: [CONTROL, CHALLENGER],
        requestedAt: now(),
      },
    };
    await publish([request]);
    // The same request again under another message id is not answered twice.
    await publish([{ ...request, id: `${request.id}:again` }]);
    await waitFor(
      () => decisions,
      (d) => d.length >= 1,
    );
    expect(decisions[0]).toMatchObject({
      id: `abtest.decided:${REQUEST}`,
      subject: 'marketing.analytics',
      data: {
        type: 'abtest.decided',
        requestId: REQUEST,
        campaignId: CAMPAIGN,
        metric: 'OPEN',
        winnerVariantId: CHALLENGER,
        bestVariantId: CHALLENGER,
        reason: expect.stringMatching(/^Countdown beats the control at 95% confidence/),
      },
    });
    const decided = await waitFor(
      () => abTestResult(),
      (r) => r.decidedAt !== null,
    );
    expect(decided).toMatchObject({ decided: true, winnerVariantId: CHALLENGER });
    // A later message on the subject is answered: by then the duplicate request was ignored.
    const second = 'd1000000-0000-4000-8000-000000000002';
    await publish([
      {
        ...request,
        id: `abtest.decision.requested:${second}`,
        data: { ...request.data, requestId: second },
      },
    ]);
    await waitFor(
      () => decisions,
      (d) => d.some((m) => (m.data as { requestId: string }).requestId === second),
    );
    expect(
      decisions.filter((m) => (m.data as { requestId: string }).requestId === REQUEST),
    ).toHaveLength(1);
  });

  it('adds enrolment progress to the customer journey with the campaign', async () => {
    const customerId = 'ab-journey-1';
    // The journey is read through the customer's synced profile.
    const identify = await stack.ingest('/v1/identify', {
      userId: customerId,
      messageId: 'ab-journey-identify',
      traits: { email: 'journey@example.com' },
    });
    expect(identify.status).toBe(200);
    const enrollmentId = 'e1000000-0000-4000-8000-000000000001';
    await publish(
      (['enrollment.entered', 'enrollment.step', 'enrollment.exited'] as const).map((type, k) => ({
        id: `${type}:${enrollmentId}:${k}`,
        subject: 'marketing.campaigns',
        data: {
          type,
          campaignId: CAMPAIGN,
          enrollmentId,
          customerId,
          stepId: type === 'enrollment.step' ? 'send-1' : null,
          stepType: type === 'enrollment.step' ? 'sendEmail' : null,
          reason: type === 'enrollment.exited' ? 'goal reached' : null,
          occurredAt: new Date(Date.UTC(2026, 10, 1, 10, k)).toISOString(),
        },
      })),
    );
    const token = await stack.token(['analyst']);
    const response = await waitFor(
      () =>
        stack.graphql(
          token,
          `query ($id: String!) { customers(query: $id, first: 1) { edges { node {
            journey { type source campaign { id } properties }
          } } } }`,
          { id: customerId },
        ),
      (r) => (r.data?.customers.edges[0]?.node.journey ?? []).length === 3,
    );
    expect(response.data.customers.edges[0].node.journey).toEqual([
      {
        type: 'enrollment.exited',
        source: 'MARKETING',
        campaign: { id: CAMPAIGN },
        properties: { enrollmentId, stepId: null, stepType: null, reason: 'goal reached' },
      },
      {
        type: 'enrollment.step',
        source: 'MARKETING',
        campaign: { id: CAMPAIGN },
        properties: { enrollmentId, stepId: 'send-1', stepType: 'sendEmail', reason: null },
      },
      {
        type: 'enrollment.entered',
        source: 'MARKETING',
        campaign: { id: CAMPAIGN },
        properties: { enrollmentId, stepId: null, stepType: null, reason: null },
      },
    ]);
  });
});
