/**
 * Broadcast launches on real PostgreSQL: test-then-winner A/B tests (the test share, the decision
 * request to analytics, the winner or the fallback for the rest), launches refused without an
 * audience, and local-time scheduling. Send requests are read from the outbox.
 */
import { createLogger, migrate, openDatabase, queryWithParams } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { AbFallback, AbMetric, CampaignKind } from '../campaign/campaign.entity.js';
import { CampaignService, launchIn } from '../campaign/campaign.service.js';
import { campaignsSubgraph } from '../service.js';
import { applyDecision } from './ab-test.js';
import { dispatchOnce, SYSTEM } from './dispatcher.js';

let db: TestDatabase;
let orm: MikroORM;
const marketer = { sub: 'marketer-1', roles: ['marketer' as const] };
const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const AUDIENCE = '44444444-4444-4444-8444-444444444444';
const EMPTY = '55555555-5555-4555-8555-555555555555';
const logger = createLogger('ab-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase('broadcast_ab');
  orm = await openDatabase({ ...campaignsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'campaigns');
  await sql(
    `insert into campaigns.template_version (template_id, version, name) values ($1, 1, 'A'), ($2, 4, 'B')`,
    [T1, T2],
  );
  await sql(
    `insert into campaigns.segment_member (segment_id, customer_id, member, changed_at)
     select $1, 'c' || i, true, now() from generate_series(1, 400) i`,
    [AUDIENCE],
  );
});

afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

function sql<T>(text: string, params: unknown[] = []) {
  return queryWithParams<T>(orm.em.fork(), text, params);
}

async function abBroadcast(fallback: AbFallback) {
  const campaign = await new CampaignService(orm.em.fork()).create(
    {
      name: `A/B ${fallback}`,
      kind: CampaignKind.BROADCAST,
      segmentId: AUDIENCE,
      variants: [
        { name: 'Control', weight: 1, templateId: T1 },
        { name: 'Challenger', weight: 1, templateId: T2 },
      ],
      abTest: {
        metric: AbMetric.CLICK,
        testFraction: 0.25,
        decisionDelaySeconds: 0,
        confidence: 0.95,
        fallback,
      },
    },
    marketer,
  );
  return campaign.id;
}

const dispatch = () => dispatchOnce({ orm, logger, ratePerSecond: 1_000_000 });

async function requests(campaignId: string) {
  return sql<{ customer: string; variant: string; template: string }>(
    `select data->>'customerId' as customer, data->>'variantId' as variant, data->>'templateId' as template
     from campaigns.outbox where subject = 'marketing.sends' and data->>'campaignId' = $1`,
    [campaignId],
  );
}

async function campaignRow(id: string) {
  const [row] = await sql<{
    status: string;
    ab_state: string | null;
    ab_request_id: string | null;
    ab_outcome: Record<string, unknown> | null;
  }>(`select status, ab_state, ab_request_id, ab_outcome from campaigns.campaign where id = $1`, [
    id,
  ]);
  return row!;
}

async function variantIds(campaignId: string) {
  return (
    await sql<{ id: string }>(
      `select id from campaigns.campaign_variant where campaign_id = $1 order by position`,
      [campaignId],
    )
  ).map((r) => r.id);
}

/** Launches, sends the test share, and returns the decision request analytics would get. */
async function runTestPhase(id: string) {
  await new CampaignService(orm.em.fork()).launch(id, marketer);
  await dispatch(); // the test share's requests; the phase moves to WAITING
  await dispatch(); // the delay (0 s) is over: the request goes out
  const [request] = await sql<{
    data: { requestId: string; variantIds: string[]; metric: string };
  }>(
    `select data from campaigns.outbox where data->>'type' = 'abtest.decision.requested' and data->>'campaignId' = $1`,
    [id],
  );
  return request!.data;
}

describe('broadcast A/B test, then the winner', () => {
  it('sends the test share, asks analytics, and sends the winner to everyone else', async () => {
    const id = await abBroadcast(AbFallback.CONTROL);
    const request = await runTestPhase(id);
    const [control, challenger] = await variantIds(id);
    expect(request).toMatchObject({ metric: 'CLICK', variantIds: [control, challenger] });

    const test = await requests(id);
    // A quarter of 400 by a hash: not exactly 100, but near it, and both variants are in it.
    expect(test.length).toBeGreaterThan(60);
    expect(test.length).toBeLessThan(140);
    expect(new Set(test.map((r) => r.variant))).toEqual(new Set([control, challenger]));
    expect(await campaignRow(id)).toMatchObject({ status: 'RUNNING', ab_state: 'DECIDING' });

    const applied = await orm.em
      .fork()
      .transactional((em) =>
        applyDecision(
          em,
          id,
          request.requestId,
          challenger!,
          challenger!,
          'challenger wins',
          SYSTEM,
        ),
      );
    expect(applied).toBe(true);
    await dispatch();
    await dispatch();
    const all = await requests(id);
    expect(all).toHaveLength(400);
    expect(new Set(all.map((r) => r.customer)).size).toBe(400);
    const rest = all.filter((r) => !test.some((t) => t.customer === r.customer));
    expect(new Set(rest.map((r) => r.variant))).toEqual(new Set([challenger]));
    expect(new Set(rest.map((r) => r.template))).toEqual(new Set([T2]));
    expect(await campaignRow(id)).toMatchObject({
      status: 'COMPLETED',
      ab_state: 'DECIDED',
      ab_outcome: {
        winnerVariantId: challenger,
        sentVariantId: challenger,
        fallbackUsed: null,
        reason: 'challenger wins',
      },
    });
    const trail = await sql<{ action: string }>(
      `select action from campaigns.campaign_audit where campaign_id = $1 order by id`,
      [id],
    );
    expect(trail.map((t) => t.action)).toEqual([
      'create',
      'launch',
      'ab test sent',
      'ab decision requested',
      'ab decision',
      'complete',
    ]);
  });

  it('no winner: the fallback decides (the control, or the best so far), and the reason is kept', async () => {
    for (const fallback of [AbFallback.CONTROL, AbFallback.BEST_SO_FAR]) {
      const id = await abBroadcast(fallback);
      const request = await runTestPhase(id);
      const [control, challenger] = await variantIds(id);
      await orm.em
        .fork()
        .transactional((em) =>
          applyDecision(
            em,
            id,
            request.requestId,
            null,
            challenger!,
            'no variant reached 95%',
            SYSTEM,
          ),
        );
      const chosen = fallback === AbFallback.CONTROL ? control : challenger;
      expect((await campaignRow(id)).ab_outcome).toMatchObject({
        winnerVariantId: null,
        sentVariantId: chosen,
        fallbackUsed: fallback,
        reason: 'no variant reached 95%',
      });
    }
  });

  it('an answer to another request, or a second answer, changes nothing', async () => {
    const id = await abBroadcast(AbFallback.CONTROL);
    const request = await runTestPhase(id);
    const [, challenger] = await variantIds(id);
    const apply = (requestId: string) =>
      orm.em
        .fork()
        .transactional((em) =>
          applyDecision(em, id, requestId, challenger!, null, 'answer', SYSTEM),
        );
    expect(await apply(crypto.randomUUID())).toBe(false);
    expect((await campaignRow(id)).ab_state).toBe('DECIDING');
    expect(await apply(request.requestId)).toBe(true);
    expect(await apply(request.requestId)).toBe(false);
  });

  it('analytics silent past the answer timeout: the fallback is sent, saying why', async () => {
    const id = await abBroadcast(AbFallback.CONTROL);
    await runTestPhase(id);
    const [control] = await variantIds(id);
    await sql(
      `update campaigns.campaign set ab_decision_due_at = now() - interval '11 minutes' where id = $1`,
      [id],
    );
    await dispatch();
    expect((await campaignRow(id)).ab_outcome).toMatchObject({
      winnerVariantId: null,
      sentVariantId: control,
      reason: 'analytics did not answer within 10 minutes',
    });
  });
});

describe('launching a broadcast', () => {
  it('without an audience is refused with CONFLICT, and nothing is launched', async () => {
    const campaign = await new CampaignService(orm.em.fork()).create(
      {
        name: 'Nobody',
        kind: CampaignKind.BROADCAST,
        segmentId: EMPTY,
        variants: [{ name: 'A', weight: 1, templateId: T1 }],
      },
      marketer,
    );
    const error = await new CampaignService(orm.em.fork())
      .launch(campaign.id, marketer)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ extensions: { code: 'CONFLICT' } });
    expect((error as Error).message).toContain('the audience is empty');
    expect((await campaignRow(campaign.id)).status).toBe('DRAFT');
    const [row] = await sql<{ n: number }>(
      `select count(*)::int as n from campaigns.campaign_enrollment where campaign_id = $1`,
      [campaign.id],
    );
    expect(row!.n).toBe(0);
  });

  it('scheduled without an audience: back to DRAFT with the reason, not retried on every tick', async () => {
    const campaign = await new CampaignService(orm.em.fork()).create(
      {
        name: 'Nobody, later',
        kind: CampaignKind.BROADCAST,
        segmentId: EMPTY,
        variants: [{ name: 'A', weight: 1, templateId: T1 }],
      },
      marketer,
    );
    await new CampaignService(orm.em.fork()).schedule(
      campaign.id,
      new Date(Date.now() + 60_000),
      marketer,
    );
    await sql(
      `update campaigns.campaign set scheduled_at = now() - interval '1 second' where id = $1`,
      [campaign.id],
    );
    await dispatch();
    expect((await campaignRow(campaign.id)).status).toBe('DRAFT');
    const [entry] = await sql<{ action: string; changes: { reason: string } }>(
      `select action, changes from campaigns.campaign_audit where campaign_id = $1 order by id desc limit 1`,
      [campaign.id],
    );
    expect(entry).toMatchObject({
      action: 'unschedule',
      changes: { from: 'SCHEDULED', to: 'DRAFT' },
    });
    expect(entry!.changes.reason).toContain('the audience is empty');
  });

  it('at a local time gives each customer the moment in their own timezone', async () => {
    const LOCAL = '66666666-6666-4666-8666-666666666666';
    await sql(
      `insert into campaigns.segment_member (segment_id, customer_id, member, changed_at)
       values ($1, 'tokyo', true, now()), ($1, 'paris', true, now()), ($1, 'nowhere', true, now())`,
      [LOCAL],
    );
    await sql(
      `insert into campaigns.automation_customer (customer_id, traits, trait_versions, timezone)
       values ('tokyo', '{}', '{}', 'Asia/Tokyo'), ('paris', '{}', '{}', 'Europe/Paris')`,
    );
    const service = new CampaignService(orm.em.fork());
    const campaign = await service.create(
      {
        name: 'Local nine',
        kind: CampaignKind.BROADCAST,
        segmentId: LOCAL,
        variants: [{ name: 'A', weight: 1, templateId: T1 }],
      },
      marketer,
    );
    // 09:00 on the 15th of next month, wherever the customer is.
    const now = new Date();
    const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 15, 9, 0));
    await new CampaignService(orm.em.fork()).schedule(campaign.id, at, marketer, true);
    await orm.em.fork().transactional((em) => launchIn(em, campaign.id, SYSTEM));
    const rows = await sql<{ customer_id: string; wake_at: Date }>(
      `select customer_id, wake_at from campaigns.campaign_enrollment where campaign_id = $1`,
      [campaign.id],
    );
    const local = (customer: string, timeZone: string) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(rows.find((r) => r.customer_id === customer)!.wake_at));
    expect(local('tokyo', 'Asia/Tokyo')).toBe('15, 09:00');
    expect(local('paris', 'Europe/Paris')).toBe('15, 09:00');
    expect(local('nowhere', 'UTC')).toBe('15, 09:00');
    // None of them is due yet: the dispatcher requests nothing.
    await dispatch();
    expect(await requests(campaign.id)).toEqual([]);
  });
});
