/**
 * An automation end to end through the gateway: a marketer starts from the abandoned-checkout
 * blueprint's shape without the wait (so real time suffices), an ingested `Checkout Started`
 * enrols the customer, the step job asks the email service to send, and the message arriving over
 * real SMTP carries the checkout's products (the template reads `event`). The enrolment shows on
 * `Customer.campaignEnrollments`; a bad workflow is refused with a path; the grammar is published.
 * The waits themselves are tested with pg-boss's TestClock in subgraphs/campaigns.
 */
import {
  createTestDatabase,
  startSmtpSink,
  waitFor,
  type SmtpSink,
  type TestDatabase,
} from '@marketing/platform/testing';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let sink: SmtpSink;
let stack: RunningStack;
let marketer: string;

const timers = new Map<unknown, string>();
const realSetTimeout = globalThis.setTimeout;
(globalThis as any).setTimeout = (fn: any, ms: number, ...rest: any[]) => {
  const t = realSetTimeout(fn, ms, ...rest);
  if (ms >= 20_000)
    timers.set(t, `${ms} ${new Error().stack?.split('\n').slice(2, 7).join(' | ')}`);
  return t;
};
beforeAll(async () => {
  db = await createTestDatabase('automations_e2e');
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
  const t = Date.now();
  await stack?.close();
  console.log('close took', Date.now() - t);
  await sink?.close();
  await db?.drop();
  await new Promise((r) => setTimeout(r, 2000));
  console.log(process.getActiveResourcesInfo(), [...timers.values()]);
  console.log(
    (process as any)
      ._getActiveHandles()
      .map(
        (h: any) =>
          `${h.constructor.name} ${h._idleTimeout ?? ''} ${h.remotePort ?? ''} ${h.localPort ?? ''}`,
      ),
  );
});

const graphql = (query: string, variables: Record<string, unknown> = {}) =>
  stack.graphql(marketer, query, variables);

describe('an automation from event to inbox', () => {
  it('enrols on the trigger event and sends the email with the event in it', async () => {
    const now = new Date().toISOString();
    await stack.ingest('/v1/identify', {
      userId: 'shopper-1',
      traits: { email: 'shopper-1@mail.example', firstName: 'Ada', emailConsent: true },
      timestamp: now,
    });
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
          name: 'Cart reminder',
          subject: 'You left {{ event.properties.products[0].name }} behind',
          html: '<p>Hi {{ customer.firstName | default: "there" }}, your {{ event.properties.products[0].name }} is waiting.</p>',
        },
      },
    );
    const templateId = template.data.createEmailTemplate.id;

    const CREATE = `mutation ($i: CampaignInput!) { createCampaign(input: $i) { id status kind trigger steps } }`;
    const input = (steps: unknown) => ({
      name: 'Checkout follow-up',
      kind: 'AUTOMATION',
      variants: [],
      topic: 'cart',
      trigger: {
        on: {
          type: 'event',
          event: 'Checkout Started',
          where: [{ property: 'total', op: 'gt', value: 0 }],
        },
        exitOn: [{ event: 'Order Completed' }],
      },
      steps,
    });
    // The Campaign Manager learns the template's version from the bus.
    const created = await waitFor(
      () => graphql(CREATE, { i: input([{ id: 'remind', type: 'sendEmail', templateId }]) }),
      (r) => r.data?.createCampaign !== undefined,
    );
    expect(created.data.createCampaign).toMatchObject({ status: 'DRAFT', kind: 'AUTOMATION' });
    const bad = await graphql(CREATE, {
      i: input([
        { id: 'a', type: 'sendEmail', templateId },
        { id: 'b', type: 'split', branches: [{ weight: 0.3 }, { weight: 0.3 }] },
      ]),
    });
    expect(bad.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'input.steps[1].branches',
    });
    const campaignId = created.data.createCampaign.id;
    const launched = await graphql(
      `
        mutation ($id: ID!) {
          launchCampaign(id: $id) {
            status
          }
        }
      `,
      { id: campaignId },
    );
    expect(launched.data.launchCampaign.status).toBe('RUNNING');

    const ingested = await stack.ingest('/v1/track', {
      userId: 'shopper-1',
      event: 'Checkout Started',
      properties: { total: 89, products: [{ name: 'Rain jacket', price: 89 }] },
      timestamp: new Date().toISOString(),
    });
    expect(ingested.status).toBe(200);

    const messages = await waitFor(
      async () => sink.received.filter((m) => m.to.includes('shopper-1@mail.example')),
      (m) => m.length > 0,
      30_000,
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]!.subject).toBe('You left Rain jacket behind');
    expect(messages[0]!.html).toContain('Hi Ada, your Rain jacket is waiting.');

    // Through marketing's search: `customer(id)` belongs to the e-commerce graph, which does not
    // know this shopper.
    const enrollments = await waitFor(
      async () =>
        (
          await graphql(`
            query {
              customers(query: "shopper-1", first: 1) {
                edges {
                  node {
                    campaignEnrollments {
                      campaign {
                        id
                        name
                      }
                      status
                      currentStep
                      exitReason
                    }
                  }
                }
              }
            }
          `)
        ).data?.customers.edges[0]?.node.campaignEnrollments,
      (e) => e?.[0]?.status === 'COMPLETED',
    );
    expect(enrollments).toEqual([
      {
        campaign: { id: campaignId, name: 'Checkout follow-up' },
        status: 'COMPLETED',
        currentStep: 'remind',
        exitReason: null,
      },
    ]);
  }, 60_000);

  it('publishes the grammar and the blueprints', async () => {
    const result = await graphql(`
      query {
        automationGrammar
        automationBlueprints {
          key
          needsSegment
          templateRoles
        }
      }
    `);
    expect(Object.keys(result.data.automationGrammar)).toEqual(['trigger', 'steps']);
    // An id that cannot be one reads as nothing, not as a server error.
    const odd = await graphql(`
      query {
        campaign(id: "not-a-uuid") {
          id
        }
      }
    `);
    expect(odd).toEqual({ data: { campaign: null } });
    expect(result.data.automationBlueprints.map((b: { key: string }) => b.key)).toEqual([
      'abandoned-checkout',
      'welcome-series',
      'post-purchase-cross-sell',
      'win-back',
    ]);
  });
});
