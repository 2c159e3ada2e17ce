/**
 * Destinations end to end, through the gateway: an admin creates a signed webhook pointing at a
 * real receiver on loopback that answers 500, then hangs, before accepting; events ingested at the
 * gateway arrive there once each, filtered by type, with a signature made with the write-only
 * secret (kept when an update omits it). Roles and input errors are checked on the way.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, waitFor, type TestDatabase } from '@marketing/platform/testing';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;
let admin: string;
let server: Server;
let receiverUrl: string;

interface Received {
  raw: string;
  body: { id: string; type: string; customerId: string; properties: Record<string, unknown> };
  headers: IncomingMessage['headers'];
  accepted: boolean;
}
const received: Received[] = [];
/** `/strict` refuses every event with 400 while this holds. */
let strictRefuses = true;
const strictAccepted: string[] = [];

beforeAll(async () => {
  // Per event: 500, then no answer until the sender's timeout, then 200.
  const attempts = new Map<string, number>();
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      if (req.url === '/strict') {
        if (strictRefuses) return void res.writeHead(400).end('not now');
        strictAccepted.push(body.id);
        return void res.writeHead(200).end();
      }
      const n = (attempts.get(body.id) ?? 0) + 1;
      attempts.set(body.id, n);
      received.push({ raw, body, headers: req.headers, accepted: n >= 3 });
      if (n === 1) res.writeHead(500).end('down');
      else if (n >= 3) res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  db = await createTestDatabase('destinations_e2e');
  stack = await startStack({
    databaseUrl: db.url,
    busBackoffMs: '50,100',
    // The planned failures are logged as warnings.
    logLevel: 'error',
    env: {
      DESTINATIONS_ALLOW_LOOPBACK: 'true',
      DESTINATION_TIMEOUT_MS: '1000',
      DESTINATION_RETRY_BASE_MS: '10',
      DESTINATION_RETRY_MAX_MS: '50',
      DESTINATION_POLL_MS: '20',
    },
  });
  admin = await stack.token(['admin'], 'admin-1');
});
afterAll(async () => {
  await stack?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await db?.drop();
});

const FIELDS = 'id name kind url events enabled lastDeliveredAt failureCount deadLetterCount';
const CREATE = `mutation ($input: DestinationInput!) { createDestination(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: DestinationInput!) {
  updateDestination(id: $id, input: $input) { ${FIELDS} } }`;
const LIST = `{ destinations { ${FIELDS} } }`;

const accepted = (type?: string) =>
  received.filter((r) => r.accepted && (type === undefined || r.body.type === type));

function signedWith(r: Received, secret: string): boolean {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(r.headers['x-marketing-signature']))!;
  return createHmac('sha256', secret).update(`${t}.${r.raw}`).digest('hex') === v1;
}

const track = (messageId: string, event: string, properties: Record<string, unknown> = {}) => ({
  type: 'track',
  messageId,
  userId: 'cust-1',
  event,
  properties,
  timestamp: new Date().toISOString(),
});

describe('destinations through the gateway', () => {
  it('are for admins only', async () => {
    const marketer = await stack.token(['marketer'], 'marketer-1');
    const list = await stack.graphql(marketer, LIST);
    expect(list.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const create = await stack.graphql(marketer, CREATE, {
      input: { name: 'x', kind: 'WEBHOOK', url: receiverUrl, secret: 's' },
    });
    expect(create.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('refuse bad input with the path of the offending value', async () => {
    const base = { name: 'bad', kind: 'WEBHOOK', url: receiverUrl, secret: 's' };
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'not a url' }, 'input.url'],
      [{ url: 'http://hooks.example.com/x' }, 'input.url'],
      [{ url: 'https://169.254.169.254/latest/meta-data' }, 'input.url'],
      [{ url: 'https://10.1.2.3/x' }, 'input.url'],
      [{ kind: 'GA4', url: 'https://www.google-analytics.com/mp/collect' }, 'input.url'],
      [{ secret: null }, 'input.secret'],
      [{ events: ['email.opened', 'email.read'] }, 'input.events[1]'],
      [{ name: '  ' }, 'input.name'],
    ];
    for (const [change, path] of cases) {
      const result = await stack.graphql(admin, CREATE, { input: { ...base, ...change } });
      expect([change, result.errors?.[0].extensions]).toEqual([
        change,
        expect.objectContaining({ code: 'BAD_USER_INPUT', path }),
      ]);
    }
    const secret = await stack.graphql(admin, `{ destinations { secret } }`);
    expect(secret.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('deliver each ingested event of the chosen types once, through a 500 and a timeout, signed with the kept secret', async () => {
    const created = await stack.graphql(admin, CREATE, {
      input: {
        name: 'warehouse',
        kind: 'WEBHOOK',
        url: receiverUrl,
        secret: 'first-secret',
        events: ['Order Completed'],
      },
    });
    expect(created.errors).toBeUndefined();
    const destination = created.data.createDestination;
    expect(destination).toMatchObject({
      kind: 'WEBHOOK',
      events: ['Order Completed'],
      enabled: true,
      lastDeliveredAt: null,
      failureCount: 0,
    });
    const duplicate = await stack.graphql(admin, CREATE, {
      input: { name: 'warehouse', kind: 'WEBHOOK', url: receiverUrl, secret: 's' },
    });
    expect(duplicate.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: 'input.name',
    });

    // One batch: the Product Viewed is consumed before the order, so its absence is settled
    // by the time the order arrives.
    const batch = [
      track('pv-1', 'Product Viewed', { product_id: 'p1' }),
      track('order-1', 'Order Completed', { order_id: 'o1', total: 10 }),
    ];
    expect((await stack.ingest('/v1/batch', { batch })).status).toBe(200);
    await waitFor(
      () => accepted().length,
      (n) => n >= 1,
    );
    expect(accepted().map((r) => [r.body.type, r.body.customerId, r.body.properties])).toEqual([
      ['Order Completed', 'cust-1', { order_id: 'o1', total: 10 }],
    ]);
    const attempts = received.filter((r) => r.body.id === accepted()[0].body.id);
    expect(attempts).toHaveLength(3);
    expect(attempts.every((r) => signedWith(r, 'first-secret'))).toBe(true);
    const listed = await waitFor(
      () => stack.graphql(admin, LIST),
      (r) => r.data?.destinations[0]?.lastDeliveredAt !== null,
    );
    expect(listed.data.destinations).toEqual([
      expect.objectContaining({ id: destination.id, failureCount: 0, deadLetterCount: 0 }),
    ]);

    // An update without a secret keeps the old one.
    const updated = await stack.graphql(admin, UPDATE, {
      id: destination.id,
      input: {
        name: 'warehouse',
        kind: 'WEBHOOK',
        url: receiverUrl,
        events: ['Order Completed', 'Order Refunded'],
      },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateDestination.events).toEqual(['Order Completed', 'Order Refunded']);
    expect(
      (
        await stack.ingest(
          '/v1/track',
          track('refund-1', 'Order Refunded', { order_id: 'o1', total: 10 }),
        )
      ).status,
    ).toBe(200);
    await waitFor(
      () => accepted('Order Refunded').length,
      (n) => n === 1,
    );
    expect(signedWith(accepted('Order Refunded')[0], 'first-secret')).toBe(true);

    // A new secret signs from then on.
    const rotated = await stack.graphql(admin, UPDATE, {
      id: destination.id,
      input: {
        name: 'warehouse',
        kind: 'WEBHOOK',
        url: receiverUrl,
        secret: 'second-secret',
        events: ['Order Completed'],
      },
    });
    expect(rotated.errors).toBeUndefined();
    const order3 = track('order-3', 'Order Completed', { order_id: 'o3', total: 1 });
    expect((await stack.ingest('/v1/track', order3)).status).toBe(200);
    await waitFor(
      () => accepted('Order Completed').length,
      (n) => n === 2,
    );
    const last = accepted('Order Completed')[1];
    expect([signedWith(last, 'second-secret'), signedWith(last, 'first-secret')]).toEqual([
      true,
      false,
    ]);
    // Every event once, whatever the retries.
    expect(accepted().map((r) => r.body.id)).toEqual([
      'ecommerce.events:order-1',
      'ecommerce.events:refund-1',
      'ecommerce.events:order-3',
    ]);

    const deleted = await stack.graphql(
      admin,
      `mutation ($id: ID!) { deleteDestination(id: $id) }`,
      { id: destination.id },
    );
    expect(deleted.data).toEqual({ deleteDestination: true });
    expect((await stack.graphql(admin, LIST)).data).toEqual({ destinations: [] });
  });

  it('dead-letter what a receiver refuses, count it, and replay it with replayDestination', async () => {
    const created = await stack.graphql(admin, CREATE, {
      input: {
        name: 'strict',
        kind: 'WEBHOOK',
        url: receiverUrl.replace(/\/hook$/, '/strict'),
        secret: 's',
        events: ['Order Completed'],
      },
    });
    const id = created.data.createDestination.id;
    expect(
      (
        await stack.ingest(
          '/v1/track',
          track('order-2', 'Order Completed', { order_id: 'o2', total: 5 }),
        )
      ).status,
    ).toBe(200);
    const dead = await waitFor(
      () => stack.graphql(admin, LIST),
      (r) =>
        r.data?.destinations[0]?.deadLetterCount === 1 &&
        r.data?.destinations[0]?.failureCount === 1,
    );
    expect(dead.data.destinations[0]).toMatchObject({ failureCount: 1, lastDeliveredAt: null });

    const marketer = await stack.token(['marketer'], 'marketer-1');
    const REPLAY = `mutation ($id: ID!) { replayDestination(id: $id) }`;
    expect((await stack.graphql(marketer, REPLAY, { id })).errors?.[0].extensions.code).toBe(
      'FORBIDDEN',
    );
    strictRefuses = false;
    expect((await stack.graphql(admin, REPLAY, { id })).data).toEqual({ replayDestination: 1 });
    const delivered = await waitFor(
      () => stack.graphql(admin, LIST),
      (r) => r.data?.destinations[0]?.lastDeliveredAt !== null,
    );
    expect(delivered.data.destinations[0]).toMatchObject({ failureCount: 0, deadLetterCount: 0 });
    expect(strictAccepted).toEqual(['ecommerce.events:order-2']);
    const missing = await stack.graphql(admin, REPLAY, { id: 'no-such-destination' });
    expect(missing.errors?.[0].extensions.code).toBe('NOT_FOUND');
  });
});
