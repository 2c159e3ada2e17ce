/**
 * A broadcast end to end: ingested customers fall into a segment, the Campaign Manager learns the
 * membership and the template version from the bus, launching snapshots the audience and the
 * email service delivers one message per eligible member over real SMTP. The lifecycle refuses
 * invalid transitions with CONFLICT and keeps an audit trail.
 */
import {
  createTestDatabase,
  startSmtpSink,
  waitFor,
  type SmtpSink,
  type TestDatabase,
} from '@marketing/platform/testing';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let sink: SmtpSink;
let stack: RunningStack;
let marketer: string;

beforeAll(async () => {
  db = await createTestDatabase('campaigns_e2e');
  sink = await startSmtpSink();
  stack = await startStack({
    databaseUrl: db.url,
    busBackoffMs: '50,100',
    env: {
      SMTP_URL: sink.url,
      PUBLIC_URL: 'http://public.example',
      MAIL_FROM: 'news@shop.example',
    },
  });
  marketer = await stack.token(['marketer'], 'marketer-1');
});
afterAll(async () => {
  await stack?.close();
  await sink?.close();
  await db?.drop();
});

async function graphql(query: string, variables: Record<string, unknown> = {}) {
  return stack.graphql(marketer, query, variables);
}

async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const CAMPAIGN_FIELDS = 'id status launchedAt completedAt variants { id name weight }';

describe('a broadcast from segment to inbox', () => {
  let segmentId: string;
  let templateId: string;
  let campaignId: string;

  it('creates the audience, the template and a draft broadcast', async () => {
    const batch = [
      ['de1', { email: 'de1@mail.example', country: 'DE', emailConsent: true }],
      ['de2', { email: 'de2@mail.example', country: 'DE', emailConsent: true }],
      ['de3', { email: 'de3@mail.example', country: 'DE', emailConsent: false }],
      ['fr1', { email: 'fr1@mail.example', country: 'FR', emailConsent: true }],
    ].map(([userId, traits]) => ({
      type: 'identify',
      userId,
      traits,
      timestamp: new Date().toISOString(),
    }));
    const ingested = await stack.ingest('/v1/batch', { batch });
    expect(ingested.status).toBe(200);
    const segment = await graphql(
      `
        mutation ($i: SegmentInput!) {
          createSegment(input: $i) {
            id
          }
        }
      `,
      { i: { name: 'Germany', definition: { attribute: 'country', op: 'eq', value: 'DE' } } },
    );
    segmentId = segment.data.createSegment.id;
    const template = await graphql(
      `
        mutation ($i: EmailTemplateInput!) {
          createEmailTemplate(input: $i) {
            id
          }
        }
      `,
      {
        i: {
          name: 'News',
          subject: 'News for you',
          html: '<p>Hello {{ customer.email }}, <a href="https://shop.example/new">new in</a></p>',
        },
      },
    );
    templateId = template.data.createEmailTemplate.id;

    const input = (overrides: Record<string, unknown> = {}) => ({
      name: 'November news',
      kind: 'BROADCAST',
      segmentId,
      topic: 'newsletter',
      variants: [
        { name: 'A', weight: 1, templateId },
        { name: 'B', weight: 1, templateId },
      ],
      ...overrides,
    });
    const CREATE = `mutation ($i: CampaignInput!) { createCampaign(input: $i) { ${CAMPAIGN_FIELDS} } }`;
    const unknownTemplate = await graphql(CREATE, {
      i: input({
        variants: [{ name: 'A', weight: 1, templateId: '00000000-0000-4000-8000-000000000000' }],
      }),
    });
    expect(unknownTemplate.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'input.variants[0].templateId',
    });
    const badWeight = await graphql(CREATE, {
      i: input({ variants: [{ name: 'A', weight: 0, templateId }] }),
    });
    expect(badWeight.errors?.[0].extensions.path).toBe('input.variants[0].weight');
    // The Campaign Manager learns the template's version from the bus.
    const created = await waitFor(
      () => graphql(CREATE, { i: input() }),
      (r) => r.data?.createCampaign !== undefined,
    );
    expect(created.data.createCampaign).toMatchObject({
      status: 'DRAFT',
      launchedAt: null,
      variants: [
        { name: 'A', weight: 1 },
        { name: 'B', weight: 1 },
      ],
    });
    campaignId = created.data.createCampaign.id;
    expect(
      await sql(`select template_version from campaigns.campaign_variant where campaign_id = $1`, [
        campaignId,
      ]),
    ).toEqual([{ template_version: 1 }, { template_version: 1 }]);
  });

  it('refuses transitions the lifecycle does not allow, naming the current state', async () => {
    const paused = await graphql(
      `
        mutation ($id: ID!) {
          pauseCampaign(id: $id) {
            id
          }
        }
      `,
      {
        id: campaignId,
      },
    );
    expect(paused.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status: 'DRAFT' });
    expect(paused.errors?.[0].message).toMatch(/cannot pause a campaign that is DRAFT/);
    const past = await graphql(
      `
        mutation ($id: ID!, $at: DateTime!) {
          scheduleCampaign(id: $id, at: $at) {
            id
          }
        }
      `,
      { id: campaignId, at: '2020-01-01T00:00:00Z' },
    );
    expect(past.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'at' });
  });

  it('launching sends one message to each eligible member, then completes', async () => {
    await waitFor(
      () =>
        sql<{ n: number }>(
          `select count(*)::int as n from campaigns.segment_member where segment_id = $1 and member`,
          [segmentId],
        ),
      (r) => r[0]!.n === 3,
    );
    const launched = await graphql(
      `mutation ($id: ID!) { launchCampaign(id: $id) { ${CAMPAIGN_FIELDS} } }`,
      { id: campaignId },
    );
    expect(launched.data.launchCampaign.status).toBe('RUNNING');
    const done = await waitFor(
      () =>
        graphql(`query ($id: ID!) { campaign(id: $id) { ${CAMPAIGN_FIELDS} } }`, {
          id: campaignId,
        }),
      (r) => r.data?.campaign.status === 'COMPLETED',
    );
    expect(done.data.campaign.completedAt).not.toBeNull();
    await waitFor(
      () =>
        sql<{ status: string }>(
          `select status from email.email_delivery where campaign_id = $1 order by customer_id`,
          [campaignId],
        ),
      (rows) => rows.length === 3 && rows.every((r) => !['QUEUED', 'SENDING'].includes(r.status)),
    );
    expect(
      await sql(
        `select customer_id, status, error from email.email_delivery where campaign_id = $1 order by customer_id`,
        [campaignId],
      ),
    ).toEqual([
      { customer_id: 'de1', status: 'DELIVERED', error: null },
      { customer_id: 'de2', status: 'DELIVERED', error: null },
      { customer_id: 'de3', status: 'SUPPRESSED', error: 'no marketing consent' },
    ]);
    expect(sink.received.map((m) => m.to[0]).sort()).toEqual([
      'de1@mail.example',
      'de2@mail.example',
    ]);
    // Each recipient got a variant of this campaign, the same one the email service recorded.
    const variants = new Set(
      (launched.data.launchCampaign.variants as { id: string }[]).map((v) => v.id),
    );
    const assigned = await sql<{ customer_id: string; variant_id: string; sent: string }>(
      `select e.customer_id, e.variant_id, d.variant_id as sent from campaigns.campaign_enrollment e
       join email.email_delivery d on d.campaign_id = e.campaign_id and d.customer_id = e.customer_id
       where e.campaign_id = $1`,
      [campaignId],
    );
    expect(assigned).toHaveLength(3);
    for (const a of assigned) {
      expect(variants.has(a.variant_id)).toBe(true);
      expect(a.sent).toBe(a.variant_id);
    }
    const enrollments = await graphql(`
      {
        customers(query: "de1", first: 1) {
          edges {
            node {
              campaignEnrollments {
                status
                campaign {
                  id
                }
              }
            }
          }
        }
      }
    `);
    expect(enrollments.data.customers.edges[0].node.campaignEnrollments).toEqual([
      { status: 'COMPLETED', campaign: { id: campaignId } },
    ]);
  });

  it('counts the campaign from the bus: deliveries, opens, clicks and the order they led to', async () => {
    // A dashboard subscribes through the gateway; the campaign's name and status come from the
    // campaigns subgraph, the counts from analytics.
    const client = createClient({
      url: stack.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${marketer}` },
    });
    const subscriptionErrors: unknown[] = [];
    const live: {
      uniqueOpens: number;
      conversions: number;
      campaign: { name: string; status: string };
    }[] = [];
    const unsubscribe = client.subscribe(
      {
        query: `subscription ($id: ID!) { campaignStatsUpdated(campaignId: $id) { uniqueOpens conversions campaign { name status } } }`,
        variables: { id: campaignId },
      },
      {
        next: (event) => {
          live.push((event.data as any).campaignStatsUpdated);
        },
        error: (error) => {
          subscriptionErrors.push(error);
        },
        complete: () => {},
      },
    );
    await waitFor(
      async () => live.length,
      (n) => n >= 1,
    );
    expect(live[0]).toEqual({
      uniqueOpens: 0,
      conversions: 0,
      campaign: { name: 'November news', status: 'COMPLETED' },
    });
    // A second dashboard with the same subscription shares the upstream and gets the latest state.
    const second = createClient({
      url: stack.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${marketer}` },
    });
    const secondEvents: unknown[] = [];
    const unsubscribeSecond = second.subscribe(
      {
        query: `subscription ($id: ID!) { campaignStatsUpdated(campaignId: $id) { uniqueOpens conversions campaign { name status } } }`,
        variables: { id: campaignId },
      },
      { next: (e) => secondEvents.push(e.data), error: () => {}, complete: () => {} },
    );
    await waitFor(
      async () => secondEvents.length,
      (n) => n >= 1,
    );
    expect(stack.gateway.liveUpstreams()).toBe(1);
    unsubscribeSecond();
    await second.dispose();
    const mail = sink.received.find((m) => m.to[0] === 'de1@mail.example')!;
    const html = String(mail.html);
    const local = (url: string) => url.replace('http://public.example', stack.origin);
    const click = local(/href="([^"]*\/t\/c\/[^"]+)"/.exec(html)![1]!);
    const pixel = local(/src="([^"]*\/t\/o\/[^"]+)"/.exec(html)![1]!);
    await fetch(pixel);
    await fetch(pixel);
    expect((await fetch(click, { redirect: 'manual' })).status).toBe(302);
    const order = {
      type: 'track',
      userId: 'de1',
      messageId: 'order-de1-1',
      event: 'Order Completed',
      timestamp: new Date(Date.now() + 1_000).toISOString(),
      properties: { order_id: 'o-de1-1', total: 120.5 },
    };
    for (let i = 0; i < 2; i++) {
      // The same order twice: counted once.
      await stack.ingest('/v1/track', order);
    }
    const stats = await waitFor(
      () =>
        graphql(
          `
            query ($id: ID!) {
              campaign(id: $id) {
                stats {
                  recipients
                  sent
                  delivered
                  bounced
                  uniqueOpens
                  uniqueClicks
                  conversions
                  revenue
                  openRate
                  conversionRate
                  variants {
                    sent
                  }
                  timeline(bucket: DAY) {
                    sent
                  }
                }
              }
            }
          `,
          { id: campaignId },
        ),
      (r) => r.data?.campaign.stats.conversions === 1 && r.data.campaign.stats.uniqueClicks === 1,
    );
    const s = stats.data.campaign.stats;
    expect(s).toMatchObject({
      recipients: 2,
      sent: 2,
      delivered: 2,
      bounced: 0,
      uniqueOpens: 1,
      uniqueClicks: 1,
      conversions: 1,
      revenue: 120.5,
      openRate: 0.5,
      conversionRate: 0.5,
    });
    expect(s.variants.reduce((n: number, v: { sent: number }) => n + v.sent, 0)).toBe(2);
    const last = await waitFor(
      async () => live.at(-1)!,
      (e) => e.conversions === 1 && e.uniqueOpens === 1,
    );
    expect(last.campaign).toEqual({ name: 'November news', status: 'COMPLETED' });
    unsubscribe();
    await client.dispose();
    expect(subscriptionErrors).toEqual([]);
    // The last subscriber gone, the upstream subscription closes.
    await waitFor(
      async () => stack.gateway.liveUpstreams(),
      (n) => n === 0,
    );

    // Without a token in connection_init the gateway refuses the connection.
    const anonymous = createClient({
      url: stack.gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const refused = await new Promise<unknown>((resolve) =>
      anonymous.subscribe(
        {
          query: `subscription ($id: ID!) { campaignStatsUpdated(campaignId: $id) { sent } }`,
          variables: { id: campaignId },
        },
        { next: () => resolve('data'), error: resolve, complete: () => resolve('complete') },
      ),
    );
    await anonymous.dispose();
    expect((refused as { code?: number }).code).toBe(4403);
    expect(s.timeline.reduce((n: number, b: { sent: number }) => n + b.sent, 0)).toBe(2);
  });

  it('a completed campaign cannot launch again; archiving ends the trail', async () => {
    const again = await graphql(
      `
        mutation ($id: ID!) {
          launchCampaign(id: $id) {
            id
          }
        }
      `,
      {
        id: campaignId,
      },
    );
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status: 'COMPLETED' });
    const archived = await graphql(
      `
        mutation ($id: ID!) {
          archiveCampaign(id: $id) {
            status
            auditTrail {
              actor
              action
            }
          }
        }
      `,
      { id: campaignId },
    );
    expect(archived.data.archiveCampaign).toEqual({
      status: 'ARCHIVED',
      auditTrail: [
        { actor: 'marketer-1', action: 'create' },
        { actor: 'marketer-1', action: 'launch' },
        { actor: 'system:campaigns', action: 'complete' },
        { actor: 'marketer-1', action: 'archive' },
      ],
    });
    expect(sink.received).toHaveLength(2);
  });
});
