/**
 * The sender on real PostgreSQL and real SMTP: two senders working the same ledger never send a
 * message twice; a template that fails for a recipient fails that row only; DKIM signs when
 * configured; the rate limiter holds back what is over the limit.
 */
import { generateKeyPairSync } from 'node:crypto';
import { migrate, openDatabase, type IdentifyMessage } from '@marketing/platform';
import {
  createTestDatabase,
  startSmtpSink,
  type SmtpSink,
  type TestDatabase,
} from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadEmailConfig } from '../config.js';
import { applyIdentifies } from '../recipient/recipient.consumer.js';
import { createEmailRuntime } from '../runtime.js';
import { emailSubgraph } from '../service.js';
import { TemplateService } from '../template/template.service.js';
import { enqueueSends } from './ledger.js';
import { createMessageBuilder } from './message-builder.js';
import { TokenBucket } from './rate-limit.js';
import { DeliverySender } from './sender.js';
import { createMailTransport } from './transport.js';

let db: TestDatabase;
let orm: MikroORM;
let sink: SmtpSink;
const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;

beforeAll(async () => {
  db = await createTestDatabase('sender');
  orm = await openDatabase({ ...emailSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'email');
  sink = await startSmtpSink();
});
afterAll(async () => {
  await orm?.close();
  await sink?.close();
  await db?.drop();
});

function runtimeFor(extra: Record<string, string> = {}) {
  return createEmailRuntime(
    loadEmailConfig({
      DATABASE_URL: db.url,
      GATEWAY_PROOF_SECRET: 'x'.repeat(32),
      SMTP_URL: sink.url,
      MAIL_FROM: 'Shop <news@shop.example>',
      ...extra,
    }),
  );
}

const identify = (id: string, traits: Record<string, unknown>): IdentifyMessage => ({
  type: 'identify',
  messageId: `identify-${id}`,
  userId: id,
  traits,
  timestamp: '2026-11-01T10:00:00.000Z',
  receivedAt: '2026-11-01T10:00:00.000Z',
});

async function drain(senders: DeliverySender[]) {
  for (;;) {
    const done = await Promise.all(senders.map((s) => s.runOnce()));
    if (done.every((n) => n === 0)) return;
  }
}

describe('the delivery sender', () => {
  it('two senders on one ledger send every message exactly once', async () => {
    const n = 300;
    await applyIdentifies(
      orm,
      Array.from({ length: n }, (_, i) =>
        identify(`c${i}`, { email: `c${i}@mail.example`, firstName: `N${i}`, emailConsent: true }),
      ),
    );
    const template = await new TemplateService(orm.em.fork()).create(
      {
        name: 'Hello',
        subject: 'Hello {{ customer.firstName }}',
        html: '<p>Hi {{ customer.firstName }}, <a href="https://shop.example/">shop</a></p>',
      },
      { sub: 'test', roles: ['admin'] },
    );
    await orm.em.fork().transactional((em) =>
      enqueueSends(
        em,
        Array.from({ length: n }, (_, i) => ({
          type: 'email.send.requested' as const,
          dedupeKey: `broadcast-1:c${i}`,
          customerId: `c${i}`,
          templateId: template.id,
          requestedAt: new Date().toISOString(),
        })),
      ),
    );
    const runtime = runtimeFor();
    const senders = [0, 1].map(
      () =>
        new DeliverySender({
          orm,
          transport: runtime.transport,
          build: createMessageBuilder(orm, runtime),
          logger: silent,
          batchSize: 40,
        }),
    );
    await drain(senders);
    runtime.transport.close();
    const ids = sink.received.map((m) => m.messageId);
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
    expect(new Set(sink.received.map((m) => m.to[0])).size).toBe(n);
    expect(sink.received.find((m) => m.to[0] === 'c7@mail.example')?.subject).toBe('Hello N7');
    const statuses = await orm.em
      .fork()
      .execute<{ status: string; n: string }[]>(
        `select status, count(*) as n from email.email_delivery group by status`,
      );
    expect(statuses).toEqual([{ status: 'DELIVERED', n: String(n) }]);
  });

  it('a template that cannot render for one recipient fails that row only', async () => {
    sink.received.length = 0;
    await applyIdentifies(orm, [
      identify('tz1', { email: 'tz1@mail.example', emailConsent: true, plan: 'gold' }),
      identify('tz2', { email: 'tz2@mail.example', emailConsent: true }),
    ]);
    const template = await new TemplateService(orm.em.fork()).create(
      { name: 'Plan', subject: 'Your plan', html: '<p>{{ customer.plan | upcase }}</p>' },
      { sub: 'test', roles: ['admin'] },
    );
    await orm.em.fork().transactional((em) =>
      enqueueSends(
        em,
        ['tz1', 'tz2'].map((c) => ({
          type: 'email.send.requested' as const,
          dedupeKey: `plan:${c}`,
          customerId: c,
          templateId: template.id,
          requestedAt: new Date().toISOString(),
        })),
      ),
    );
    const runtime = runtimeFor();
    await drain([
      new DeliverySender({
        orm,
        transport: runtime.transport,
        build: createMessageBuilder(orm, runtime),
        logger: silent,
      }),
    ]);
    runtime.transport.close();
    const rows = await orm.em
      .fork()
      .execute<{ customer_id: string; status: string; error: string | null }[]>(
        `select customer_id, status, error from email.email_delivery where dedupe_key like 'plan:%' order by customer_id`,
      );
    expect(rows[0]).toEqual({ customer_id: 'tz1', status: 'DELIVERED', error: null });
    expect(rows[1]).toMatchObject({ customer_id: 'tz2', status: 'FAILED' });
    expect(rows[1]!.error).toMatch(/^template: .*undefined variable: customer\.plan/);
    expect(sink.received.map((m) => m.to[0])).toEqual(['tz1@mail.example']);
  });

  it('signs with DKIM when a key is configured', async () => {
    sink.received.length = 0;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const transport = createMailTransport({
      smtpUrl: sink.url,
      mailDir: '/nonexistent',
      dkim: {
        domainName: 'shop.example',
        keySelector: 'mail',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    await transport.send({
      from: 'news@shop.example',
      to: 'dkim@mail.example',
      subject: 'Signed',
      html: '<p>x</p>',
      text: 'x',
      messageId: '<dkim-test@shop.example>',
      headers: {},
    });
    transport.close();
    const signature = sink.received[0]!.rawHeaders['dkim-signature'];
    expect(signature).toMatch(/\bd=shop\.example;/);
    expect(signature).toMatch(/\bs=mail;/);
    expect(signature).toMatch(/\bb=[A-Za-z0-9+/=\s]{100,}/);
  });
});

describe('TokenBucket', () => {
  it('allows the rate, holds back the excess, refills with time', () => {
    let now = 1_000_000;
    const bucket = new TokenBucket(2, () => now);
    expect(bucket.wait()).toBe(0);
    bucket.take();
    bucket.take();
    expect(bucket.wait()).toBe(500);
    now += 250;
    expect(bucket.wait()).toBe(250);
    now += 250;
    expect(bucket.wait()).toBe(0);
  });
});
