/**
 * Broadcasts and automations at scale, on the Campaign Manager's own code (no HTTP, no bus):
 *
 * 1. Enqueue of a 1,000,000-recipient broadcast from a materialised segment (target: under 30 s):
 *    the launch (`CampaignService.launch`: the audience snapshot of 1M enrolments) and the dispatch
 *    of every send request into the outbox (`dispatchOnce` in a loop, one slice of BENCH_SLICE
 *    enrolments per tick, no throttle), each timed, and the total. Baseline in the same run: the
 *    same rows written set-based by hand (`insert ... select` of the enrolments into a copy of the
 *    table, then of the send requests into a copy of the outbox, of the send log into a copy of
 *    it, and one update marking the enrolments done).
 * 2. Automation step throughput: BENCH_AUTOMATION_ENROLMENTS (20,000) customers enrolled by an
 *    event trigger (`engine.onIngested`, batches of 500, step workers off) into a workflow without
 *    waits (branch -> sendEmail -> exit: 3 steps in one step job; the grammar's shortest wait is a
 *    minute), then step jobs finished per second, on the system clock, over
 *    BENCH_AUTOMATION_SECONDS (15) or until all are done: first with `startAutomationJobs`' own
 *    workers (batch 1, concurrency BENCH_AUTOMATION_CONCURRENCY, default 4 as
 *    AUTOMATION_CONCURRENCY), then with the same engine behind workers that fetch batches of 10
 *    and fetch again at once while batches come back full (`burstWhenBatchFull`). Baseline for
 *    each: no-op jobs through pg-boss with the same worker options, in the same run.
 *
 * The audience (segment_member rows) lives in its own database (`bench_broadcast` on
 * DATABASE_URL's server) and is reused while its row count matches; each run empties what the
 * previous run left (campaigns, enrolments, outbox, jobs).
 */
import { loadavg } from 'node:os';
import { createLogger, migrate, openDatabase, queryWithParams } from '@marketing/platform';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
// Not exported by @marketing/campaigns (its index exports the subgraph and the entities only).
import { startAutomationJobs } from '../../subgraphs/campaigns/dist/automation/automation.worker.js';
import { STEP_QUEUE, type StepJob } from '../../subgraphs/campaigns/dist/automation/engine.js';
import { dispatchOnce } from '../../subgraphs/campaigns/dist/broadcast/dispatcher.js';
import {
  CampaignKind,
  CampaignStatus,
} from '../../subgraphs/campaigns/dist/campaign/campaign.entity.js';
import { CampaignService } from '../../subgraphs/campaigns/dist/campaign/campaign.service.js';
import { campaignsSubgraph } from '../../subgraphs/campaigns/dist/service.js';
import { report, type Measurement } from './report.js';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 1_000_000);
const SLICE = Number(process.env.BENCH_SLICE ?? 10_000);
const ENROLMENTS = Number(process.env.BENCH_AUTOMATION_ENROLMENTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_AUTOMATION_CONCURRENCY ?? 4);
const WINDOW_SECONDS = Number(process.env.BENCH_AUTOMATION_SECONDS ?? 15);
const SEGMENT = '5e000000-0000-4000-8000-000000000001';
const T1 = '5e000000-0000-4000-8000-0000000000a1';
const T2 = '5e000000-0000-4000-8000-0000000000a2';
const MARKETER = { sub: 'bench', roles: ['marketer' as const] };
const TICK_MS = 250;
const logger = createLogger('bench', 'warn');

const seconds = (from: number) => (performance.now() - from) / 1_000;

async function openBenchDatabase() {
  const name = RECIPIENTS === 1_000_000 ? 'bench_broadcast' : `bench_broadcast_${RECIPIENTS}`;
  const server = process.env.DATABASE_URL!;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const exists = await admin.query(`select 1 from pg_database where datname = $1`, [name]);
  if (exists.rowCount === 0) await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  const orm = await openDatabase({ ...campaignsSubgraph.database, url: url.toString() });
  await migrate(orm, url.toString(), 'campaigns');
  return { orm, url: url.toString() };
}

function sql<T>(orm: MikroORM, text: string, params: unknown[] = []) {
  return queryWithParams<T>(orm.em.fork(), text, params);
}

/** The materialised segment (reused) and an empty slate for this run. */
async function prepare(orm: MikroORM): Promise<number | null> {
  await sql(
    orm,
    `truncate campaigns.campaign, campaigns.campaign_enrollment, campaigns.campaign_variant,
       campaigns.campaign_audit, campaigns.outbox, campaigns.automation_send_log,
       campaigns.automation_event, campaigns.automation_customer, campaigns.processed_message`,
  );
  await sql(
    orm,
    `insert into campaigns.template_version (template_id, version, name)
     values ($1, 1, 'Bench 1'), ($2, 1, 'Bench 2') on conflict do nothing`,
    [T1, T2],
  );
  const [members] = await sql<{ n: number }>(
    orm,
    `select count(*)::int as n from campaigns.segment_member where segment_id = $1 and member`,
    [SEGMENT],
  );
  if (members!.n === RECIPIENTS) return null;
  const started = performance.now();
  await sql(orm, `delete from campaigns.segment_member where segment_id = $1`, [SEGMENT]);
  await sql(
    orm,
    `insert into campaigns.segment_member (segment_id, customer_id, member, changed_at)
     select $1::uuid, 'c' || i, true, now() from generate_series(1, $2::int) i`,
    [SEGMENT, RECIPIENTS],
  );
  await sql(orm, `vacuum analyze campaigns.segment_member`);
  return seconds(started);
}

async function enqueueBroadcast(orm: MikroORM) {
  const service = new CampaignService(orm.em.fork());
  const campaign = await service.create(
    {
      name: 'Bench broadcast',
      kind: CampaignKind.BROADCAST,
      segmentId: SEGMENT,
      variants: [
        { name: 'A', weight: 1, templateId: T1 },
        { name: 'B', weight: 1, templateId: T2 },
      ],
    },
    MARKETER,
  );
  const started = performance.now();
  await new CampaignService(orm.em.fork()).launch(campaign.id, MARKETER);
  const launch = seconds(started);
  const dispatchStarted = performance.now();
  let requested = 0;
  let ticks = 0;
  for (;;) {
    const n = await dispatchOnce({
      orm,
      logger,
      ratePerSecond: (SLICE * 1_000) / TICK_MS,
      tickMs: TICK_MS,
    });
    requested += n;
    ticks++;
    if (n === 0) break;
  }
  const dispatch = seconds(dispatchStarted);
  const [state] = await sql<{ status: string; requests: number }>(
    orm,
    `select (select status from campaigns.campaign where id = $1) as status,
            (select count(*)::int from campaigns.outbox where subject = 'marketing.sends') as requests`,
    [campaign.id],
  );
  if (state!.status !== CampaignStatus.COMPLETED || requested !== RECIPIENTS)
    throw new Error(`broadcast not complete: ${JSON.stringify({ ...state, requested })}`);
  return { launch, dispatch, ticks, requests: state!.requests };
}

/** The same rows written by hand, set-based, into copies of the tables. */
async function baselineEnqueue(orm: MikroORM) {
  await sql(orm, `create schema if not exists bench`);
  await sql(
    orm,
    `drop table if exists bench.enrollment_copy, bench.outbox_copy, bench.send_log_copy`,
  );
  await sql(
    orm,
    `create table bench.enrollment_copy (like campaigns.campaign_enrollment including all)`,
  );
  await sql(orm, `create table bench.outbox_copy (like campaigns.outbox including all)`);
  await sql(
    orm,
    `create table bench.send_log_copy (like campaigns.automation_send_log including all)`,
  );
  const started = performance.now();
  await sql(
    orm,
    `insert into bench.enrollment_copy (id, campaign_id, customer_id, entry_key, variant_id, status,
       current_step, entered_at)
     select gen_random_uuid(), gen_random_uuid(), m.customer_id, 'broadcast', $2::uuid, 'ACTIVE',
       'queued', now()
     from campaigns.segment_member m where m.segment_id = $1 and m.member`,
    [SEGMENT, T1],
  );
  const launch = seconds(started);
  const dispatchStarted = performance.now();
  await orm.em.fork().transactional(async (em) => {
    await queryWithParams(
      em,
      `insert into bench.outbox_copy (subject, message_id, data, created_at)
       select 'marketing.sends', 'send:' || e.campaign_id || ':' || e.customer_id,
         jsonb_build_object('type', 'email.send.requested',
           'dedupeKey', 'campaign:' || e.campaign_id || ':' || e.customer_id,
           'customerId', e.customer_id, 'templateId', e.variant_id, 'templateVersion', 1,
           'campaignId', e.campaign_id, 'variantId', e.variant_id, 'topic', null,
           'requestedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
         now()
       from bench.enrollment_copy e`,
      [],
    );
    await queryWithParams(
      em,
      `insert into bench.send_log_copy (dedupe_key, customer_id, campaign_id, sent_at)
       select 'campaign:' || e.campaign_id || ':' || e.customer_id, e.customer_id, e.campaign_id, now()
       from bench.enrollment_copy e`,
      [],
    );
    await queryWithParams(
      em,
      `update bench.enrollment_copy set status = 'COMPLETED', current_step = 'send requested',
         exited_at = now()`,
      [],
    );
  });
  const dispatch = seconds(dispatchStarted);
  await sql(orm, `drop table bench.enrollment_copy, bench.outbox_copy, bench.send_log_copy`);
  return { launch, dispatch };
}

const WORKFLOW = {
  trigger: { on: { type: 'event', event: 'Bench Signed Up' }, reentry: { policy: 'always' } },
  steps: [
    {
      id: 'big',
      type: 'branch',
      condition: { attribute: 'event.total', op: 'gte', value: 50 },
      then: 'vip',
      else: 'regular',
    },
    { id: 'vip', type: 'sendEmail', templateId: T1, next: 'done' },
    { id: 'regular', type: 'sendEmail', templateId: T2, next: 'done' },
    { id: 'done', type: 'exit' },
  ],
};
const STEPS_PER_ENROLMENT = 3;
type WorkOptions = { batchSize: number; localConcurrency: number; pollingIntervalSeconds: number };
/** The step workers' options in startAutomationJobs. */
const CONFIGURED: WorkOptions = {
  batchSize: 1,
  localConcurrency: CONCURRENCY,
  pollingIntervalSeconds: 0.5,
};
/** pg-boss 12 sleeps the polling interval after every fetch unless a burst trigger is on. */
const BURST = { ...CONFIGURED, batchSize: 10, burstWhenBatchFull: true };

/** Items counted per second over BENCH_AUTOMATION_SECONDS, or until `total` is reached. */
async function ratePerSecond(count: () => Promise<number>, total: number): Promise<number> {
  const first = await count();
  const started = performance.now();
  let now = first;
  while (now < total && seconds(started) < WINDOW_SECONDS) {
    await new Promise((r) => setTimeout(r, 100));
    now = await count();
  }
  return (now - first) / seconds(started);
}

async function automationThroughput(orm: MikroORM, url: string) {
  const settings = { frequencyCap: null, quietHours: null, defaultTimezone: 'UTC' };
  await sql(orm, `delete from campaigns_jobs.job`).catch(() => {});
  const campaign = await new CampaignService(orm.em.fork()).create(
    {
      name: 'Bench automation',
      kind: CampaignKind.AUTOMATION,
      variants: [],
      trigger: WORKFLOW.trigger,
      steps: WORKFLOW.steps,
    },
    MARKETER,
  );
  await new CampaignService(orm.em.fork()).launch(campaign.id, MARKETER);
  // Enrolment with the step workers off, so that the drain below is timed alone.
  const jobOptions = { orm, databaseUrl: url, logger, settings };
  const enroller = await startAutomationJobs(jobOptions);
  await enroller.boss.offWork(STEP_QUEUE);
  const at = new Date(Date.now() + 1_000).toISOString();
  const enrolStarted = performance.now();
  for (let i = 0; i < ENROLMENTS; i += 500) {
    const batch = Array.from({ length: Math.min(500, ENROLMENTS - i) }, (_, k) => ({
      type: 'track' as const,
      messageId: `bench-${i + k}`,
      userId: `a${i + k}`,
      event: 'Bench Signed Up',
      properties: { total: (i + k) % 100 },
      timestamp: at,
      receivedAt: at,
    }));
    await enroller.engine.onIngested(batch);
  }
  const enrol = seconds(enrolStarted);
  await enroller.stop();

  const finished = async () =>
    (
      await sql<{ n: number }>(
        orm,
        `select count(*)::int as n from campaigns.campaign_enrollment where campaign_id = $1 and status <> 'ACTIVE'`,
        [campaign.id],
      )
    )[0]!.n;
  // As the service runs them: startAutomationJobs' own step workers.
  const configured = await startAutomationJobs({ ...jobOptions, concurrency: CONCURRENCY });
  const stepJobs = await ratePerSecond(finished, ENROLMENTS);
  await configured.stop();
  // The same engine with workers that fetch again at once while their batches come back full.
  const tuned = await startAutomationJobs({ ...jobOptions, concurrency: CONCURRENCY });
  await tuned.boss.offWork(STEP_QUEUE);
  await tuned.boss.work<StepJob>(STEP_QUEUE, BURST, async (jobs) => {
    for (const job of jobs) await tuned.engine.run(job.data);
  });
  const burstStepJobs = await ratePerSecond(finished, ENROLMENTS);
  await tuned.boss.offWork(STEP_QUEUE);

  // Baseline: no-op jobs through pg-boss with the same two sets of worker options.
  const noop = async (queue: string, options: WorkOptions) => {
    await tuned.boss.createQueue(queue);
    await tuned.boss.deleteAllJobs(queue);
    for (let i = 0; i < ENROLMENTS; i += 1_000)
      await tuned.boss.insert(
        queue,
        Array.from({ length: Math.min(1_000, ENROLMENTS - i) }, (_, k) => ({ data: { n: i + k } })),
      );
    let done = 0;
    await tuned.boss.work(queue, options, async (jobs) => {
      done += jobs.length;
    });
    const rate = await ratePerSecond(async () => done, ENROLMENTS);
    await tuned.boss.offWork(queue);
    return rate;
  };
  const noopJobs = await noop('bench-noop', CONFIGURED);
  const burstNoopJobs = await noop('bench-noop-burst', BURST);
  await tuned.stop();
  // Every finished enrolment asked for exactly one email.
  const [outcome] = await sql<{ exited: number; sends: number }>(
    orm,
    `select count(*) filter (where status = 'EXITED')::int as exited,
       (select count(*)::int from campaigns.outbox where subject = 'marketing.sends'
          and data->>'campaignId' = $1::text) as sends
     from campaigns.campaign_enrollment where campaign_id = $1::uuid`,
    [campaign.id],
  );
  if (outcome!.exited !== outcome!.sends || outcome!.exited === 0)
    throw new Error(`automation inconsistent: ${JSON.stringify(outcome)}`);
  return { enrol, stepJobs, burstStepJobs, noopJobs, burstNoopJobs, finished: outcome!.exited };
}

export async function run(): Promise<void> {
  const runStarted = performance.now();
  const { orm, url } = await openBenchDatabase();
  try {
    const generated = await prepare(orm);
    // Both the baseline and the launch read the whole segment: neither pays for a cold cache.
    await sql(orm, `select count(*) from campaigns.segment_member where segment_id = $1`, [
      SEGMENT,
    ]);
    const load = loadavg()[0]!;
    const base = await baselineEnqueue(orm);
    const broadcast = await enqueueBroadcast(orm);
    const automation = await automationThroughput(orm, url);
    const total = broadcast.launch + broadcast.dispatch;
    const measurements: Measurement[] = [
      {
        name: `enqueue ${RECIPIENTS.toLocaleString('en')}-recipient broadcast (launch + dispatch)`,
        value: total,
        unit: 's',
        baseline: base.launch + base.dispatch,
        better: 'lower',
        target: RECIPIENTS === 1_000_000 ? '< 30 s' : '',
      },
      {
        name: 'launch: audience snapshot',
        value: broadcast.launch,
        unit: 's',
        baseline: base.launch,
        better: 'lower',
      },
      {
        name: `dispatch: send requests into the outbox (${SLICE.toLocaleString('en')} per tick)`,
        value: broadcast.dispatch,
        unit: 's',
        baseline: base.dispatch,
        better: 'lower',
      },
      {
        name: 'enqueue rate',
        value: RECIPIENTS / total,
        unit: 'recipients/s',
        baseline: RECIPIENTS / (base.launch + base.dispatch),
        better: 'higher',
      },
      {
        name: `automation steps, as configured (batch 1, concurrency ${CONCURRENCY})`,
        value: automation.stepJobs * STEPS_PER_ENROLMENT,
        unit: 'steps/s',
        better: 'higher',
      },
      {
        name: 'automation step jobs, as configured, vs no-op jobs',
        value: automation.stepJobs,
        unit: 'jobs/s',
        baseline: automation.noopJobs,
        better: 'higher',
      },
      {
        name: 'automation step jobs, burst workers (batch 10), vs no-op jobs',
        value: automation.burstStepJobs,
        unit: 'jobs/s',
        baseline: automation.burstNoopJobs,
        better: 'higher',
      },
      {
        name: 'automation steps, burst workers (batch 10)',
        value: automation.burstStepJobs * STEPS_PER_ENROLMENT,
        unit: 'steps/s',
        better: 'higher',
      },
      {
        name: 'automation enrolment (event trigger, batches of 500)',
        value: ENROLMENTS / automation.enrol,
        unit: 'enrolments/s',
        better: 'higher',
      },
    ];
    report('broadcast', measurements, {
      recipients: RECIPIENTS,
      slice: SLICE,
      ticks: broadcast.ticks,
      automationEnrolments: ENROLMENTS,
      automationConcurrency: CONCURRENCY,
      automationWindowSeconds: WINDOW_SECONDS,
      automationEnrolmentsFinished: automation.finished,
      stepsPerJob: STEPS_PER_ENROLMENT,
      audienceGeneratedSeconds: generated === null ? 'reused' : Math.round(generated),
      loadAverage1m: Math.round(load * 100) / 100,
      runSeconds: Math.round(seconds(runStarted)),
      baseline:
        'same rows written by hand: insert ... select of the enrolments into a copy of campaign_enrollment, then insert ... select of the send requests into a copy of the outbox and one update; no-op jobs through pg-boss with the same worker options (steps/s is compared with no-op jobs/s: one step job runs 3 steps)',
    });
  } finally {
    await orm.close();
  }
}
