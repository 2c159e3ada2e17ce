/**
 * Segmentation end to end, through the gateway: segments are created, previewed, changed and
 * deleted over GraphQL; membership follows ingested behaviour live (segment.entered on the bus,
 * Customer.segments) without a full recompute; a changed rule is re-evaluated in the background.
 */
import type { BusMessage, Consumer } from '@marketing/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@marketing/platform/testing';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;
let tokens: Record<'marketer' | 'viewer', string>;
let consumer: Consumer;
const membershipEvents: BusMessage<Record<string, string>>[] = [];

beforeAll(async () => {
  db = await createTestDatabase('segments_e2e');
  stack = await startStack({ databaseUrl: db.url, busBackoffMs: '50,100' });
  tokens = {
    marketer: await stack.token(['marketer'], 'marketer-1'),
    viewer: await stack.token(['viewer'], 'viewer-1'),
  };
  consumer = await stack.subgraphs.segments.bus!.consume<Record<string, string>>({
    name: 'test.segment-events',
    subjects: ['marketing.segments'],
    handle: async (batch) => {
      membershipEvents.push(...batch);
    },
  });
});
afterAll(async () => {
  await consumer?.stop();
  await stack?.close();
  await db?.drop();
});

async function graphql(
  query: string,
  variables: Record<string, unknown> = {},
  token = tokens.marketer,
) {
  return stack.graphql(token, query, variables);
}

function ingest(path: string, body: unknown) {
  return stack.ingest(path, body).then((r) => r.status);
}

const now = Date.now();
const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();

const CREATE = `
  mutation ($input: SegmentInput!) {
    createSegment(input: $input) { id name description definition memberCount }
  }`;
const UPDATE = `
  mutation ($id: ID!, $input: SegmentInput!) { updateSegment(id: $id, input: $input) { id definition } }`;
const SEGMENTS_OF = `
  query ($id: String) {
    customers(query: $id, first: 1) { edges { node { id segments { id name } } } }
  }`;

/** The names of a customer's segments; undefined until the customer's profile is synced. */
const segmentsOf = (customerId: string) =>
  graphql(SEGMENTS_OF, { id: customerId }).then(
    (r) =>
      r.data?.customers.edges[0]?.node.segments.map((s: { name: string }) => s.name) as
        string[] | undefined,
  );

const evaluations = () => {
  const { metrics } = stack.subgraphs.segments;
  return metrics.counterValue(metrics.messages, { stage: 'segments.evaluation' });
};

const eventsFor = (customerId: string) =>
  membershipEvents
    .filter((m) => m.data.customerId === customerId)
    .map((m) => `${m.data.type} ${m.data.segmentName} (${m.data.reason})`);

const CAMPAIGN_C1 = '00000000-0000-4000-8000-0000000000c1';

const checkoutTwice = {
  event: 'Checkout Started',
  count: { op: 'gte', value: 2 },
  withinDays: 7,
};

describe('segments through the gateway', () => {
  let checkout: { id: string };

  it('creates a segment; a bad definition is BAD_USER_INPUT with a path; a viewer may not', async () => {
    const bad = await graphql(CREATE, {
      input: {
        name: 'Broken',
        definition: { and: [checkoutTwice, { attribute: 'country', op: 'like', value: 'D%' }] },
      },
    });
    expect(bad.data).toBeNull();
    expect(bad.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', path: 'definition.and[1].op' },
    });
    const forbidden = await graphql(
      CREATE,
      { input: { name: 'Nope', definition: checkoutTwice } },
      tokens.viewer,
    );
    expect(forbidden.errors?.[0].extensions.code).toBe('FORBIDDEN');

    const created = await graphql(CREATE, {
      input: { name: 'Checked out twice this week', definition: checkoutTwice },
    });
    expect(created.errors).toBeUndefined();
    checkout = created.data.createSegment;
    expect(checkout).toMatchObject({
      name: 'Checked out twice this week',
      description: null,
      definition: checkoutTwice,
      memberCount: 0,
    });
    // The new segment is evaluated in full once, in the background.
    await waitFor(evaluations, (n) => n === 1);
  });

  it('a behaviour event puts a customer in the segment live: segment.entered, Customer.segments, no full recompute', async () => {
    const before = await evaluations();
    expect(
      await ingest('/v1/batch', {
        batch: [
          {
            type: 'identify',
            userId: 'shopper-1',
            messageId: 'seg-i1',
            timestamp: minutesAgo(30),
            traits: { email: 'shopper1@example.com', timezone: 'Europe/Berlin' },
          },
          {
            type: 'track',
            userId: 'shopper-1',
            messageId: 'seg-t1',
            event: 'Checkout Started',
            timestamp: minutesAgo(20),
          },
        ],
      }),
    ).toBe(200);
    await waitFor(
      () => segmentsOf('shopper-1'),
      (s) => s !== undefined && s.length === 0,
    );
    expect(eventsFor('shopper-1')).toEqual([]);

    // The second checkout crosses the count threshold.
    expect(
      await ingest('/v1/track', {
        userId: 'shopper-1',
        messageId: 'seg-t2',
        event: 'Checkout Started',
        timestamp: minutesAgo(10),
      }),
    ).toBe(200);
    expect(
      await waitFor(
        () => segmentsOf('shopper-1'),
        (s) => s?.length === 1,
      ),
    ).toEqual(['Checked out twice this week']);
    await waitFor(
      async () => eventsFor('shopper-1'),
      (e) => e.length === 1,
    );
    expect(eventsFor('shopper-1')).toEqual([
      'segment.entered Checked out twice this week (change)',
    ]);
    // An unrelated event does not re-evaluate or re-announce anything.
    expect(
      await ingest('/v1/track', {
        userId: 'shopper-1',
        messageId: 'seg-t3',
        event: 'Product Viewed',
        timestamp: minutesAgo(5),
      }),
    ).toBe(200);
    expect(await evaluations()).toBe(before);
    const members = await graphql(
      `
        query ($id: ID!) {
          segment(id: $id) {
            memberCount
            members(first: 10) {
              totalCount
              edges {
                node {
                  id
                }
              }
            }
          }
        }
      `,
      { id: checkout.id },
    );
    expect(members.data.segment).toEqual({
      memberCount: 1,
      members: { totalCount: 1, edges: [{ node: { id: 'shopper-1' } }] },
    });
    expect(eventsFor('shopper-1')).toHaveLength(1);
  });

  it('previews a rule without saving it: count and sample', async () => {
    const preview = await graphql(
      `
        query ($d: JSON!) {
          previewSegment(definition: $d) {
            count
            sample(first: 5) {
              id
            }
          }
        }
      `,
      {
        d: {
          and: [checkoutTwice, { attribute: 'timezone', op: 'eq', value: 'Europe/Berlin' }],
        },
      },
      tokens.viewer,
    );
    expect(preview).toEqual({
      data: { previewSegment: { count: 1, sample: [{ id: 'shopper-1' }] } },
    });
    const bad = await graphql(
      `
        query ($d: JSON!) {
          previewSegment(definition: $d) {
            count
          }
        }
      `,
      { d: { or: [checkoutTwice, { event: 'x', count: { op: 'gte', value: -2 } }] } },
    );
    expect(bad.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'definition.or[1].count.value',
    });
  });

  it('a changed rule is re-evaluated in the background; members who no longer match exit', async () => {
    const before = await evaluations();
    const updated = await graphql(UPDATE, {
      id: checkout.id,
      input: {
        name: 'Checked out three times this week',
        definition: { ...checkoutTwice, count: { op: 'gte', value: 3 } },
      },
    });
    expect(updated.errors).toBeUndefined();
    await waitFor(evaluations, (n) => n === before + 1);
    expect(await segmentsOf('shopper-1')).toEqual([]);
    await waitFor(
      async () => eventsFor('shopper-1'),
      (e) => e.length === 2,
    );
    expect(eventsFor('shopper-1')[1]).toBe(
      'segment.exited Checked out three times this week (evaluation)',
    );
  });

  it('a segment used by another cannot be deleted; deleting ends its memberships', async () => {
    const everyone = await graphql(CREATE, {
      input: {
        name: 'Berlin',
        definition: { attribute: 'timezone', op: 'eq', value: 'Europe/Berlin' },
      },
    });
    const berlin = everyone.data.createSegment.id as string;
    const wrapper = await graphql(CREATE, {
      input: { name: 'Berlin shoppers', definition: { inSegment: berlin } },
    });
    expect(wrapper.errors).toBeUndefined();
    await waitFor(
      () => segmentsOf('shopper-1'),
      (s) => s?.length === 2,
    );
    expect(await segmentsOf('shopper-1')).toEqual(['Berlin', 'Berlin shoppers']);

    const cycle = await graphql(UPDATE, {
      id: berlin,
      input: { name: 'Berlin', definition: { inSegment: wrapper.data.createSegment.id } },
    });
    expect(cycle.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'definition.inSegment(' + wrapper.data.createSegment.id + ').inSegment',
    });
    const refused = await graphql(
      `
        mutation ($id: ID!) {
          deleteSegment(id: $id)
        }
      `,
      { id: berlin },
    );
    expect(refused.errors?.[0].extensions.code).toBe('CONFLICT');
    expect(refused.errors?.[0].message).toMatch(/Berlin shoppers/);

    const deleted = await graphql(
      `
        mutation ($id: ID!) {
          deleteSegment(id: $id)
        }
      `,
      {
        id: wrapper.data.createSegment.id,
      },
    );
    expect(deleted).toEqual({ data: { deleteSegment: true } });
    expect(await segmentsOf('shopper-1')).toEqual(['Berlin']);
    await waitFor(
      async () => eventsFor('shopper-1').filter((e) => e.endsWith('(deleted)')),
      (e) => e.length === 1,
    );
    const listed = await graphql(`
      {
        segments(first: 10) {
          totalCount
          edges {
            node {
              name
            }
          }
        }
      }
    `);
    expect(listed.data.segments.totalCount).toBe(2);
    const gone = await graphql(
      `
        mutation ($id: ID!) {
          deleteSegment(id: $id)
        }
      `,
      {
        id: wrapper.data.createSegment.id,
      },
    );
    expect(gone.errors?.[0].extensions.code).toBe('NOT_FOUND');
  });

  it('email engagement and predictions from the other services feed email and prediction rules', async () => {
    const opened = await graphql(CREATE, {
      input: {
        name: 'Opened campaign c-1',
        definition: { email: 'opened', campaignId: CAMPAIGN_C1, withinDays: 30 },
      },
    });
    const churn = await graphql(CREATE, {
      input: {
        name: 'Churn risk',
        definition: { prediction: 'churnRisk', op: 'gt', value: 0.7 },
      },
    });
    expect([opened.errors, churn.errors]).toEqual([undefined, undefined]);
    const bus = stack.subgraphs.segments.bus!;
    await bus.publish([
      {
        id: 'email-open-1',
        subject: 'marketing.email',
        data: {
          type: 'email.opened',
          customerId: 'shopper-1',
          campaignId: CAMPAIGN_C1,
          deliveryId: '00000000-0000-4000-8000-0000000000d1',
          occurredAt: minutesAgo(1),
        },
      },
      // Malformed: dead-lettered with its reason, the rest flows.
      { id: 'email-bad-1', subject: 'marketing.email', data: { type: 'email.opened' } },
      {
        id: 'prediction-1',
        subject: 'marketing.predictions',
        data: {
          type: 'prediction.updated',
          customerId: 'shopper-1',
          probabilityAlive: 0.2,
          churnRisk: 0.8,
          expectedPurchases90d: 0.1,
          predictedClv365d: 12.5,
          predictedAt: minutesAgo(1),
        },
      },
    ]);
    expect(
      await waitFor(
        () => segmentsOf('shopper-1'),
        (s) => s?.length === 3,
      ),
    ).toEqual(['Berlin', 'Churn risk', 'Opened campaign c-1']);
    const letters = await waitFor(
      () => bus.deadLetters('segments.email-engagement'),
      (l) => l.length === 1,
    );
    expect(letters[0]).toMatchObject({
      id: 'email-bad-1',
      reason: expect.stringMatching(/customerId/),
    });
  });

  it('shows segment entries and exits in the customer journey', async () => {
    const journey = await waitFor(
      () =>
        graphql(`
          {
            customers(query: "shopper-1", first: 1) {
              edges {
                node {
                  journey(first: 50) {
                    type
                    properties
                  }
                }
              }
            }
          }
        `),
      (r) =>
        (r.data?.customers.edges[0]?.node.journey ?? []).some(
          (e: { type: string }) => e.type === 'segment.exited',
        ),
    );
    const segmentEvents = journey.data.customers.edges[0].node.journey
      .filter((e: { type: string }) => e.type.startsWith('segment.'))
      .map(
        (e: { type: string; properties: { segmentName: string } }) =>
          `${e.type} ${e.properties.segmentName}`,
      );
    expect(segmentEvents).toContain('segment.entered Checked out twice this week');
    expect(segmentEvents).toContain('segment.exited Checked out three times this week');
  });

  it('publishes the grammar as JSON Schema', async () => {
    const schema = await graphql(
      `
        {
          segmentDefinitionSchema
        }
      `,
      {},
      tokens.viewer,
    );
    expect(schema.data.segmentDefinitionSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { node: { oneOf: expect.any(Array) } },
    });
  });
});
