/**
 * GDPR erasure end to end: a customer known everywhere (profile, events, orders at the shop,
 * segment membership, a broadcast's enrolment and delivery, an open, predictions) is erased by an
 * admin; every service and the event log report completion to an audit without personal data; no
 * table of any schema then holds the customer's id, email or names; a bystander is untouched; and
 * the address, identified again under another id, is never mailed (hashed suppression).
 */
import { randomBytes } from 'node:crypto';
import { refitPredictions } from '@marketing/analytics';
import { createLogger } from '@marketing/platform';
import {
  createTestDatabase,
  startSmtpSink,
  waitFor,
  type SmtpSink,
  type TestDatabase,
} from '@marketing/platform/testing';
import pg from 'pg';
import { startStack, type RunningStack } from './stack.js';

const PUBLIC = 'http://public.example';
const tag = randomBytes(5).toString('hex');
const SUBJECT = {
  id: `erase-me-${tag}`,
  email: `zelda.${tag}@mail.example`,
  firstName: `Zeldaqx${tag}`,
  lastName: `Quoxotl${tag}`,
};
const BYSTANDER = { id: `keep-me-${tag}`, email: `bob.${tag}@mail.example` };

let db: TestDatabase;
let sink: SmtpSink;
let stack: RunningStack;
let admin: string;
let ordersIngested = 0;

beforeAll(async () => {
  db = await createTestDatabase('erasure_e2e');
  sink = await startSmtpSink();
  stack = await startStack({
    databaseUrl: db.url,
    busBackoffMs: '50,100',
    env: { SMTP_URL: sink.url, PUBLIC_URL: PUBLIC, MAIL_FROM: 'news@shop.example' },
  });
  admin = await stack.token(['admin'], 'admin-7');
});
afterAll(async () => {
  await stack?.close();
  await sink?.close();
  await db?.drop();
});

async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function graphql(query: string, variables: Record<string, unknown> = {}, token = admin) {
  const result = await stack.graphql(token, query, variables);
  return result;
}

/** Every row of every table outside PostgreSQL's own schemas whose text contains a needle. */
async function findEverywhere(needles: string[]): Promise<string[]> {
  const tables = await sql<{ schema: string; name: string }>(
    `select table_schema as schema, table_name as name from information_schema.tables
     where table_type = 'BASE TABLE'
       and table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg_%'
     order by 1, 2`,
  );
  const patterns = needles.map((n) => `%${n.toLowerCase()}%`);
  const hits: string[] = [];
  for (const t of tables) {
    const [row] = await sql<{ n: number }>(
      `select count(*)::int as n from "${t.schema}"."${t.name}" r where lower(r::text) like any($1::text[])`,
      [patterns],
    );
    if (row!.n > 0) hits.push(`${t.schema}.${t.name}`);
  }
  return hits;
}

/**
 * Order histories drawn from the BG/NBD story (as the predictions test does), seeded: enough
 * customers for a fit, the subject among them.
 */
function orderHistory(now: number): Record<string, unknown>[] {
  let seed = 11;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return (seed + 0.5) / 2 ** 31;
  };
  const batch: Record<string, unknown>[] = [];
  for (let c = 0; c < 120; c++) {
    const userId = c === 0 ? SUBJECT.id : `filler-${c}-${tag}`;
    const rate = (-Math.log(random()) - Math.log(random())) / 40;
    const dropout = 1 - Math.cbrt(random());
    const spend = 20 + random() * 80;
    let day = -300 + random() * 100;
    for (let i = 0; day < 0 && i < 40; i++) {
      batch.push({
        type: 'track',
        userId,
        event: 'Order Completed',
        timestamp: new Date(now + day * 86_400_000).toISOString(),
        properties: { order_id: `o-${c}-${i}-${tag}`, total: Math.round(spend * (0.5 + random())) },
      });
      if (c > 0 && random() < dropout) break;
      day += c === 0 ? 30 : -Math.log(random()) / rate;
    }
  }
  return batch;
}

const NEEDLES = [SUBJECT.id, SUBJECT.email, SUBJECT.firstName, SUBJECT.lastName];

const ERASURE_REQUESTS = `query ($c: ID!) {
  erasureRequests(customerId: $c) { id requestedBy requestedAt completedAt pending completed { service completedAt } }
}`;

async function erase(customerId: string, token = admin) {
  return graphql(
    `
      mutation ($c: ID!) {
        eraseCustomer(customerId: $c)
      }
    `,
    { c: customerId },
    token,
  );
}

async function waitForErasure(customerId: string) {
  const result = await waitFor(
    () => graphql(ERASURE_REQUESTS, { c: customerId }),
    (r) => r.data?.erasureRequests[0]?.completedAt != null,
    30_000,
  );
  return result.data.erasureRequests[0];
}

describe('GDPR erasure of a customer', () => {
  it('starts from a customer known to every service', async () => {
    // At the shop (the reference e-commerce graph), with an order.
    await sql(
      `insert into ecommerce.product (id, sku, name, category, price, created_at)
       values ($1, $1, 'Red shoes', 'shoes', 59.90, now())`,
      [`prod-${tag}`],
    );
    const created = await graphql(
      `
        mutation ($i: CustomerInput!) {
          createCustomer(input: $i) {
            id
          }
        }
      `,
      { i: { id: SUBJECT.id, email: SUBJECT.email, firstName: SUBJECT.firstName, country: 'DE' } },
    );
    expect(created.errors).toBeUndefined();
    const ordered = await graphql(
      `
        mutation ($i: PlaceOrderInput!) {
          placeOrder(input: $i) {
            id
          }
        }
      `,
      { i: { customerId: SUBJECT.id, lines: [{ productId: `prod-${tag}`, quantity: 1 }] } },
    );
    expect(ordered.errors).toBeUndefined();
    // Through ingestion: traits with consent, behaviour, repeat orders; customers enough to fit.
    const now = Date.now();
    const at = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
    const batch: Record<string, unknown>[] = [
      {
        type: 'identify',
        userId: SUBJECT.id,
        traits: { ...SUBJECT, id: undefined, country: 'DE', emailConsent: true },
        timestamp: at(0),
      },
      {
        type: 'identify',
        userId: BYSTANDER.id,
        traits: { email: BYSTANDER.email, country: 'DE', emailConsent: true },
        timestamp: at(0),
      },
      {
        type: 'track',
        userId: SUBJECT.id,
        event: 'Product Viewed',
        properties: { name: 'Red shoes', viewer: SUBJECT.email },
        timestamp: at(1),
      },
    ];
    const orders = orderHistory(now);
    ordersIngested = orders.length + 1; // and the order placed at the shop
    batch.push(...orders);
    for (let i = 0; i < batch.length; i += 400) {
      expect((await stack.ingest('/v1/batch', { batch: batch.slice(i, i + 400) })).status).toBe(
        200,
      );
    }

    // A segment, and a broadcast to it that reaches the inbox.
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
    const segmentId = segment.data.createSegment.id;
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
          subject: 'News for {{ customer.firstName | default: "you" }}',
          html: '<p>Hello {{ customer.firstName }}, <a href="https://shop.example/new">new in</a></p>',
        },
      },
    );
    const templateId = template.data.createEmailTemplate.id;
    const campaign = await waitFor(
      () =>
        graphql(
          `
            mutation ($i: CampaignInput!) {
              createCampaign(input: $i) {
                id
              }
            }
          `,
          {
            i: {
              name: 'News',
              kind: 'BROADCAST',
              segmentId,
              topic: 'newsletter',
              variants: [{ name: 'A', weight: 1, templateId }],
            },
          },
        ),
      (r) => r.data?.createCampaign !== undefined,
    );
    const campaignId = campaign.data.createCampaign.id;
    await waitFor(
      () =>
        sql<{ n: number }>(
          `select count(*)::int as n from campaigns.segment_member where segment_id = $1 and member`,
          [segmentId],
        ),
      (r) => r[0]!.n === 2,
    );
    const launched = await graphql(
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
    expect(launched.errors).toBeUndefined();
    await waitFor(
      () => Promise.resolve(sink.received.filter((m) => m.to.includes(SUBJECT.email))),
      (mails) => mails.length === 1,
    );
    const html = String(sink.received.find((m) => m.to.includes(SUBJECT.email))!.html);
    expect(html).toContain(`Hello ${SUBJECT.firstName}`);
    const pixel = /src="([^"]*\/t\/o\/[^"]+)"/.exec(html)![1]!.replace(PUBLIC, stack.origin);
    expect((await fetch(pixel)).status).toBe(200);

    // Predictions, fitted on the orders and published to segments.
    await waitFor(
      () =>
        sql<{ n: number }>(
          `select count(*)::int as n from analytics.touchpoint where type = 'Order Completed'`,
        ),
      (r) => r[0]!.n === ordersIngested,
    );
    // Null while the service's own scheduled refit holds the lock: try again.
    await waitFor(
      () => refitPredictions(stack.subgraphs.analytics.orm, createLogger('test', 'silent')),
      (fitted) => fitted !== null,
    );
    await waitFor(
      () =>
        sql(
          `select 1 from segments.customer_prediction p join segments.email_engagement e using (customer_id)
           where customer_id = $1`,
          [SUBJECT.id],
        ),
      (rows) => rows.length > 0,
    );
    // The check below can fail: the customer is in every service, the shop and the event log.
    const before = await findEverywhere(NEEDLES);
    expect(before).toEqual(
      expect.arrayContaining([
        'analytics.customer_rfm',
        'analytics.delivery_fact',
        'analytics.touchpoint',
        'bus.event_log',
        'campaigns.campaign_enrollment',
        'campaigns.segment_member',
        'ecommerce.customer',
        'ecommerce.order',
        'email.email_consent',
        'email.email_delivery',
        'email.email_recipient',
        'segments.customer_event',
        'segments.customer_order',
        'segments.customer_prediction',
        'segments.customer_profile',
        'segments.email_engagement',
        'segments.segment_membership',
      ]),
    );
  }, 120_000);

  it('refuses anyone but an admin', async () => {
    for (const role of ['marketer', 'analyst'] as const) {
      const token = await stack.token([role], `${role}-1`);
      const refused = await erase(SUBJECT.id, token);
      expect(refused.errors?.[0].extensions.code).toBe('FORBIDDEN');
      const audit = await graphql(ERASURE_REQUESTS, { c: SUBJECT.id }, token);
      expect(audit.errors?.[0].extensions.code).toBe('FORBIDDEN');
    }
    expect((await graphql(ERASURE_REQUESTS, { c: SUBJECT.id })).data.erasureRequests).toEqual([]);
  });

  it('erases the customer from every table of every schema and audits each service', async () => {
    const asked = await erase(SUBJECT.id);
    expect(asked).toEqual({ data: { eraseCustomer: true } });
    const request = await waitForErasure(SUBJECT.id);
    expect(request).toMatchObject({ requestedBy: 'admin-7', pending: [] });
    expect(request.completed.map((c: { service: string }) => c.service).sort()).toEqual(
      ['analytics', 'campaigns', 'ecommerce', 'email', 'event-log', 'segments'].sort(),
    );
    expect(await findEverywhere(NEEDLES)).toEqual([]);
    // The shop keeps the order for its books, tied to nobody.
    expect(
      await sql(
        `select c.email like '%@erased.invalid' as anonymous, c.first_name from ecommerce."order" o
         join ecommerce.customer c on c.id = o.customer_id`,
      ),
    ).toEqual([{ anonymous: true, first_name: null }]);
    // The bystander is untouched, and only the hash of the address stays.
    expect(await findEverywhere([BYSTANDER.id])).toEqual(
      expect.arrayContaining(['email.email_recipient', 'segments.customer_profile']),
    );
    expect(
      await sql(`select reason, customer_id from email.suppression where reason = 'ERASED'`),
    ).toEqual([{ reason: 'ERASED', customer_id: null }]);
  });

  it('never mails the address again, even identified anew under another id', async () => {
    const again = `again-${tag}`;
    const ingested = await stack.ingest('/v1/identify', {
      userId: again,
      traits: { email: ` ${SUBJECT.email.toUpperCase()}`, emailConsent: true },
      timestamp: new Date().toISOString(),
    });
    expect(ingested.status).toBe(200);
    await waitFor(
      () => sql(`select 1 from email.email_consent where customer_id = $1 and subscribed`, [again]),
      (rows) => rows.length === 1,
    );
    const template = await sql<{ id: string }>(`select id from email.email_template limit 1`);
    await stack.subgraphs.email.bus!.publish([
      {
        id: `send-again-${tag}`,
        subject: 'marketing.sends',
        data: {
          type: 'email.send.requested',
          dedupeKey: `again:${again}`,
          customerId: again,
          templateId: template[0]!.id,
          requestedAt: new Date().toISOString(),
        },
      },
    ]);
    const [delivery] = await waitFor(
      () =>
        sql<{ status: string; error: string }>(
          `select status, error from email.email_delivery where customer_id = $1`,
          [again],
        ),
      (rows) => rows.length === 1 && rows[0]!.status !== 'QUEUED',
    );
    expect(delivery).toEqual({ status: 'SUPPRESSED', error: 'address suppressed (ERASED)' });
    expect(sink.received.filter((m) => m.to.includes(SUBJECT.email))).toHaveLength(1);
  });

  it('completes for a customer nobody knows, and again for one already erased', async () => {
    const nobody = `nobody-${tag}`;
    expect(await erase(nobody)).toEqual({ data: { eraseCustomer: true } });
    expect((await waitForErasure(nobody)).pending).toEqual([]);
    expect(await erase(SUBJECT.id)).toEqual({ data: { eraseCustomer: true } });
    const requests = await waitFor(
      () => graphql(ERASURE_REQUESTS, { c: SUBJECT.id }),
      (r) => r.data?.erasureRequests.every((e: { completedAt: unknown }) => e.completedAt),
      30_000,
    );
    expect(requests.data.erasureRequests).toHaveLength(2);
    expect(await findEverywhere([nobody, SUBJECT.id])).toEqual([]);
    const blank = await erase('  ');
    expect(blank.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'customerId',
    });
  }, 120_000);
});
