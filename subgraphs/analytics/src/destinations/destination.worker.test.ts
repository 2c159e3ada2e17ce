/**
 * The delivery worker on real PostgreSQL and loopback receivers: a hanging destination keeps to its
 * share of requests, a failing one is paused as a whole, stopping re-queues what was in flight,
 * delivered rows are pruned, and the backoff doubles with jitter.
 */
import { createLogger } from '@marketing/platform';
import { waitFor } from '@marketing/platform/testing';
import { DestinationKind } from './destination.entity.js';
import { enqueueEvents, pruneDelivered, retryDelayMs } from './destination.queue.js';
import { startDestinationWorker } from './destination.worker.js';
import {
  admin,
  forwarded,
  openDestinationsDatabase,
  startReceiver,
  type DestinationsTestDatabase,
} from './testing/destination.fixtures.js';

let test: DestinationsTestDatabase;
const logger = createLogger('destinations-test', 'silent');
const service = () => test.service();
const deliveries = () => test.deliveries();

beforeAll(async () => {
  test = await openDestinationsDatabase('destination_worker');
});
afterAll(async () => {
  await test?.close();
});
afterEach(async () => {
  await test.orm.em.fork().execute(`delete from analytics.destination`);
});

describe('destination worker', () => {
  it('keeps a hanging destination to its share of requests, delivers the others meanwhile, and re-queues the hung requests when stopped', async () => {
    const stuck = await startReceiver(
      (b) => b.id,
      () => 'hang',
    );
    const fine = await startReceiver(
      (b) => b.id,
      () => 'ok',
    );
    for (const [name, receiver, type] of [
      ['stuck', stuck, 'email.sent'],
      ['fine', fine, 'email.opened'],
    ] as const) {
      await service().create(
        { name, kind: DestinationKind.WEBHOOK, url: receiver.url, secret: 's', events: [type] },
        admin,
      );
    }
    // The stuck destination's deliveries are due first.
    const ids = [1, 2, 3, 4, 5, 6];
    await enqueueEvents(
      test.orm.em.fork(),
      ids.map((i) => forwarded(`sent-${i}`, 'email.sent')),
    );
    await enqueueEvents(
      test.orm.em.fork(),
      ids.map((i) => forwarded(`opened-${i}`, 'email.opened')),
    );

    const worker = startDestinationWorker({
      orm: test.orm,
      logger,
      policy: { allowLoopback: true },
      // Longer than the test: the stuck requests end only when the worker stops.
      timeoutMs: 600_000,
      maxAttempts: 5,
      backoff: { baseMs: 10, maxMs: 40 },
      pollMs: 10,
      concurrency: 4,
      perDestination: 2,
      retentionMs: 86_400_000,
    });
    try {
      await waitFor(
        () => fine.accepted().size,
        (n) => n === 6,
      );
      expect(stuck.requests).toHaveLength(2);
    } finally {
      await worker.stop();
    }
    const rows = await deliveries();
    expect(rows.filter((r) => r.name === 'fine').every((r) => r.state === 'DELIVERED')).toBe(true);
    const interrupted = rows.filter((r) => r.name === 'stuck' && r.attempts === 1);
    expect(interrupted.map((r) => [r.state, r.last_error])).toEqual([
      ['PENDING', 'interrupted: the service stopped'],
      ['PENDING', 'interrupted: the service stopped'],
    ]);
    expect(rows.filter((r) => r.name === 'stuck' && r.attempts === 0)).toHaveLength(4);
  });

  it('pauses a failing destination as a whole, and a saved change tries it again at once', async () => {
    let down = true;
    const flaky = await startReceiver(
      (b) => b.id,
      () => (down ? 500 : 'ok'),
    );
    const fine = await startReceiver(
      (b) => b.id,
      () => 'ok',
    );
    const input = {
      name: 'failing',
      kind: DestinationKind.WEBHOOK,
      url: flaky.url,
      events: ['email.sent'],
    };
    const failing = await service().create({ ...input, secret: 's' }, admin);
    await service().create(
      {
        name: 'fine',
        kind: DestinationKind.WEBHOOK,
        url: fine.url,
        secret: 's',
        events: ['email.opened'],
      },
      admin,
    );
    const ids = Array.from({ length: 20 }, (_, i) => `sent-${i}`);
    await enqueueEvents(
      test.orm.em.fork(),
      ids.map((id) => forwarded(id, 'email.sent')),
    );
    const failingNow = async () => (await service().list()).find((d) => d.id === failing.id)!;

    const worker = startDestinationWorker({
      orm: test.orm,
      logger,
      policy: { allowLoopback: true },
      timeoutMs: 5_000,
      maxAttempts: 5,
      // Far longer than the test: only the saved change can end the pause.
      backoff: { baseMs: 600_000, maxMs: 600_000 },
      pollMs: 10,
      concurrency: 8,
      perDestination: 4,
      retentionMs: 86_400_000,
    });
    try {
      // The first four requests fail together and pause the destination.
      await waitFor(failingNow, (d) => d.failureCount === 4);
      // Queued after the pause: the claims that deliver it would have taken the failing
      // destination's earlier deliveries first, were it not paused.
      await enqueueEvents(test.orm.em.fork(), [forwarded('opened-1', 'email.opened')]);
      await waitFor(
        () => fine.accepted().size,
        (n) => n === 1,
      );
      expect(flaky.requests).toHaveLength(4);
      expect((await failingNow()).pausedUntil).toBeInstanceOf(Date);

      down = false;
      await service().update(failing.id, input);
      await waitFor(deliveries, (rows) =>
        rows.filter((r) => r.name === 'failing').every((r) => r.state === 'DELIVERED'),
      );
    } finally {
      await worker.stop();
    }
    expect([...flaky.accepted().values()]).toEqual(ids.map(() => 1));
    expect(await failingNow()).toMatchObject({ failureCount: 0, pausedUntil: null });
  });

  it('prunes delivered rows older than the retention, and only those', async () => {
    await service().create(
      {
        name: 'hook',
        kind: DestinationKind.WEBHOOK,
        url: 'https://hooks.example.com/x',
        secret: 's',
      },
      admin,
    );
    await enqueueEvents(test.orm.em.fork(), [
      forwarded('old', 'email.sent'),
      forwarded('recent', 'email.sent'),
      forwarded('old-dead', 'email.sent'),
      forwarded('pending', 'email.sent'),
    ]);
    await test.orm.em.fork().execute(
      `update analytics.destination_delivery set
         state = case when event_id = 'old-dead' then 'DEAD' else 'DELIVERED' end,
         delivered_at = now() - interval '1 day' * case when event_id = 'recent' then 1 else 8 end
       where event_id <> 'pending'`,
    );
    expect(await pruneDelivered(test.orm.em.fork(), 7 * 86_400_000)).toBe(1);
    expect((await deliveries()).map((r) => r.event_id)).toEqual(['old-dead', 'pending', 'recent']);
  });
});

describe('retryDelayMs', () => {
  const backoff = { baseMs: 1_000, maxMs: 60_000 };
  it('doubles per attempt up to the maximum, scaled by a jitter of 50 to 100%', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, backoff, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
    expect(retryDelayMs(3, backoff, () => 0)).toBe(2_000);
    expect(retryDelayMs(40, backoff, () => 1)).toBe(60_000);
    expect(retryDelayMs(40, backoff, () => 0)).toBe(30_000);
  });
});
