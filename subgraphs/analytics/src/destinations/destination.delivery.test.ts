/**
 * Forwarding to destinations against real HTTP receivers on loopback that fail (500, requests
 * that hang until the timeout) before they accept: events published on the bus reach every
 * destination whose filter takes them exactly once, in each provider's format; a delivery that
 * keeps failing ends dead with its last error, and a replay delivers it once the receiver is back.
 */
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CAMPAIGN_EVENTS_SUBJECT,
  createLogger,
  deleteCustomerRows,
  ECOMMERCE_EVENTS_SUBJECT,
  EMAIL_EVENTS_SUBJECT,
  PgEventLog,
  SEGMENT_EVENTS_SUBJECT,
} from '@marketing/platform';
import { waitFor } from '@marketing/platform/testing';
import { DestinationKind } from './destination.entity.js';
import { enqueueEvents } from './destination.queue.js';
import { startDestinations, type DestinationSettings } from './destination.start.js';
import {
  admin,
  at,
  forwarded,
  openDestinationsDatabase,
  startReceiver,
  type DestinationsTestDatabase,
  type Request,
} from './testing/destination.fixtures.js';

let test: DestinationsTestDatabase;
let bus: PgEventLog;
const logger = createLogger('destinations-test', 'silent');
const service = () => test.service();
const deliveries = () => test.deliveries();

const SETTINGS: DestinationSettings = {
  DESTINATIONS_ALLOW_LOOPBACK: true,
  DESTINATION_TIMEOUT_MS: 1_000,
  DESTINATION_MAX_ATTEMPTS: 5,
  DESTINATION_RETRY_BASE_MS: 10,
  DESTINATION_RETRY_MAX_MS: 40,
  DESTINATION_POLL_MS: 10,
  DESTINATION_RETENTION_DAYS: 7,
};

beforeAll(async () => {
  test = await openDestinationsDatabase('destinations');
  bus = await PgEventLog.connect(test.db.url);
});
afterAll(async () => {
  await bus?.close();
  await test?.close();
});
afterEach(async () => {
  await test.orm.em.fork().execute(`delete from analytics.destination`);
});

const CAMPAIGN = '11111111-1111-4111-8111-111111111111';
const SEGMENT = '22222222-2222-4222-8222-222222222222';
const ENROLLMENT = '44444444-4444-4444-8444-444444444444';

async function publishMarketingEvents(suffix: string) {
  await bus.publish([
    {
      subject: EMAIL_EVENTS_SUBJECT,
      id: `sent-${suffix}`,
      data: { type: 'email.sent', customerId: 'ann', campaignId: CAMPAIGN, occurredAt: at(0) },
    },
    {
      subject: EMAIL_EVENTS_SUBJECT,
      id: `opened-${suffix}`,
      data: {
        type: 'email.opened',
        customerId: 'ann',
        campaignId: CAMPAIGN,
        unique: true,
        occurredAt: at(5),
      },
    },
    {
      subject: SEGMENT_EVENTS_SUBJECT,
      id: `entered-${suffix}`,
      data: {
        type: 'segment.entered',
        segmentId: SEGMENT,
        segmentName: 'VIP',
        customerId: 'bob',
        occurredAt: at(6),
        reason: 'rule',
      },
    },
    {
      subject: CAMPAIGN_EVENTS_SUBJECT,
      id: `enrolled-${suffix}`,
      data: {
        type: 'enrollment.entered',
        campaignId: CAMPAIGN,
        enrollmentId: ENROLLMENT,
        customerId: 'bob',
        stepId: null,
        occurredAt: at(7),
      },
    },
    {
      // Not about a customer: not forwarded.
      subject: CAMPAIGN_EVENTS_SUBJECT,
      id: `changed-${suffix}`,
      data: { type: 'campaign.changed', campaignId: CAMPAIGN, version: 1 },
    },
    {
      subject: ECOMMERCE_EVENTS_SUBJECT,
      id: `order-${suffix}`,
      data: {
        type: 'track',
        messageId: `order-${suffix}`,
        userId: 'ann',
        event: 'Order Completed',
        properties: { order_id: `o-${suffix}`, total: 42.5, currency: 'EUR', products: [] },
        timestamp: at(9),
      },
    },
    {
      // Identify calls carry personal traits and are not forwarded.
      subject: ECOMMERCE_EVENTS_SUBJECT,
      id: `identify-${suffix}`,
      data: {
        type: 'identify',
        messageId: `identify-${suffix}`,
        userId: 'ann',
        traits: { email: 'ann@example.com' },
        timestamp: at(1),
      },
    },
  ]);
}

function verifySignature(request: Request, secret: string): boolean {
  const header = String(request.headers['x-marketing-signature']);
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${request.raw}`).digest('hex');
  return expected === match[2];
}

describe('destination delivery', () => {
  it('delivers every event once to each destination whose filter takes it, through 500s and timeouts', async () => {
    // Webhook: two 500s, then accepted. Segment: hangs once, then accepted. GA4: 500, hang, ok.
    const webhook = await startReceiver(
      (b) => b.id,
      (n) => (n <= 2 ? 500 : 'ok'),
    );
    const segment = await startReceiver(
      (b) => b.messageId,
      (n) => (n === 1 ? 'hang' : 'ok'),
    );
    const ga4 = await startReceiver(
      (b) => b.events[0].params.event_id,
      (n) => (n === 1 ? 503 : n === 2 ? 'hang' : 'ok'),
    );
    const off = await startReceiver(
      (b) => b.id,
      () => 'ok',
    );
    await service().create(
      { name: 'hook', kind: DestinationKind.WEBHOOK, url: `${webhook.url}/in`, secret: 'whsec' },
      admin,
    );
    await service().create(
      {
        name: 'segment',
        kind: DestinationKind.SEGMENT,
        url: segment.url,
        secret: 'write-key',
        events: ['email.opened', 'Order Completed'],
      },
      admin,
    );
    await service().create(
      {
        name: 'ga4',
        kind: DestinationKind.GA4,
        url: `${ga4.url}/mp/collect?measurement_id=G-TEST`,
        secret: 'api-secret',
        events: ['Order Completed'],
      },
      admin,
    );
    await service().create(
      {
        name: 'off',
        kind: DestinationKind.WEBHOOK,
        url: off.url,
        secret: 'x',
        enabled: false,
      },
      admin,
    );

    const stop = await startDestinations({ orm: test.orm, bus, logger }, SETTINGS);
    try {
      await publishMarketingEvents('a');
      // The same messages again (a publisher retrying): nothing more is delivered.
      await publishMarketingEvents('a');
      await waitFor(
        deliveries,
        (rows) => rows.length === 8 && rows.every((r) => r.state === 'DELIVERED'),
      );
    } finally {
      await stop();
    }

    const ids = {
      sent: `${EMAIL_EVENTS_SUBJECT}:sent-a`,
      opened: `${EMAIL_EVENTS_SUBJECT}:opened-a`,
      entered: `${SEGMENT_EVENTS_SUBJECT}:entered-a`,
      enrolled: `${CAMPAIGN_EVENTS_SUBJECT}:enrolled-a`,
      order: `${ECOMMERCE_EVENTS_SUBJECT}:order-a`,
    };
    expect(Object.fromEntries(webhook.accepted())).toEqual({
      [ids.sent]: 1,
      [ids.opened]: 1,
      [ids.entered]: 1,
      [ids.enrolled]: 1,
      [ids.order]: 1,
    });
    expect(Object.fromEntries(segment.accepted())).toEqual({ [ids.opened]: 1, [ids.order]: 1 });
    expect(Object.fromEntries(ga4.accepted())).toEqual({ [ids.order]: 1 });
    expect(off.requests).toEqual([]);
    // Each event went through the failures the receiver planned.
    expect(webhook.requests).toHaveLength(15);
    // Connections are kept alive between requests.
    expect(webhook.connections()).toBeLessThan(webhook.requests.length);
    expect(segment.requests).toHaveLength(4);
    expect(ga4.requests).toHaveLength(3);
    expect((await deliveries()).map((r) => [r.name, r.attempts])).toEqual([
      ['ga4', 3],
      ['hook', 3],
      ['hook', 3],
      ['hook', 3],
      ['hook', 3],
      ['hook', 3],
      ['segment', 2],
      ['segment', 2],
    ]);

    // WEBHOOK: the event as JSON, signed over "t.body" with the secret on every attempt.
    expect(webhook.requests.every((r) => r.path === '/in' && verifySignature(r, 'whsec'))).toBe(
      true,
    );
    expect(webhook.requests.some((r) => verifySignature(r, 'other'))).toBe(false);
    const order = webhook.requests.find((r) => r.answer === 'ok' && r.body.id === ids.order)!;
    expect(order.body).toEqual({
      id: ids.order,
      type: 'Order Completed',
      customerId: 'ann',
      occurredAt: at(9),
      properties: { order_id: 'o-a', total: 42.5, currency: 'EUR', products: [] },
    });
    expect(order.headers['x-marketing-event-type']).toBe('Order Completed');
    const opened = webhook.requests.find((r) => r.body.id === ids.opened)!;
    expect(opened.body.properties).toEqual({ campaignId: CAMPAIGN, unique: true });
    const enrolled = webhook.requests.find((r) => r.body.id === ids.enrolled)!;
    expect(enrolled.body).toEqual({
      id: ids.enrolled,
      type: 'enrollment.entered',
      customerId: 'bob',
      occurredAt: at(7),
      properties: { campaignId: CAMPAIGN, enrollmentId: ENROLLMENT },
    });

    // SEGMENT: a track call with the write key as Basic user name.
    const track = segment.requests.find(
      (r) => r.answer === 'ok' && r.body.messageId === ids.opened,
    )!;
    expect(track.path).toBe('/v1/track');
    expect(track.headers.authorization).toBe(
      `Basic ${Buffer.from('write-key:').toString('base64')}`,
    );
    expect(track.body).toMatchObject({
      type: 'track',
      userId: 'ann',
      event: 'Email Opened',
      timestamp: at(5),
      properties: { campaignId: CAMPAIGN, unique: true },
    });

    // GA4: Measurement Protocol with the measurement id from the url and the secret added.
    const hit = ga4.requests.find((r) => r.answer === 'ok')!;
    expect(hit.path).toBe('/mp/collect');
    expect(hit.query.get('measurement_id')).toBe('G-TEST');
    expect(hit.query.get('api_secret')).toBe('api-secret');
    expect(hit.body).toMatchObject({
      client_id: 'ann',
      user_id: 'ann',
      timestamp_micros: Date.parse(at(9)) * 1000,
      events: [
        {
          name: 'purchase',
          params: { transaction_id: 'o-a', value: 42.5, currency: 'EUR', event_id: ids.order },
        },
      ],
    });

    const state = await service().list();
    expect(state.map((d) => [d.name, d.failureCount, d.lastDeliveredAt !== null])).toEqual([
      ['ga4', 0, true],
      ['hook', 0, true],
      ['off', 0, false],
      ['segment', 0, true],
    ]);
  });

  it('queues an event once per destination however often it is offered', async () => {
    await service().create(
      {
        name: 'hook',
        kind: DestinationKind.WEBHOOK,
        url: 'https://hooks.example.com/x',
        secret: 's',
      },
      admin,
    );
    const event = forwarded('marketing.email:dup', 'email.sent');
    expect(await enqueueEvents(test.orm.em.fork(), [event])).toBe(1);
    expect(await enqueueEvents(test.orm.em.fork(), [event, event])).toBe(0);
    expect(await deliveries()).toHaveLength(1);
  });

  it("is covered by GDPR erasure: the customer's queued events go with the customer's rows", async () => {
    await service().create(
      {
        name: 'hook',
        kind: DestinationKind.WEBHOOK,
        url: 'https://hooks.example.com/x',
        secret: 's',
      },
      admin,
    );
    const event = (id: string, customerId: string) => forwarded(id, 'email.sent', customerId);
    await enqueueEvents(test.orm.em.fork(), [event('e-ann', 'ann'), event('e-bob', 'bob')]);
    await test.orm.em.fork().transactional((em) => deleteCustomerRows(em, 'analytics', 'ann'));
    expect((await deliveries()).map((r) => r.event_id)).toEqual(['e-bob']);
  });

  it('dead-letters a delivery after the last attempt, and the replay command delivers it once the receiver is back', async () => {
    let healthy = false;
    const receiver = await startReceiver(
      (b) => b.id,
      () => (healthy ? 'ok' : 500),
    );
    const destination = await service().create(
      { name: 'flaky', kind: DestinationKind.WEBHOOK, url: receiver.url, secret: 's' },
      admin,
    );
    const stop = await startDestinations(
      { orm: test.orm, bus, logger },
      { ...SETTINGS, DESTINATION_MAX_ATTEMPTS: 3 },
    );
    try {
      await publishMarketingEvents('b');
      const dead = await waitFor(
        deliveries,
        (rows) => rows.length === 5 && rows.every((r) => r.state === 'DEAD'),
      );
      expect(
        dead.every((r) => r.attempts === 3 && r.last_error === 'HTTP 500: receiver says no'),
      ).toBe(true);
      expect(receiver.requests).toHaveLength(15);
      expect((await service().list())[0].failureCount).toBe(15);

      healthy = true;
      const cli = fileURLToPath(new URL('../../dist/replay-destination.js', import.meta.url));
      const { stdout } = await promisify(execFile)(process.execPath, [cli, destination.id], {
        env: { ...process.env, DATABASE_URL: test.db.url },
      });
      expect(stdout).toContain('re-queued 5 dead-lettered deliveries');
      await waitFor(deliveries, (rows) => rows.every((r) => r.state === 'DELIVERED'));
    } finally {
      await stop();
    }
    expect([...receiver.accepted().values()]).toEqual([1, 1, 1, 1, 1]);
    expect((await service().list())[0].failureCount).toBe(0);
  });

  it('dead-letters at once what the receiver refuses for good (400), without retrying', async () => {
    const receiver = await startReceiver(
      (b) => b.id,
      () => 400,
    );
    await service().create(
      {
        name: 'strict',
        kind: DestinationKind.WEBHOOK,
        url: receiver.url,
        secret: 's',
        events: ['email.sent'],
      },
      admin,
    );
    const stop = await startDestinations({ orm: test.orm, bus, logger }, SETTINGS);
    try {
      await publishMarketingEvents('c');
      const [row] = await waitFor(deliveries, (rows) => rows[0]?.state === 'DEAD');
      expect(row).toMatchObject({ attempts: 1, last_error: 'HTTP 400: receiver says no' });
    } finally {
      await stop();
    }
    expect(receiver.requests).toHaveLength(1);
  });
});
