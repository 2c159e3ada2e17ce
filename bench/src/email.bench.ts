/**
 * Email delivery throughput: personalised, tracked messages per second handed to a loopback SMTP
 * server by the delivery sender (claim, consent and suppression checks, pinned template version,
 * Liquid render, click-tracking links, open pixel, List-Unsubscribe headers, SENDING mark,
 * pooled SMTP, outcomes with history and outbox events), beside raw pooled nodemailer sends of
 * the same message in the same run: the service's own transport (nodemailer, `pool: true`, the
 * same number of connections) fed pre-rendered messages as fast as it takes them, measured
 * before and after the service path (the faster of the two is the baseline).
 *
 * The SMTP sink (smtp-server, nothing parsed) runs in its own process so that it does not share
 * the measured process's CPU; it counts messages and their Message-IDs and reports over IPC.
 * The service path works a fresh database (`t_bench_email_*` on DATABASE_URL's server): N
 * recipients with consent (identify traits), one template, N send requests queued, then
 * BENCH_EMAIL_SENDERS `DeliverySender`s in this process until every row is DELIVERED. Checked: the
 * sink received exactly N distinct Message-IDs, the ones the ledger recorded. CPU time per
 * message of this process, of the sink and of the rest of the machine (PostgreSQL) is reported
 * beside each rate, and the sender's time by stage (claim, checks, build, markSending, smtp,
 * record).
 *
 * BENCH_EMAILS (20,000) messages; BENCH_EMAIL_CONNECTIONS (5) pooled SMTP connections for both
 * paths; BENCH_EMAIL_SENDERS (1), BENCH_EMAIL_GROUP (2 x connections, as the service) and
 * BENCH_EMAIL_BATCH (200) shape the sender; BENCH_EMAIL_TEMPLATE=mjml renders an MJML template
 * instead of HTML; BENCH_EMAIL_CPU_PROFILE=<file> writes a CPU profile of the service path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { emailSubgraph, loadEmailConfig } from '@marketing/email';
import { migrate, openDatabase, type IdentifyMessage, type SendRequest } from '@marketing/platform';
import { createTestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
// Not exported by @marketing/email (its index exports the subgraph, the config and the entities).
import { enqueueSends } from '../../subgraphs/email/dist/delivery/ledger.js';
import { createMessageBuilder } from '../../subgraphs/email/dist/delivery/message-builder.js';
import {
  DeliverySender,
  type DeliveryRow,
  type MessageBuilder,
  type Recipient,
} from '../../subgraphs/email/dist/delivery/sender.js';
import {
  createMailTransport,
  type MailTransport,
  type OutgoingMessage,
} from '../../subgraphs/email/dist/delivery/transport.js';
import { applyIdentifies } from '../../subgraphs/email/dist/recipient/recipient.consumer.js';
import { createEmailRuntime } from '../../subgraphs/email/dist/runtime.js';
import { TemplateService } from '../../subgraphs/email/dist/template/template.service.js';
import { report, type Measurement } from './report.js';

const EMAILS = Number(process.env.BENCH_EMAILS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_EMAIL_CONNECTIONS ?? 5);
const SENDERS = Number(process.env.BENCH_EMAIL_SENDERS ?? 1);
/** The service hands 2 x EMAIL_SMTP_CONNECTIONS messages to SMTP together (service.ts). */
const GROUP = Number(process.env.BENCH_EMAIL_GROUP ?? CONNECTIONS * 2);
const BATCH = Number(process.env.BENCH_EMAIL_BATCH ?? 200);
const TEMPLATE_KIND = process.env.BENCH_EMAIL_TEMPLATE === 'mjml' ? 'mjml' : 'html';
/** A file: the service path (only) is CPU-profiled into it (a .cpuprofile for DevTools). */
const PROFILE = process.env.BENCH_EMAIL_CPU_PROFILE;
/** Raw sends in flight at once (nodemailer's pool queues them over its connections). */
const RAW_IN_FLIGHT = 200;
const RAW_WARMUP = 500;
const SETUP_CHUNK = 2_000;
const TARGET_RATIO = 0.7;
const FROM = 'Example Shop <news@shop.example>';
const PUBLIC_URL = 'https://shop.example';
const CAMPAIGN = '00000000-0000-4000-8000-0000000000b1';
const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;

// ---------------------------------------------------------------------------------------------
// The SMTP sink, in its own process
// ---------------------------------------------------------------------------------------------

/** CommonJS, run with `node -e`: smtp-server without parsing; Message-IDs read from the header. */
const SINK_SCRIPT = String.raw`
const { SMTPServer } = require(process.env.SMTP_SERVER_MODULE);
let received = 0, bytes = 0, duplicates = 0, withoutId = 0, expect = 0, cpu = process.cpuUsage();
const ids = new Set();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, session, callback) {
    let head = '';
    let headDone = false;
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      if (headDone) return;
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) { head = head.slice(0, end); headDone = true; }
    });
    stream.on('end', () => {
      const m = /^message-id:[ \t]*(.*(?:\r\n[ \t].*)*)/im.exec(head);
      const id = m ? m[1].replace(/\r\n[ \t]+/g, ' ').trim() : '';
      if (!id) withoutId++;
      else if (ids.has(id)) duplicates++;
      else ids.add(id);
      received++;
      callback(null, 'OK: queued');
      if (expect > 0 && received >= expect) { expect = 0; process.send({ type: 'reached', received }); }
    });
  },
});
server.on('error', (error) => { console.error('sink:', error); });
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.server.address().port }));
process.on('message', (m) => {
  if (m.type === 'expect') {
    if (received >= m.n) process.send({ type: 'reached', received });
    else expect = m.n;
  } else if (m.type === 'stats') {
    const used = process.cpuUsage(cpu);
    process.send({ type: 'stats', received, bytes, duplicates, withoutId, distinct: ids.size,
      cpuMs: (used.user + used.system) / 1000, ids: m.ids ? [...ids] : [] });
  } else if (m.type === 'reset') {
    received = 0; bytes = 0; duplicates = 0; withoutId = 0; expect = 0; ids.clear();
    cpu = process.cpuUsage();
    process.send({ type: 'reset' });
  }
});
process.on('disconnect', () => server.close(() => process.exit(0)));
`;

interface SinkStats {
  received: number;
  bytes: number;
  duplicates: number;
  withoutId: number;
  distinct: number;
  /** CPU time of the sink process since the last reset. */
  cpuMs: number;
  ids: string[];
}

interface SinkMessage extends Partial<SinkStats> {
  type: string;
  port?: number;
}

class SinkProcess {
  private readonly waiting = new Map<string, (m: SinkMessage) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (m: SinkMessage) => {
      const resolve = this.waiting.get(m.type);
      this.waiting.delete(m.type);
      resolve?.(m);
    });
  }

  static async start(): Promise<SinkProcess> {
    const smtpServer = createRequire(import.meta.url).resolve('smtp-server');
    const child = spawn(process.execPath, ['-e', SINK_SCRIPT], {
      env: { ...process.env, NODE_OPTIONS: '', SMTP_SERVER_MODULE: smtpServer },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<SinkMessage>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code})`)));
    });
    return new SinkProcess(child, `smtp://127.0.0.1:${ready.port}?starttls=off`);
  }

  private ask(message: Record<string, unknown>, answer: string): Promise<SinkMessage> {
    return new Promise((resolve) => {
      this.waiting.set(answer, resolve);
      this.child.send(message);
    });
  }

  /** Resolves once the sink has received `n` messages since the last reset. */
  reached(n: number): Promise<SinkMessage> {
    return this.ask({ type: 'expect', n }, 'reached');
  }

  async stats(ids = false): Promise<SinkStats> {
    return (await this.ask({ type: 'stats', ids }, 'stats')) as SinkStats;
  }

  async reset(): Promise<void> {
    await this.ask({ type: 'reset' }, 'reset');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}

/** Busy CPU time of the whole machine in ms (Linux /proc/stat; null elsewhere). */
function machineBusyMs(): number | null {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1, 9);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks.map(Number);
    void idle;
    void iowait;
    return (user! + nice! + system! + irq! + softirq! + steal!) * 10;
  } catch {
    return null;
  }
}

/** CPU microseconds per message of this process, the sink, and the rest of the machine. */
interface CpuPerMessage {
  bench: number;
  sink: number;
  /** PostgreSQL, and whatever else runs on the machine. */
  rest: number | null;
}

function cpuMeter() {
  const bench = process.cpuUsage();
  const machine = machineBusyMs();
  return (sinkMs: number, messages: number): CpuPerMessage => {
    const used = process.cpuUsage(bench);
    const benchMs = (used.user + used.system) / 1000;
    const now = machineBusyMs();
    const per = (ms: number) => Math.round((ms * 1000) / messages);
    return {
      bench: per(benchMs),
      sink: per(sinkMs),
      rest: now === null || machine === null ? null : per(now - machine - benchMs - sinkMs),
    };
  };
}

// ---------------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------------

const FIRST_NAMES = ['Ann', 'Bob', 'Chloé', 'Dmitri', 'Eve', 'Farah', 'Gus', 'Hana', 'Ivo'];

const PRODUCTS = [
  { name: 'Trail running shoes', price: 119.9, url: 'https://shop.example/p/trail-shoes?c=42' },
  { name: 'Merino socks (3 pack)', price: 24.5, url: 'https://shop.example/p/merino-socks' },
  { name: 'Water bottle 750 ml', price: 18, url: 'https://shop.example/p/bottle-750' },
];

/** Subject, preheader and a loop over the event's products; a few links; no text part. */
const HTML_TEMPLATE = {
  name: 'Bench: abandoned cart',
  subject: '{{ customer.firstName | default: "there" }}, your cart is waiting',
  preheader: '{{ event.products | size }} items saved for you',
  html: `<!doctype html>
<html><head><meta charset="utf-8"><title>Your cart</title>
<style>body{margin:0;background:#f3f4f6;font-family:Arial,Helvetica,sans-serif}
.wrap{max-width:600px;margin:0 auto;background:#fff}.btn{background:#111827;color:#fff;padding:12px 20px;text-decoration:none;border-radius:4px}
td{padding:8px 16px;font-size:14px;line-height:20px;color:#111827}</style></head>
<body><table class="wrap" role="presentation" width="100%" cellpadding="0" cellspacing="0">
<tr><td><a href="https://shop.example/?utm_source=email&amp;utm_campaign=cart"><img src="https://cdn.shop.example/logo.png" alt="Example Shop" width="120"></a></td></tr>
<tr><td><h1 style="font-size:22px">Hi {{ customer.firstName | default: "there" }},</h1>
<p>You left {{ event.products | size }} items in your cart. They are still available, but not for long.</p></td></tr>
{% for p in event.products %}<tr><td><table role="presentation" width="100%"><tr>
<td width="96"><img src="https://cdn.shop.example/img/{{ forloop.index }}.jpg" alt="" width="80"></td>
<td><a href="{{ p.url }}" style="color:#111827;font-weight:bold">{{ p.name }}</a><br>{{ p.price | times: 1.0 }} EUR</td>
</tr></table></td></tr>
{% endfor %}<tr><td style="padding:24px 16px"><a class="btn" href="https://shop.example/cart?utm_source=email&amp;utm_campaign=cart">Back to your cart</a></td></tr>
<tr><td><p>Questions? Our team answers at <a href="https://shop.example/help">shop.example/help</a>.
{% if customer.plan == "pro" %}As a Pro member, shipping is on us.{% endif %}</p></td></tr>
</table></body></html>`,
};

const MJML_TEMPLATE = {
  name: 'Bench: abandoned cart (MJML)',
  subject: HTML_TEMPLATE.subject,
  preheader: HTML_TEMPLATE.preheader,
  mjml: `<mjml><mj-body background-color="#f3f4f6">
<mj-section background-color="#ffffff"><mj-column>
<mj-image width="120px" src="https://cdn.shop.example/logo.png" href="https://shop.example/?utm_source=email&amp;utm_campaign=cart" alt="Example Shop" />
<mj-text font-size="22px">Hi {{ customer.firstName | default: "there" }},</mj-text>
<mj-text>You left {{ event.products | size }} items in your cart. They are still available, but not for long.</mj-text>
</mj-column></mj-section>
{% for p in event.products %}<mj-section background-color="#ffffff">
<mj-column width="25%"><mj-image width="80px" src="https://cdn.shop.example/img/{{ forloop.index }}.jpg" alt="" /></mj-column>
<mj-column width="75%"><mj-text><a href="{{ p.url }}" style="color:#111827;font-weight:bold">{{ p.name }}</a><br />{{ p.price | times: 1.0 }} EUR</mj-text></mj-column>
</mj-section>{% endfor %}
<mj-section background-color="#ffffff"><mj-column>
<mj-button background-color="#111827" href="https://shop.example/cart?utm_source=email&amp;utm_campaign=cart">Back to your cart</mj-button>
<mj-text>Questions? Our team answers at <a href="https://shop.example/help">shop.example/help</a>.{% if customer.plan == "pro" %} As a Pro member, shipping is on us.{% endif %}</mj-text>
</mj-column></mj-section>
</mj-body></mjml>`,
};

function identifies(tag: string): IdentifyMessage[] {
  const at = new Date().toISOString();
  return Array.from({ length: EMAILS }, (_, i) => {
    const traits: Record<string, unknown> = {
      email: `c${i}@mail${i % 40}.example`,
      emailConsent: true,
      plan: i % 3 === 0 ? 'pro' : 'basic',
    };
    // Every tenth recipient has no first name: the `default` filter is exercised.
    if (i % 10 !== 0) traits.firstName = FIRST_NAMES[i % FIRST_NAMES.length];
    return {
      type: 'identify',
      messageId: `${tag}-identify-${i}`,
      userId: `c${i}`,
      traits,
      timestamp: at,
      receivedAt: at,
    } as IdentifyMessage;
  });
}

function sendRequests(tag: string, templateId: string): SendRequest[] {
  const at = new Date().toISOString();
  return Array.from({ length: EMAILS }, (_, i) => ({
    type: 'email.send.requested' as const,
    dedupeKey: `${tag}:c${i}`,
    customerId: `c${i}`,
    templateId,
    campaignId: CAMPAIGN,
    topic: 'newsletter',
    event: { products: PRODUCTS.slice(0, 1 + (i % PRODUCTS.length)) },
    requestedAt: at,
  }));
}

async function chunked<T>(items: T[], each: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += SETUP_CHUNK) await each(items.slice(i, i + SETUP_CHUNK));
}

// ---------------------------------------------------------------------------------------------
// Raw pooled nodemailer
// ---------------------------------------------------------------------------------------------

/** Pre-rendered copies of `sample` (own recipient and Message-ID each) through a fresh pool. */
async function rawRate(sink: SinkProcess, sample: OutgoingMessage, label: string) {
  const transport = createMailTransport({
    smtpUrl: sink.url,
    mailDir: '/nonexistent',
    maxConnections: CONNECTIONS,
  });
  const copy = (i: number, kind: string) => ({
    ...sample,
    to: `c${i}@mail${i % 40}.example`,
    messageId: `<${label}-${kind}${i}@shop.example>`,
  });
  // Warm: the pool's connections open and nodemailer's code is optimised before the clock starts.
  await Promise.all(Array.from({ length: RAW_WARMUP }, (_, i) => transport.send(copy(i, 'w'))));
  await sink.reset();
  const messages = Array.from({ length: EMAILS }, (_, i) => copy(i, ''));
  const reached = sink.reached(EMAILS);
  const cpu = cpuMeter();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: RAW_IN_FLIGHT }, async () => {
      while (next < messages.length) await transport.send(messages[next++]!);
    }),
  );
  await reached;
  const seconds = (performance.now() - started) / 1000;
  const stats = await sink.stats();
  const cpuPerMessage = cpu(stats.cpuMs, EMAILS);
  transport.close();
  if (stats.received !== EMAILS || stats.distinct !== EMAILS) {
    throw new Error(`raw: the sink received ${stats.received} (${stats.distinct} distinct)`);
  }
  console.log(
    `raw nodemailer (${label}): ${EMAILS} in ${seconds.toFixed(2)} s = ${Math.round(EMAILS / seconds)}/s, ${Math.round(stats.bytes / EMAILS)} bytes/message; CPU µs/message ${JSON.stringify(cpuPerMessage)}`,
  );
  return {
    rate: EMAILS / seconds,
    seconds,
    bytesPerMessage: stats.bytes / EMAILS,
    cpuPerMessage,
  };
}

// ---------------------------------------------------------------------------------------------
// The service path
// ---------------------------------------------------------------------------------------------

type Stage = 'runOnce' | 'claim' | 'sendGroup' | 'build' | 'markSending' | 'record';

/** Wall time per sender stage (summed over senders), through wrappers on the instance. */
class StageClock {
  readonly ms: Record<Stage, number> = {
    runOnce: 0,
    claim: 0,
    sendGroup: 0,
    build: 0,
    markSending: 0,
    record: 0,
  };
  readonly calls: Record<Stage, number> = {
    runOnce: 0,
    claim: 0,
    sendGroup: 0,
    build: 0,
    markSending: 0,
    record: 0,
  };

  wrap<A extends unknown[], R>(stage: Stage, fn: (...args: A) => Promise<R>) {
    return async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        this.ms[stage] += performance.now() - started;
        this.calls[stage] += 1;
      }
    };
  }

  /** The sender's private steps, timed on this instance (no change to its code). */
  instrument(sender: DeliverySender): DeliverySender {
    const methods = sender as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const stage of ['runOnce', 'claim', 'sendGroup', 'markSending', 'record'] as const) {
      const original = methods[stage]!.bind(sender);
      methods[stage] = this.wrap(stage, original);
    }
    return sender;
  }

  /**
   * ms per message by stage; `checks` is recipients, consent, suppression and topic loading.
   * The sender works its groups one after another, so the stages add up to `total`; were groups
   * to overlap, their stages would be summed over groups (more than the wall time, `checks` 0).
   */
  breakdown(messages: number): Record<string, number> {
    const m = this.ms;
    const smtp = m.sendGroup - m.build - m.markSending - m.record;
    const checks = Math.max(0, m.runOnce - m.claim - m.sendGroup);
    const per = (v: number) => Math.round((v / messages) * 1000) / 1000;
    return {
      claim: per(m.claim),
      checks: per(checks),
      build: per(m.build),
      markSending: per(m.markSending),
      smtp: per(smtp),
      record: per(m.record),
      total: per(m.runOnce),
    };
  }
}

interface ServiceRun {
  rate: number;
  seconds: number;
  statuses: Record<string, number>;
  sink: SinkStats;
  ledgerIds: number;
  matched: number;
  stages: Record<string, number>;
  calls: Record<Stage, number>;
  cpuPerMessage: CpuPerMessage;
}

async function serviceRate(
  orm: MikroORM,
  sink: SinkProcess,
  build: MessageBuilder,
  transport: MailTransport,
): Promise<ServiceRun> {
  await sink.reset();
  const clock = new StageClock();
  const timedBuild = clock.wrap('build', build);
  const senders = Array.from({ length: SENDERS }, () =>
    clock.instrument(
      new DeliverySender({
        orm,
        transport,
        build: timedBuild,
        logger: silent,
        groupSize: GROUP,
        batchSize: BATCH,
      }),
    ),
  );
  const profiler = PROFILE ? new Session() : null;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpu = cpuMeter();
  const started = performance.now();
  await Promise.all(
    senders.map(async (sender) => {
      while ((await sender.runOnce()) > 0);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = await sink.stats(true);
  const cpuPerMessage = cpu(stats.cpuMs, EMAILS);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
    console.log(`CPU profile of the service path: ${PROFILE}`);
  }
  const em = orm.em.fork();
  const statuses = Object.fromEntries(
    (
      await em.execute<{ status: string; n: number }[]>(
        `select status, count(*)::int as n from email.email_delivery group by status`,
      )
    ).map((r) => [r.status, r.n]),
  );
  const ledger = await em.execute<{ message_id: string }[]>(
    `select message_id from email.email_delivery where status = 'DELIVERED'`,
  );
  const received = new Set(stats.ids);
  const matched = ledger.filter((r) => received.has(r.message_id)).length;
  return {
    rate: EMAILS / seconds,
    seconds,
    statuses,
    sink: { ...stats, ids: [] },
    ledgerIds: new Set(ledger.map((r) => r.message_id)).size,
    matched,
    stages: clock.breakdown(EMAILS),
    calls: clock.calls,
    cpuPerMessage,
  };
}

/** One message exactly as the sender builds it, for a ledger row that stays QUEUED. */
async function sampleMessage(orm: MikroORM, build: MessageBuilder): Promise<OutgoingMessage> {
  const em = orm.em.fork();
  const [row] = await em.execute<DeliveryRow[]>(
    `select id, dedupe_key, campaign_id, variant_id, customer_id, template_id, template_version,
       topic, context, email, test, attempts
     from email.email_delivery where customer_id = 'c1'`,
  );
  const [recipient] = await em.execute<Recipient[]>(
    `select customer_id, email, first_name, last_name, timezone, traits
     from email.email_recipient where customer_id = 'c1'`,
  );
  return (await build(row!, recipient!, recipient!.email!)).message;
}

export async function run(): Promise<void> {
  const runStarted = performance.now();
  const load = loadavg()[0]!;
  if (load > 0.5) {
    console.warn(`note: load average ${load.toFixed(2)} at start: something else uses the CPU`);
  }
  const tag = `b${Date.now().toString(36)}`;
  const sink = await SinkProcess.start();
  const db = await createTestDatabase('bench_email');
  const orm = await openDatabase({ ...emailSubgraph.database, url: db.url });
  try {
    await migrate(orm, db.url, 'email');
    const setupStarted = performance.now();
    await chunked(identifies(tag), (chunk) => applyIdentifies(orm, chunk));
    const template = await new TemplateService(orm.em.fork()).create(
      TEMPLATE_KIND === 'mjml' ? MJML_TEMPLATE : HTML_TEMPLATE,
      { sub: 'bench', roles: ['admin'] },
    );
    await chunked(sendRequests(tag, template.id), (chunk) =>
      orm.em.fork().transactional((em) => enqueueSends(em, chunk)),
    );
    await orm.em.fork().execute('vacuum analyze email.email_delivery');
    await orm.em.fork().execute('vacuum analyze email.email_recipient');
    console.log(
      `setup: ${EMAILS} recipients with consent, 1 ${TEMPLATE_KIND} template, ${EMAILS} sends queued in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
    );

    const runtime = createEmailRuntime(
      loadEmailConfig({
        DATABASE_URL: db.url,
        GATEWAY_PROOF_SECRET: 'bench-proof-secret-0123456789abcdef',
        SMTP_URL: sink.url,
        MAIL_FROM: FROM,
        PUBLIC_URL,
        EMAIL_SMTP_CONNECTIONS: String(CONNECTIONS),
      }),
    );
    const build = createMessageBuilder(orm, runtime);
    const sample = await sampleMessage(orm, build);

    const rawBefore = await rawRate(sink, sample, `${tag}-raw1`);
    const service = await serviceRate(orm, sink, build, runtime.transport);
    runtime.transport.close();
    const rawAfter = await rawRate(sink, sample, `${tag}-raw2`);
    const raw = Math.max(rawBefore.rate, rawAfter.rate);

    const exact =
      service.statuses.DELIVERED === EMAILS &&
      Object.keys(service.statuses).length === 1 &&
      service.sink.received === EMAILS &&
      service.sink.distinct === EMAILS &&
      service.sink.duplicates === 0 &&
      service.sink.withoutId === 0 &&
      service.ledgerIds === EMAILS &&
      service.matched === EMAILS;
    console.log(
      `service: ${EMAILS} in ${service.seconds.toFixed(2)} s = ${Math.round(service.rate)}/s; ledger ${JSON.stringify(service.statuses)}`,
    );
    console.log(
      `sink: ${service.sink.received} received, ${service.sink.distinct} distinct Message-IDs, ${service.sink.duplicates} duplicates, ${service.sink.withoutId} without one; ${service.matched} of ${service.ledgerIds} ledger Message-IDs received -> ${exact ? 'exactly once: OK' : 'MISMATCH'}`,
    );
    console.log(`service CPU µs/message ${JSON.stringify(service.cpuPerMessage)}`);
    console.log(
      `sender stages, ms per message (wall, summed over ${SENDERS} sender(s)): ${JSON.stringify(service.stages)}`,
    );
    const measurements: Measurement[] = [
      {
        name: `Sender -> SMTP sink (${TEMPLATE_KIND}, rendered + tracked)`,
        value: service.rate,
        baseline: raw,
        unit: 'messages/s',
        better: 'higher',
        target: `>= ${TARGET_RATIO * 100}% of raw (${Math.round(raw * TARGET_RATIO)}/s): ${service.rate >= raw * TARGET_RATIO ? 'met' : 'NOT met'}`,
      },
      {
        name: 'Raw pooled nodemailer, same message (before)',
        value: rawBefore.rate,
        unit: 'messages/s',
        better: 'higher',
      },
      {
        name: 'Raw pooled nodemailer, same message (after)',
        value: rawAfter.rate,
        unit: 'messages/s',
        better: 'higher',
      },
    ];
    report('email', measurements, {
      emails: EMAILS,
      loadAverageAtStart: load,
      loadAverageAtEnd: loadavg()[0],
      connections: CONNECTIONS,
      senders: SENDERS,
      groupSize: GROUP,
      batchSize: BATCH,
      template: TEMPLATE_KIND,
      bytesPerMessage: Math.round(rawBefore.bytesPerMessage),
      ledger: service.statuses,
      sink: service.sink,
      ledgerMessageIdsReceived: service.matched,
      exactlyOnce: exact,
      stagesMsPerMessage: service.stages,
      cpuMicrosecondsPerMessage: {
        service: service.cpuPerMessage,
        rawBefore: rawBefore.cpuPerMessage,
        rawAfter: rawAfter.cpuPerMessage,
      },
      stageCalls: service.calls,
      seconds: {
        service: service.seconds,
        rawBefore: rawBefore.seconds,
        rawAfter: rawAfter.seconds,
        total: (performance.now() - runStarted) / 1000,
      },
    });
    console.log(`run time: ${((performance.now() - runStarted) / 1000).toFixed(1)} s`);
    if (!exact) throw new Error('the sink did not receive exactly the ledger Message-IDs');
  } finally {
    await orm.close();
    await db.drop();
    await sink.stop();
  }
}
