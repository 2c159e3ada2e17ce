/**
 * The Email Campaign Service end to end, over real SMTP to a loopback server: templates with
 * positioned errors, personalised sends from send requests on the bus, at most one message per
 * dedupe key, consent and suppression, RFC 8058 one-click unsubscribe, click and open tracking
 * through the gateway, 4xx retried, 5xx suppressed, a dropped connection, provider webhooks.
 */
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import type { BusMessage, Consumer } from '@marketing/platform';
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
const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789';
/** SendGrid's signed event webhook: our verification key is SendGrid's public key. */
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let db: TestDatabase;
let sink: SmtpSink;
let stack: RunningStack;
let admin: string;
let consumer: Consumer;
const emailEvents: BusMessage<Record<string, unknown>>[] = [];

beforeAll(async () => {
  db = await createTestDatabase('email_e2e');
  sink = await startSmtpSink();
  stack = await startStack({
    databaseUrl: db.url,
    busBackoffMs: '50,100',
    env: {
      SMTP_URL: sink.url,
      PUBLIC_URL: PUBLIC,
      MAIL_FROM: 'Shop <news@shop.example>',
      COMPANY_POSTAL_ADDRESS: 'Shop Ltd, 1 High Street, London',
      EMAIL_RETRY_BACKOFF_MS: '200,400',
      EMAIL_MAX_ATTEMPTS: '3',
      EMAIL_WEBHOOK_SECRET: WEBHOOK_SECRET,
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKeys.publicKey
        .export({ type: 'spki', format: 'der' })
        .toString('base64'),
    },
  });
  admin = await stack.token(['admin'], 'admin-1');
  consumer = await stack.subgraphs.email.bus!.consume<Record<string, unknown>>({
    name: 'test.email-events',
    subjects: ['marketing.email'],
    handle: async (batch) => {
      emailEvents.push(...batch);
    },
  });
});
afterAll(async () => {
  await consumer?.stop();
  await stack?.close();
  await sink?.close();
  await db?.drop();
});

async function graphql(query: string, variables: Record<string, unknown> = {}, token = admin) {
  return stack.graphql(token, query, variables);
}

async function identify(userId: string, traits: Record<string, unknown>) {
  const response = await stack.ingest('/v1/identify', {
    userId,
    traits,
    timestamp: new Date().toISOString(),
  });
  expect(response.status).toBe(200);
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

const deliveryOf = (customerId: string) =>
  sql<{ status: string; error: string | null; attempts: number; message_id: string }>(
    `select status, error, attempts, message_id from email.email_delivery where customer_id = $1 order by queued_at`,
    [customerId],
  );

let requestSeq = 0;
function requestSend(customerId: string, templateId: string, dedupeKey = `test:${customerId}`) {
  return stack.subgraphs.email.bus!.publish([
    {
      id: `send-${++requestSeq}`,
      subject: 'marketing.sends',
      data: {
        type: 'email.send.requested',
        dedupeKey,
        customerId,
        templateId,
        campaignId: '00000000-0000-4000-8000-000000000001',
        topic: 'newsletter',
        event: { products: [{ name: 'Red shoes', price: 59.9 }] },
        requestedAt: new Date().toISOString(),
      },
    },
  ]);
}

const mailTo = (address: string) => sink.received.filter((m) => m.to.includes(address));
const publicToLocal = (url: string) => url.replace(PUBLIC, stack.origin);

const CREATE = `mutation ($input: EmailTemplateInput!) { createEmailTemplate(input: $input) { id version html } }`;
const TEMPLATE = {
  name: 'Abandoned checkout',
  subject: 'Still thinking about it, {{ customer.firstName | default: "there" }}?',
  preheader: 'Your cart is waiting',
  html: `<html><body>
<p>Hi {{ customer.firstName | default: "there" }},</p>
<ul>{% for p in event.products %}<li>{{ p.name }}: {{ p.price }}</li>{% endfor %}</ul>
<p><a href="https://shop.example/cart?utm=mail&amp;x=1">Back to your cart</a></p>
</body></html>`,
};

describe('email through the gateway and real SMTP', () => {
  let templateId: string;

  it('rejects a broken template with the line and column; saves a good one as version 1', async () => {
    const broken = await graphql(CREATE, {
      input: { ...TEMPLATE, html: '<p>Hi</p>\n<p>\n  {% if customer.vip %}VIP\n</p>' },
    });
    expect(broken.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'input.html',
      line: 3,
      column: 3,
    });
    const unknown = await graphql(CREATE, {
      input: { ...TEMPLATE, subject: 'Hi {{ customer.firstName | shout }}' },
    });
    expect(unknown.errors?.[0].extensions).toMatchObject({ path: 'input.subject', line: 1 });
    const created = await graphql(CREATE, { input: TEMPLATE });
    expect(created.errors).toBeUndefined();
    expect(created.data.createEmailTemplate.version).toBe(1);
    templateId = created.data.createEmailTemplate.id;
  });

  it('renders a preview for a real customer from the synced identify traits', async () => {
    await identify('ann', { email: 'ann@mail.example', firstName: 'Ann', emailConsent: true });
    await identify('bob', { email: 'bob@mail.example', emailConsent: true });
    await identify('cat', { email: 'cat@mail.example', firstName: 'Cat', emailConsent: false });
    const rendered = await waitFor(
      () =>
        graphql(
          `
            query ($t: ID!, $c: ID!, $e: JSON) {
              renderEmail(templateId: $t, customerId: $c, event: $e) {
                subject
                html
                text
              }
            }
          `,
          { t: templateId, c: 'ann', e: { products: [{ name: 'Red shoes', price: 59.9 }] } },
        ),
      (r) => r.data?.renderEmail !== undefined,
    );
    expect(rendered.data.renderEmail.subject).toBe('Still thinking about it, Ann?');
    expect(rendered.data.renderEmail.html).toContain('Red shoes: 59.9');
    // Without the sample event the template needs, the preview says what is missing and where.
    const missing = await graphql(
      `
        query ($t: ID!) {
          renderEmail(templateId: $t, customerId: "ann") {
            subject
          }
        }
      `,
      { t: templateId },
    );
    expect(missing.errors?.[0].extensions).toMatchObject({ path: 'input.html', line: 3 });
    expect(rendered.data.renderEmail.text).toContain('Hi Ann,');
    expect(rendered.data.renderEmail.html).toContain('Shop Ltd, 1 High Street, London');
  });

  it('sends each requested message once, personalised, tracked and with RFC 8058 headers', async () => {
    await requestSend('ann', templateId);
    await requestSend('ann', templateId); // the same dedupe key again
    await requestSend('bob', templateId);
    await requestSend('cat', templateId); // no consent
    await waitFor(
      () =>
        sql<{ n: number }>(
          `select count(*)::int as n from email.email_delivery where status in ('QUEUED', 'SENDING')`,
        ),
      (rows) => rows[0]!.n === 0 && sink.received.length >= 2,
    );
    expect(mailTo('ann@mail.example')).toHaveLength(1);
    expect(mailTo('bob@mail.example')).toHaveLength(1);
    expect(mailTo('cat@mail.example')).toHaveLength(0);
    expect(await deliveryOf('cat')).toMatchObject([
      { status: 'SUPPRESSED', error: 'no marketing consent' },
    ]);

    const mail = mailTo('ann@mail.example')[0]!;
    expect(mail.subject).toBe('Still thinking about it, Ann?');
    expect(mail.from).toBe('news@shop.example');
    expect(mail.messageId).toBe((await deliveryOf('ann'))[0]!.message_id);
    const unsubscribe = String(mail.rawHeaders['list-unsubscribe']);
    expect(unsubscribe).toMatch(new RegExp(`^<${PUBLIC}/u/[A-Za-z0-9._-]+>$`));
    expect(mail.rawHeaders['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const html = String(mail.html);
    expect(html).toContain('Red shoes: 59.9');
    expect(html).not.toContain('https://shop.example/cart');
    expect(html).toMatch(new RegExp(`${PUBLIC}/t/c/`));
    expect(html).toMatch(new RegExp(`${PUBLIC}/t/o/`));
    expect(mail.text).toContain('Hi Ann,');
    expect(mailTo('bob@mail.example')[0]!.subject).toBe('Still thinking about it, there?');
    await waitFor(
      async () => emailEvents.filter((e) => e.data.type === 'email.delivered').length,
      (n) => n === 2,
    );
  });

  it('redirects a click to the stored link, counts opens, and answers 404 to a tampered token', async () => {
    const html = String(mailTo('ann@mail.example')[0]!.html);
    const click = publicToLocal(/href="([^"]*\/t\/c\/[^"]+)"/.exec(html)![1]!);
    const pixel = publicToLocal(/src="([^"]*\/t\/o\/[^"]+)"/.exec(html)![1]!);
    const redirected = await fetch(click, { redirect: 'manual' });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('https://shop.example/cart?utm=mail&x=1');
    const token = click.slice(click.lastIndexOf('/') + 1);
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    const tampered = await fetch(click.replace(token, flipped), { redirect: 'manual' });
    expect(tampered.status).toBe(404);
    expect(tampered.headers.get('location')).toBeNull();
    for (let i = 0; i < 2; i++) {
      const image = await fetch(pixel);
      expect(image.headers.get('content-type')).toBe('image/gif');
      expect(image.headers.get('cache-control')).toMatch(/no-store/);
    }
    const deliveries = await graphql(`
      {
        customers(query: "ann", first: 1) {
          edges {
            node {
              emailDeliveries {
                status
                firstOpenedAt
                firstClickedAt
                history {
                  status
                }
              }
            }
          }
        }
      }
    `);
    const [delivery] = deliveries.data.customers.edges[0].node.emailDeliveries;
    expect(delivery.status).toBe('DELIVERED');
    expect(delivery.firstOpenedAt).not.toBeNull();
    expect(delivery.firstClickedAt).not.toBeNull();
    expect(delivery.history.map((h: { status: string }) => h.status)).toEqual([
      'QUEUED',
      'SENT',
      'DELIVERED',
    ]);
    const opens = await waitFor(
      async () => emailEvents.filter((e) => e.data.type === 'email.opened'),
      (e) => e.length === 2,
    );
    expect(opens.map((e) => e.data.unique)).toEqual([true, false]);
  });

  it('one-click unsubscribe: the POST unsubscribes, the GET page never does, the next send skips', async () => {
    const url = publicToLocal(
      String(mailTo('bob@mail.example')[0]!.rawHeaders['list-unsubscribe']).slice(1, -1),
    );
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('You are currently <strong>subscribed to</strong>');
    const prefs = () =>
      graphql(`
        {
          customers(query: "bob", first: 1) {
            edges {
              node {
                emailPreferences {
                  subscribed
                  suppressed
                  suppressionReason
                }
              }
            }
          }
        }
      `).then((r) => r.data.customers.edges[0].node.emailPreferences);
    expect(await prefs()).toEqual({ subscribed: true, suppressed: false, suppressionReason: null });
    const post = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('location')).toBeNull();
    expect(await prefs()).toEqual({
      subscribed: false,
      suppressed: true,
      suppressionReason: 'UNSUBSCRIBED',
    });
    await requestSend('bob', templateId, 'test:bob:second');
    await waitFor(
      () => deliveryOf('bob'),
      (d) => d.length === 2 && d[1]!.status === 'SUPPRESSED',
    );
    expect(mailTo('bob@mail.example')).toHaveLength(1);
    const consent = await sql<{ subscribed: boolean; source: string; actor: string }>(
      `select subscribed, source, actor from email.email_consent_event where customer_id = 'bob' order by at`,
    );
    expect(consent).toEqual([
      { subscribed: true, source: 'ecommerce identify (emailConsent)', actor: 'system:ecommerce' },
      { subscribed: false, source: 'one-click unsubscribe (RFC 8058)', actor: 'customer' },
    ]);
  });

  it('retries a 451 and a dropped connection, delivers once; a 550 bounces and suppresses', async () => {
    await identify('dan', { email: 'dan@mail.example', emailConsent: true });
    await identify('eve', { email: 'eve@mail.example', emailConsent: true });
    await identify('fay', { email: 'fay@mail.example', emailConsent: true });
    await waitFor(
      () =>
        sql<{ n: number }>(
          `select count(*)::int as n from email.email_recipient where customer_id in ('dan', 'eve', 'fay')`,
        ),
      (r) => r[0]!.n === 3,
    );
    sink.failFor('dan@mail.example', '451', 1);
    sink.failFor('eve@mail.example', 'drop', 1);
    sink.failFor('fay@mail.example', '550');
    for (const c of ['dan', 'eve', 'fay']) await requestSend(c, templateId);
    await waitFor(
      async () =>
        [
          ...(await deliveryOf('dan')),
          ...(await deliveryOf('eve')),
          ...(await deliveryOf('fay')),
        ].map((d) => d.status),
      (s) => s.join() === 'DELIVERED,DELIVERED,BOUNCED',
      20_000,
    );
    expect((await deliveryOf('dan'))[0]!.attempts).toBe(2);
    expect((await deliveryOf('eve'))[0]!.attempts).toBe(2);
    expect(mailTo('dan@mail.example')).toHaveLength(1);
    expect(mailTo('eve@mail.example')).toHaveLength(1);
    expect(mailTo('fay@mail.example')).toHaveLength(0);
    const messageIds = sink.received.map((m) => m.messageId);
    expect(new Set(messageIds).size).toBe(messageIds.length);
    const suppressed = await sql<{ reason: string }>(
      `select reason from email.suppression where customer_id = 'fay'`,
    );
    expect(suppressed).toEqual([{ reason: 'HARD_BOUNCE' }]);
  });

  it('provider webhooks: signed, idempotent; a complaint suppresses', async () => {
    const ann = (await deliveryOf('ann'))[0]!;
    const body = JSON.stringify({
      events: [
        {
          id: 'evt-1',
          type: 'complaint',
          email: 'ann@mail.example',
          messageId: ann.message_id,
          occurredAt: new Date().toISOString(),
        },
      ],
    });
    const post = (payload: string, secret = WEBHOOK_SECRET) => {
      const timestamp = String(Math.floor(Date.now() / 1_000));
      const signature = createHmac('sha256', secret)
        .update(`${timestamp}.${payload}`)
        .digest('hex');
      return fetch(`${stack.origin}/webhooks/email/generic`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-webhook-timestamp': timestamp,
          'x-webhook-signature': `sha256=${signature}`,
        },
        body: payload,
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    };
    expect(await post(body, 'wrong-secret-wrong-secret-wrong')).toMatchObject({ status: 401 });
    expect(await post('{"events": [{"id": "x"}]}')).toMatchObject({
      status: 400,
      body: { path: 'body.events[0].type' },
    });
    expect(await post(body)).toEqual({ status: 200, body: { received: 1, applied: 1 } });
    expect(await post(body)).toEqual({ status: 200, body: { received: 1, applied: 0 } });
    expect((await deliveryOf('ann'))[0]!.status).toBe('COMPLAINED');
    expect(await sql(`select reason from email.suppression where customer_id = 'ann'`)).toEqual([
      { reason: 'COMPLAINT' },
    ]);
    const unknown = await fetch(`${stack.origin}/webhooks/email/mailchimp`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    // SES is not configured here (no SES_TOPIC_ARNS): nothing is accepted from it.
    expect(
      (await fetch(`${stack.origin}/webhooks/email/ses`, { method: 'POST', body: '{}' })).status,
    ).toBe(404);

    // SendGrid: a hard bounce for dan's delivered message, signed with SendGrid's key.
    const dan = (await deliveryOf('dan'))[0]!;
    const sendgridBody = JSON.stringify([
      {
        event: 'bounce',
        type: 'bounce',
        sg_event_id: 'sg-evt-1',
        sg_message_id: 'sg-msg-1',
        email: 'dan@mail.example',
        timestamp: Math.floor(Date.now() / 1_000),
        'smtp-id': dan.message_id,
        reason: '550 5.1.1 mailbox does not exist',
      },
    ]);
    const sendgrid = (body: string, key = sendgridKeys.privateKey) => {
      const timestamp = String(Math.floor(Date.now() / 1_000));
      const signature = createSign('sha256').update(timestamp).update(body).sign(key, 'base64');
      return fetch(`${stack.origin}/webhooks/email/sendgrid`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': signature,
          'x-twilio-email-event-webhook-timestamp': timestamp,
        },
        body,
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    };
    const forged = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect((await sendgrid(sendgridBody, forged)).status).toBe(401);
    expect(await sendgrid(sendgridBody)).toEqual({
      status: 200,
      body: { received: 1, applied: 1 },
    });
    expect((await deliveryOf('dan'))[0]!.status).toBe('BOUNCED');
    expect(await sql(`select reason from email.suppression where customer_id = 'dan'`)).toEqual([
      { reason: 'HARD_BOUNCE' },
    ]);
  });

  it("an admin changes preferences on a customer's behalf, with the source recorded", async () => {
    const changed = await graphql(
      `
        mutation ($c: ID!, $i: EmailPreferencesInput!) {
          updateEmailPreferences(customerId: $c, input: $i) {
            subscribed
            topics {
              topic
              subscribed
            }
          }
        }
      `,
      {
        c: 'cat',
        i: {
          subscribed: true,
          topics: [{ topic: 'newsletter', subscribed: false }],
          source: 'support ticket 42',
        },
      },
    );
    expect(changed).toEqual({
      data: {
        updateEmailPreferences: {
          subscribed: true,
          topics: [{ topic: 'newsletter', subscribed: false }],
        },
      },
    });
    const marketer = await stack.token(['marketer'], 'marketer-1');
    const forbidden = await graphql(
      `
        mutation {
          updateEmailPreferences(customerId: "cat", input: { subscribed: true, source: "x" }) {
            subscribed
          }
        }
      `,
      {},
      marketer,
    );
    expect(forbidden.errors?.[0].extensions.code).toBe('FORBIDDEN');
    // Subscribed again, but not to the campaign's topic: still skipped.
    await requestSend('cat', templateId, 'test:cat:second');
    await waitFor(
      () => deliveryOf('cat'),
      (d) => d.length === 2 && d[1]!.status === 'SUPPRESSED',
    );
    expect((await deliveryOf('cat'))[1]!.error).toBe('unsubscribed from topic newsletter');
  });
});
