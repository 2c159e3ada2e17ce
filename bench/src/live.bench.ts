/**
 * Live campaign stats: 1,000 dashboards subscribed to `campaignStatsUpdated` (10 campaigns x 100,
 * a mix of identical and distinct selections) through the gateway while email opens stream onto
 * the bus. Measures event-to-client latency: from an event's publish to the first update each
 * subscriber receives whose open count includes it, so the analytics subgraph's throttle (at most
 * two updates a second per subscription, latest state wins) is inside the figure. Two rates: paced
 * (one event per campaign per second, slower than the throttle) and streaming (ten per campaign per
 * second, where the throttle holds updates back by design). Also the gateway's memory over time.
 *
 * Baselines, measured in the same run: the same 1,000 subscriptions made directly to the analytics
 * subgraph (no gateway: no sharing, no entity fetch for `campaign { name }`); and one direct
 * subscription per distinct (campaign, selection), the upstreams the gateway opens, which leaves
 * the gateway's own hop and entity fetch as the difference.
 *
 * Processes: this one runs the subgraphs and publishes the events; the gateway under test is its
 * production entry point in a process of its own (its memory alone); the subscribers run in a
 * worker thread.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  createEventBus,
  EMAIL_EVENTS_SUBJECT,
  GatewayProof,
  PROOF_HEADER,
  type EventBus,
} from '@marketing/platform';
import {
  createTestDatabase,
  startServiceProcess,
  waitFor,
  type ServiceProcess,
} from '@marketing/platform/testing';
import { SUBGRAPHS, startStack, type RunningStack } from '@marketing/stack';
import {
  now,
  type Subscriber,
  type SubscribersInput,
  type SubscribersReport,
  type SubscribersRequest,
} from './live-subscribers.js';
import { percentile, report, type Measurement } from './report.js';

const CAMPAIGNS = Number(process.env.BENCH_LIVE_CAMPAIGNS ?? 10);
const PER_CAMPAIGN = Number(process.env.BENCH_LIVE_PER_CAMPAIGN ?? 100);
const PHASE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 20);
/** Paced: one event per campaign per second (the throttle never holds an update back). */
const PACED_PER_CAMPAIGN = 1;
/**
 * Streaming: three events per campaign per second on average (Poisson arrivals), above the
 * throttle's two updates a second, so updates coalesce (by design). At ten per campaign (BENCH_LIVE_STREAM_RATE=10, 100 events/s) the
 * in-process subgraphs saturate their one event loop on a 2-core machine and latency grows with
 * the backlog for as long as the phase lasts, with or without the gateway.
 */
const STREAM_PER_CAMPAIGN = Number(process.env.BENCH_LIVE_STREAM_RATE ?? 3);
const TARGET_P99_MS = 250;
const AFTER_MS = 12_000;

type Phase = 'warmup' | 'paced' | 'stream';
const PHASES: Phase[] = ['warmup', 'paced', 'stream'];

/**
 * Selections per 100 subscribers of a campaign: 40, 30 and 20 identical ones (shared at the
 * gateway) and 10 distinct ones (an alias each); `campaign { name }` is federated.
 */
const SELECTIONS = [
  { share: 40, fields: (c: string) => `uniqueOpens campaign { ${c} }`, name: 'name' },
  {
    share: 30,
    fields: (c: string) => `uniqueOpens sent delivered campaign { ${c} }`,
    name: 'name status',
  },
  { share: 20, fields: () => `uniqueOpens uniqueClicks openRate` },
  {
    share: 10,
    fields: (c: string, i: number) => `uniqueOpens d${i}: sent campaign { ${c} }`,
    name: 'name',
  },
] as const;

function subscribers(campaigns: { id: string; name: string }[], viaGateway: boolean): Subscriber[] {
  const list: Subscriber[] = [];
  campaigns.forEach((campaign, c) => {
    for (let i = 0; i < PER_CAMPAIGN; i++) {
      let slot = i % 100;
      const kind = SELECTIONS.findIndex((s) => (slot -= s.share) < 0);
      const selection = SELECTIONS[kind]!;
      // Only the gateway resolves a campaign's name (the campaigns subgraph owns it).
      const campaignFields = 'name' in selection ? (viaGateway ? selection.name : 'id') : '';
      list.push({
        campaign: c,
        campaignId: campaign.id,
        kind,
        query: `subscription ($id: ID!) { campaignStatsUpdated(campaignId: $id) { ${selection.fields(campaignFields, i)} } }`,
        name: viaGateway && 'name' in selection ? campaign.name : undefined,
      });
    }
  });
  return list;
}

/** What was published: per campaign, the publish time and phase of its k-th open (k from 1). */
class PublishLog {
  readonly at: number[][] = Array.from({ length: CAMPAIGNS }, () => []);
  readonly phase: Phase[][] = Array.from({ length: CAMPAIGNS }, () => []);
}

/** A seeded generator (mulberry32): every run streams the same arrival times. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Publishes email opens at `perCampaignPerSecond` for `seconds`. `paced`: evenly spaced, round
 * robin over the campaigns. `random`: Poisson arrivals (exponential gaps, each to a random
 * campaign), so that no fixed rhythm of events beats against the throttle's 500 ms rhythm.
 */
async function stream(
  bus: EventBus,
  campaignIds: string[],
  perCampaignPerSecond: number,
  seconds: number,
  phase: Phase,
  log: PublishLog,
  arrivals: 'paced' | 'random',
): Promise<void> {
  const interval = 1_000 / (perCampaignPerSecond * campaignIds.length);
  const total = Math.round((seconds * 1_000) / interval);
  const random = seeded(total);
  const started = performance.now();
  const publishing: Promise<void>[] = [];
  let offset = 0;
  for (let j = 0; j < total; j++) {
    offset = arrivals === 'paced' ? j * interval : offset - Math.log(1 - random()) * interval;
    const due = started + offset - performance.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    const c =
      arrivals === 'paced' ? j % campaignIds.length : Math.floor(random() * campaignIds.length);
    log.at[c]!.push(now());
    log.phase[c]!.push(phase);
    publishing.push(
      bus.publish([
        {
          id: randomUUID(),
          subject: EMAIL_EVENTS_SUBJECT,
          data: {
            type: 'email.opened',
            customerId: `live-${c}-${log.at[c]!.length}`,
            deliveryId: randomUUID(),
            campaignId: campaignIds[c],
            occurredAt: new Date().toISOString(),
            unique: true,
          },
        },
      ]),
    );
  }
  await Promise.all(publishing);
}

function ask<T>(worker: Worker, request: SubscribersRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== request.type) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(message as T);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.postMessage(request);
  });
}

interface MemorySample {
  at: number;
  label: string;
  rssMiB: number;
  heapUsedMiB: number;
  /** The gateway's CPU time since the previous sample, as a share of one core. */
  gatewayCpu: number;
  /** Event loop utilisation of this process's main thread (the subgraphs) since the previous sample. */
  subgraphsLoop: number;
}

/** Polls the gateway's own /metrics (process RSS and V8 heap) every 500 ms. */
function sampleMemory(gateway: ServiceProcess) {
  const samples: MemorySample[] = [];
  let label = 'idle';
  const started = now();
  let cpu = { at: now(), seconds: NaN };
  let loop = performance.eventLoopUtilization();
  const read = async () => {
    const text = await (await fetch(`${gateway.origin}/metrics`)).text();
    const metric = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    const seconds = metric('process_cpu_seconds_total') * 2 ** 20;
    const elu = performance.eventLoopUtilization(loop);
    loop = performance.eventLoopUtilization();
    samples.push({
      at: Math.round(now() - started),
      label,
      rssMiB: metric('process_resident_memory_bytes'),
      heapUsedMiB: metric('nodejs_heap_size_used_bytes'),
      gatewayCpu: round((seconds - cpu.seconds) / ((now() - cpu.at) / 1_000)),
      subgraphsLoop: round(elu.utilization),
    });
    cpu = { at: now(), seconds };
  };
  const timer = setInterval(() => void read().catch(() => {}), 500);
  return {
    samples,
    label: (next: string) => {
      label = next;
    },
    stop: () => clearInterval(timer),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

async function createCampaigns(stack: RunningStack, token: string) {
  const template = await stack.graphql(
    token,
    `mutation ($i: EmailTemplateInput!) { createEmailTemplate(input: $i) { id } }`,
    { i: { name: 'Live', subject: 'Live', html: '<p>Hello</p>' } },
  );
  const templateId = template.data.createEmailTemplate.id as string;
  const campaigns: { id: string; name: string }[] = [];
  for (let c = 0; c < CAMPAIGNS; c++) {
    const name = `Live campaign ${c}`;
    const created = await waitFor(
      () =>
        stack.graphql(token, `mutation ($i: CampaignInput!) { createCampaign(input: $i) { id } }`, {
          i: {
            name,
            kind: 'BROADCAST',
            segmentId: randomUUID(),
            variants: [{ name: 'A', weight: 1, templateId }],
          },
        }),
      (r) => r.data?.createCampaign !== undefined,
    );
    campaigns.push({ id: created.data.createCampaign.id as string, name });
  }
  return campaigns;
}

interface TargetResult {
  subscribers: number;
  connectSeconds: number;
  latencies: Record<Phase, number[]>;
  /** Median latency of the events published in each second of a phase. */
  timeline: Record<Phase, number[]>;
  byKind: number[][];
  updates: number;
  errors: string[];
  wrongNames: number;
  published: number;
}

/** Connects the subscribers to `url`, streams the three phases, collects the latencies. */
async function runTarget(options: {
  input: SubscribersInput;
  bus: EventBus;
  campaignIds: string[];
  log: PublishLog;
  onPhase: (label: string) => void;
}): Promise<TargetResult> {
  const { bus, campaignIds, log } = options;
  const worker = new Worker(fileURLToPath(new URL('./live-subscribers.js', import.meta.url)), {
    workerData: options.input,
  });
  try {
    const connecting = now();
    const connected = await ask<{ errors: number }>(worker, { type: 'connect' });
    const connectSeconds = (now() - connecting) / 1_000;
    if (connected.errors > 0) throw new Error(`${connected.errors} subscribers failed to connect`);
    options.onPhase('subscribed');
    const settle = async () => {
      const published = log.at.map((a) => a.length);
      await waitFor(
        () => ask<{ lowest: number[] }>(worker, { type: 'counts' }),
        (r) => r.lowest.every((n, c) => n >= published[c]!),
        30_000,
        200,
      );
    };
    const quiet = () => new Promise((resolve) => setTimeout(resolve, 1_000));
    const phaseStart: Record<Phase, number> = { warmup: now(), paced: 0, stream: 0 };
    options.onPhase('warmup');
    await stream(bus, campaignIds, STREAM_PER_CAMPAIGN, 3, 'warmup', log, 'random');
    await settle();
    // A second without events before each phase: the throttle's window (500 ms from the last
    // update) has passed, so the phase's first event is not held back by the previous phase's.
    await quiet();
    options.onPhase('paced');
    phaseStart.paced = now();
    await stream(bus, campaignIds, PACED_PER_CAMPAIGN, PHASE_SECONDS, 'paced', log, 'paced');
    await settle();
    await quiet();
    options.onPhase('stream');
    phaseStart.stream = now();
    await stream(bus, campaignIds, STREAM_PER_CAMPAIGN, PHASE_SECONDS, 'stream', log, 'random');
    await settle();
    options.onPhase('closing');
    const report = await ask<SubscribersReport>(worker, { type: 'close' });
    const latencies: Record<Phase, number[]> = { warmup: [], paced: [], stream: [] };
    const byKind: number[][] = SELECTIONS.map(() => []);
    const perSecond: Record<Phase, number[][]> = { warmup: [], paced: [], stream: [] };
    const r = report.records;
    for (let i = 0; i < r.length; i += 5) {
      const [c, from, to, at, kind] = [r[i]!, r[i + 1]!, r[i + 2]!, r[i + 3]!, r[i + 4]!];
      for (let k = from + 1; k <= to; k++) {
        const latency = at - log.at[c]![k - 1]!;
        const phase = log.phase[c]![k - 1]!;
        latencies[phase].push(latency);
        const second = Math.floor((log.at[c]![k - 1]! - phaseStart[phase]) / 1_000);
        (perSecond[phase][second] ??= []).push(latency);
        if (phase === 'paced') byKind[kind]!.push(latency);
      }
    }
    for (const list of [...Object.values(latencies), ...byKind]) list.sort((a, b) => a - b);
    const median = (list: number[] = []) =>
      Math.round(
        percentile(
          list.sort((a, b) => a - b),
          50,
        ),
      );
    return {
      subscribers: options.input.subscribers.length,
      connectSeconds,
      latencies,
      timeline: {
        warmup: [...perSecond.warmup].map(median),
        paced: [...perSecond.paced].map(median),
        stream: [...perSecond.stream].map(median),
      },
      byKind,
      updates: report.updates,
      errors: report.errors,
      wrongNames: report.wrongNames,
      published: log.at.reduce((n, a) => n + a.length, 0),
    };
  } finally {
    await worker.terminate();
  }
}

const gatewayScript = fileURLToPath(new URL('../../gateway/dist/main.js', import.meta.url));

export async function run(): Promise<void> {
  const load = { start: loadavg() };
  const db = await createTestDatabase('bench_live');
  const stack = await startStack({ databaseUrl: db.url, logLevel: 'error' });
  const bus = await createEventBus({ DATABASE_URL: db.url });
  const snapshots = mkdtempSync(join(tmpdir(), 'bench-live-heap-'));
  let gateway: ServiceProcess | undefined;
  try {
    const token = await stack.token(['marketer'], 'bench-dashboard');
    const campaigns = await createCampaigns(stack, token);
    const campaignIds = campaigns.map((c) => c.id);
    const { secrets } = stack;
    gateway = await startServiceProcess(gatewayScript, {
      NODE_ENV: 'production',
      DATABASE_URL: db.url,
      GATEWAY_PROOF_SECRET: secrets.proof,
      INGEST_WRITE_KEY: secrets.writeKey,
      AUTH_JWT_SECRET: secrets.jwt,
      AUTH_ISSUER: secrets.issuer,
      AUTH_AUDIENCE: secrets.audience,
      ...Object.fromEntries(SUBGRAPHS.map((e) => [e.gatewayUrlEnv, stack.subgraphs[e.name].url])),
      NODE_OPTIONS: [
        // BENCH_LIVE_PROFILE=<dir>: a CPU profile of the gateway, written when it exits.
        process.env.BENCH_LIVE_PROFILE
          ? `--cpu-prof --cpu-prof-dir=${process.env.BENCH_LIVE_PROFILE}`
          : '',
        // A heap snapshot on SIGUSR2 (taken after a full GC): the live heap once everyone left.
        `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}`,
      ].join(' '),
    });
    const memory = sampleMemory(gateway);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const log = new PublishLog();

    const proof = await new GatewayProof(secrets.proof).sign({
      sub: 'bench-dashboard',
      roles: ['marketer'],
    });
    memory.label('direct');
    const direct = await runTarget({
      input: {
        url: stack.subgraphs.analytics.url.replace(/^http/, 'ws'),
        connectionParams: { [PROOF_HEADER]: proof },
        subscribers: subscribers(campaigns, false),
      },
      bus,
      campaignIds,
      log,
      onPhase: (phase) => memory.label(`direct ${phase}`),
    });
    // Second baseline: one direct subscription per distinct (campaign, selection), i.e. the
    // upstreams the gateway opens, without the gateway: the hop and the entity fetch alone.
    const distinct = await runTarget({
      input: {
        url: stack.subgraphs.analytics.url.replace(/^http/, 'ws'),
        connectionParams: { [PROOF_HEADER]: proof },
        subscribers: subscribers(campaigns, false).filter(
          (s, i, all) =>
            all.findIndex((o) => o.query === s.query && o.campaign === s.campaign) === i,
        ),
      },
      bus,
      campaignIds,
      log,
      onPhase: (phase) => memory.label(`direct distinct ${phase}`),
    });
    memory.label('idle');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const viaGateway = await runTarget({
      input: {
        url: `${gateway.origin.replace(/^http/, 'ws')}/graphql`,
        connectionParams: { authorization: `Bearer ${token}` },
        subscribers: subscribers(campaigns, true),
      },
      bus,
      campaignIds,
      log,
      onPhase: (phase) => memory.label(`gateway ${phase}`),
    });
    memory.label('after');
    // RSS as it settles; then the live heap after a full GC (V8 rarely collects an idle process).
    await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
    const rssAfter = memory.samples.at(-1)!.rssMiB;
    // Last: writing a heap snapshot costs the process memory of its own.
    const heapAfterGc = await liveHeap(gateway, memory, snapshots, 'after, GC');
    memory.stop();
    load.start = load.start.map((n) => Math.round(n * 100) / 100);
    const loadEnd = loadavg().map((n) => Math.round(n * 100) / 100);

    for (const [name, result] of [
      ['direct', direct],
      ['direct distinct', distinct],
      ['gateway', viaGateway],
    ] as const) {
      if (result.errors.length > 0 || result.wrongNames > 0) {
        throw new Error(
          `${name}: ${result.errors.length} errors, ${result.wrongNames} wrong names: ${result.errors.slice(0, 3).join('; ')}`,
        );
      }
    }
    const peak = (label: string, key: 'rssMiB' | 'heapUsedMiB') =>
      Math.max(...memory.samples.filter((s) => s.label.startsWith(label)).map((s) => s[key]));
    const idle = (key: 'rssMiB' | 'heapUsedMiB') =>
      percentile(
        memory.samples
          .filter((s) => s.label === 'idle' || s.label.startsWith('direct'))
          .map((s) => s[key])
          .sort((a, b) => a - b),
        50,
      );
    const latency = (
      phase: Phase,
      p: number,
      target?: string,
      baseline: TargetResult = direct,
    ): Measurement => ({
      name: `event-to-client latency, ${phase === 'paced' ? 'paced 1 event/s per campaign' : `streaming ${STREAM_PER_CAMPAIGN} events/s per campaign`}: p${p}${baseline === distinct ? ` (baseline: ${distinct.subscribers} direct, one per distinct selection)` : ''}`,
      value: percentile(viaGateway.latencies[phase], p),
      baseline: percentile(baseline.latencies[phase], p),
      unit: 'ms',
      better: 'lower',
      target,
    });
    const subscriberCount = CAMPAIGNS * PER_CAMPAIGN;
    report(
      'live',
      [
        latency('paced', 50),
        latency('paced', 99, `p99 < ${TARGET_P99_MS} ms`),
        latency('stream', 50),
        latency('stream', 99, `p99 < ${TARGET_P99_MS} ms (throttle alone: up to 500 ms)`),
        latency('paced', 50, undefined, distinct),
        latency('paced', 99, undefined, distinct),
        latency('stream', 50, undefined, distinct),
        latency('stream', 99, undefined, distinct),
        {
          name: `${subscriberCount} subscribers connected and first result received`,
          value: viaGateway.connectSeconds,
          baseline: direct.connectSeconds,
          unit: 's',
          better: 'lower',
        },
        {
          name: `gateway RSS, peak with ${subscriberCount} subscribers (baseline: gateway idle)`,
          value: peak('gateway', 'rssMiB'),
          baseline: idle('rssMiB'),
          unit: 'MiB',
          better: 'lower',
        },
        {
          name: `gateway V8 heap used, peak with ${subscriberCount} subscribers (baseline: idle)`,
          value: peak('gateway', 'heapUsedMiB'),
          baseline: idle('heapUsedMiB'),
          unit: 'MiB',
          better: 'lower',
        },
        {
          name: 'gateway live heap (after a full GC) once every subscriber left (baseline: idle heap used, uncollected)',
          value: heapAfterGc,
          baseline: idle('heapUsedMiB'),
          unit: 'MiB',
          better: 'lower',
        },
        {
          name: `gateway RSS ${AFTER_MS / 1_000} s after every subscriber left (baseline: idle)`,
          value: rssAfter,
          baseline: idle('rssMiB'),
          unit: 'MiB',
          better: 'lower',
        },
      ],
      {
        subscribers: subscriberCount,
        campaigns: CAMPAIGNS,
        selections:
          '40% { uniqueOpens campaign { name } }, 30% { uniqueOpens sent delivered campaign { name status } }, 20% { uniqueOpens uniqueClicks openRate }, 10% distinct (an alias each, with campaign { name }); direct: campaign { id } instead of name',
        distinctGatewayUpstreams: CAMPAIGNS * (3 + PER_CAMPAIGN / 10),
        phaseSeconds: PHASE_SECONDS,
        rates: {
          paced: `${PACED_PER_CAMPAIGN}/s per campaign, ${PACED_PER_CAMPAIGN * CAMPAIGNS}/s in all`,
          stream: `${STREAM_PER_CAMPAIGN}/s per campaign on average (Poisson arrivals, seeded), ${STREAM_PER_CAMPAIGN * CAMPAIGNS}/s in all`,
        },
        latency:
          "publish on the bus (PostgreSQL event log) -> analytics consumer commit -> pg_notify -> subgraph subscription (throttled to 2/s per subscription) -> [gateway: shared upstream, entity fetch of campaign { name }] -> client; each event's latency is to the first update whose uniqueOpens includes it, per subscriber",
        samples: {
          gateway: Object.fromEntries(PHASES.map((p) => [p, viaGateway.latencies[p].length])),
          direct: Object.fromEntries(PHASES.map((p) => [p, direct.latencies[p].length])),
          directDistinct: Object.fromEntries(PHASES.map((p) => [p, distinct.latencies[p].length])),
        },
        pacedByKind: SELECTIONS.map((s, kind) => ({
          selection: s.fields('name', 0),
          gatewayP50: percentile(viaGateway.byKind[kind]!, 50),
          gatewayP99: percentile(viaGateway.byKind[kind]!, 99),
          directP99: percentile(direct.byKind[kind]!, 99),
        })),
        medianLatencyPerSecond: {
          gateway: { paced: viaGateway.timeline.paced, stream: viaGateway.timeline.stream },
          direct: { paced: direct.timeline.paced, stream: direct.timeline.stream },
          directDistinct: { paced: distinct.timeline.paced, stream: distinct.timeline.stream },
        },
        updatesReceived: { gateway: viaGateway.updates, direct: direct.updates },
        eventsPublished: log.at.reduce((n, a) => n + a.length, 0),
        loadAverage: { start: load.start, end: loadEnd },
        // Where the time goes: the gateway's CPU (share of a core) and the subgraphs' event loop.
        busyByPhase: Object.fromEntries(
          [...new Set(memory.samples.map((m) => m.label))].map((label) => {
            const list = memory.samples.filter((m) => m.label === label);
            const mean = (key: 'gatewayCpu' | 'subgraphsLoop') =>
              round(list.reduce((n, m) => n + (m[key] || 0), 0) / list.length);
            return [
              label,
              { gatewayCpu: mean('gatewayCpu'), subgraphsLoop: mean('subgraphsLoop') },
            ];
          }),
        ),
        memorySamples: memory.samples,
      },
    );
  } finally {
    await gateway?.stop();
    await bus.close();
    await stack.close();
    await db.drop();
    rmSync(snapshots, { recursive: true, force: true });
  }
}

/**
 * The gateway's live heap: a heap snapshot (which V8 takes after a full GC) is written on
 * SIGUSR2; the heap used reported once it is written is what survived the collection.
 */
async function liveHeap(
  gateway: ServiceProcess,
  memory: ReturnType<typeof sampleMemory>,
  dir: string,
  label: string,
): Promise<number> {
  const written = readdirSync(dir).length;
  memory.label(label);
  gateway.child.kill('SIGUSR2');
  const file = await waitFor(
    () => readdirSync(dir).slice(written)[0],
    (name) => name !== undefined,
    60_000,
    200,
  );
  let size = -1;
  await waitFor(
    () => {
      const before = size;
      size = statSync(join(dir, file!)).size;
      return size > 0 && size === before;
    },
    (stable) => stable,
    60_000,
    1_000,
  );
  rmSync(join(dir, file!));
  const after = memory.samples.length;
  await waitFor(
    () => memory.samples.length,
    (n) => n > after + 1,
  );
  return memory.samples.at(-1)!.heapUsedMiB;
}
