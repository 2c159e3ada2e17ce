/**
 * Fault tests of a 10,000-recipient broadcast with real processes: the Campaign Manager (the
 * dispatcher) and the email service each run as their own process, on one database, with the
 * PostgreSQL event log between them and a real SMTP server on loopback.
 *
 * - The dispatcher is SIGKILLed mid-broadcast and restarted: every recipient gets exactly one
 *   message (counted at the SMTP server and in the delivery ledger).
 * - The email sender is SIGKILLed mid-send and restarted: nobody gets a message twice. What the
 *   design promises for the messages caught in flight (marked SENDING before SMTP saw them) is
 *   "at most once": they are reported as interrupted (FAILED), never resent, and may or may not
 *   have reached the SMTP server.
 * - Two Campaign Manager replicas dispatch the same broadcast: nobody gets a message twice and the
 *   replicas' request counts add up to the audience.
 *
 * The audience is seeded in SQL instead of ingesting 10,000 customers (which would spend most of
 * the time in the segments service): the campaigns' `segment_member` projection and the email
 * service's `email_recipient` and `email_consent` projections, i.e. exactly what their consumers
 * would have written. The template, the campaign and the launch go through each service's GraphQL
 * API (with the gateway's proof of origin), and the template version reaches the Campaign Manager
 * over the bus, as in production.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { GatewayProof, PROOF_HEADER } from '@marketing/platform';
import {
  createTestDatabase,
  startServiceProcess,
  startSmtpSink,
  waitFor,
  type ServiceProcess,
  type TestDatabase,
} from '@marketing/platform/testing';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const RECIPIENTS = 10_000;
const SECRET = randomBytes(32).toString('hex');
const proof = new GatewayProof(SECRET);
/** The email sender's groups in flight (4) x group size (EMAIL_SMTP_CONNECTIONS x 5). */
const SMTP_CONNECTIONS = 5;
const MAX_IN_FLIGHT = 4 * SMTP_CONNECTIONS * 5;
/** Each case starts processes, sends 10,000 messages and waits for them. */
const TIMEOUT_MS = 180_000;

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase('broadcast_faults');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await client.query(text, params)).rows as T[];
}

const common = () => ({
  DATABASE_URL: db.url,
  GATEWAY_PROOF_SECRET: SECRET,
  BUS_BACKOFF_MS: '100,200',
});

const startCampaigns = (env: Record<string, string> = {}) =>
  startServiceProcess(`${repo}subgraphs/campaigns/dist/main.js`, {
    ...common(),
    BROADCAST_RATE_PER_SECOND: '2000',
    ...env,
  });

const startEmail = (sink: { url: string }) =>
  startServiceProcess(`${repo}subgraphs/email/dist/main.js`, {
    ...common(),
    SMTP_URL: sink.url,
    EMAIL_SMTP_CONNECTIONS: String(SMTP_CONNECTIONS),
    MAIL_FROM: 'Shop <news@shop.example>',
    PUBLIC_URL: 'http://public.example',
  });

async function graphql(
  service: ServiceProcess,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data?: Record<string, { id: string; status?: string }>; errors?: unknown[] }> {
  const response = await fetch(`${service.origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [PROOF_HEADER]: await proof.sign({ sub: 'marketer-1', roles: ['marketer'] }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as never;
}

/** What the segments and recipient consumers would have written for `RECIPIENTS` customers. */
async function seedAudience(tag: string): Promise<string> {
  const segmentId = crypto.randomUUID();
  await sql(
    `insert into campaigns.segment_member (segment_id, customer_id, member, changed_at)
     select $1::uuid, $2 || '-c' || i, true, now() from generate_series(1, $3::int) i`,
    [segmentId, tag, RECIPIENTS],
  );
  await sql(
    `insert into email.email_recipient (customer_id, email, first_name, traits, trait_versions, updated_at)
     select $1 || '-c' || i, $1 || '-c' || i || '@mail.example', 'N' || i, '{}', '{}', now()
     from generate_series(1, $2::int) i`,
    [tag, RECIPIENTS],
  );
  await sql(
    `insert into email.email_consent (customer_id, subscribed, source, consent_updated_at)
     select $1 || '-c' || i, true, 'test', now() from generate_series(1, $2::int) i`,
    [tag, RECIPIENTS],
  );
  return segmentId;
}

/** Template (email service), campaign and launch (Campaign Manager), through their APIs. */
async function launchBroadcast(
  email: ServiceProcess,
  campaigns: ServiceProcess,
  segmentId: string,
  tag: string,
): Promise<string> {
  const template = await graphql(
    email,
    `
      mutation ($i: EmailTemplateInput!) {
        createEmailTemplate(input: $i) {
          id
        }
      }
    `,
    { i: { name: `News ${tag}`, subject: 'News', html: '<p>Hello {{ customer.firstName }}</p>' } },
  );
  const templateId = template.data!.createEmailTemplate!.id;
  // The Campaign Manager learns the template's version from the bus.
  const created = await waitFor(
    () =>
      graphql(
        campaigns,
        `
          mutation ($i: CampaignInput!) {
            createCampaign(input: $i) {
              id
            }
          }
        `,
        {
          i: {
            name: `Broadcast ${tag}`,
            kind: 'BROADCAST',
            segmentId,
            variants: [{ name: 'A', weight: 1, templateId }],
          },
        },
      ),
    (r) => r.data?.createCampaign !== undefined,
    30_000,
    200,
  );
  const campaignId = created.data!.createCampaign!.id;
  const launched = await graphql(
    campaigns,
    `
      mutation ($id: ID!) {
        launchCampaign(id: $id) {
          id
          status
        }
      }
    `,
    { id: campaignId },
  );
  expect(launched.data?.launchCampaign?.status).toBe('RUNNING');
  return campaignId;
}

async function progress(campaignId: string) {
  const [row] = await sql<{ requested: number; status: string }>(
    `select (select count(*)::int from campaigns.campaign_enrollment
             where campaign_id = $1 and status = 'COMPLETED') as requested,
            (select status from campaigns.campaign where id = $1) as status`,
    [campaignId],
  );
  return row!;
}

async function ledger(campaignId: string) {
  const rows = await sql<{ status: string; n: number; customers: number }>(
    `select status, count(*)::int as n, count(distinct customer_id)::int as customers
     from email.email_delivery where campaign_id = $1 group by status order by status`,
    [campaignId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
}

const expectedRecipients = (tag: string) =>
  Array.from({ length: RECIPIENTS }, (_, i) => `${tag}-c${i + 1}@mail.example`).sort();

/** Recipients at the SMTP server for this broadcast, one entry per message received. */
const receivedBy = (sink: { received: { to: string[] }[] }, tag: string) =>
  sink.received.flatMap((m) => m.to).filter((to) => to.startsWith(`${tag}-`));

/**
 * An SMTP server that only records envelope recipients, for the sender kill. The shared
 * `startSmtpSink` has no 'error' listener: a sender killed inside an SMTP transaction resets its
 * connection, smtp-server emits that as an 'error' event, and jest fails the file on it.
 */
async function startKillProofSink() {
  const received: { to: string[] }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address) });
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  return {
    url: `smtp://127.0.0.1:${port}?starttls=off`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function dispatchedBy(metrics: string): number {
  const line = metrics
    .split('\n')
    .find(
      (l) =>
        l.startsWith('marketing_messages_total{') &&
        l.includes('stage="campaigns.dispatch"') &&
        l.includes('result="requested"'),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('a 10,000-recipient broadcast', () => {
  it(
    'sends every recipient exactly one message when the dispatcher is SIGKILLed mid-broadcast and restarted',
    async () => {
      const tag = `k${randomBytes(3).toString('hex')}`;
      const sink = await startSmtpSink({ parse: false });
      const processes: ServiceProcess[] = [];
      try {
        const t0 = Date.now();
        const marks: string[] = [];
        const mark = (what: string) => marks.push(`${what} ${Date.now() - t0}ms`);
        processes.push(await startEmail(sink));
        let campaigns = await startCampaigns();
        processes.push(campaigns);
        const segmentId = await seedAudience(tag);
        const campaignId = await launchBroadcast(processes[0]!, campaigns, segmentId, tag);
        mark('launched');
        await waitFor(
          () => progress(campaignId),
          (p) => p.requested >= 3_000,
          60_000,
        );
        await campaigns.stop('SIGKILL');
        mark('killed');
        const killedAt = await progress(campaignId);
        // Killed in the middle: part of the audience has been requested, not all of it.
        expect(killedAt.requested).toBeGreaterThan(0);
        expect(killedAt.requested).toBeLessThan(RECIPIENTS);
        expect(killedAt.status).toBe('RUNNING');

        campaigns = await startCampaigns();
        processes.push(campaigns);
        mark('restarted');
        await waitFor(
          () => progress(campaignId),
          (p) => p.status === 'COMPLETED',
          90_000,
          100,
        );
        mark('completed');
        await waitFor(
          () => ledger(campaignId),
          (l) => (l.DELIVERED ?? 0) >= RECIPIENTS,
          90_000,
          100,
        );
        mark('delivered');
        // Late duplicates (an outbox batch published twice) would show up after this.
        await new Promise((r) => setTimeout(r, 1_000));
        const received = receivedBy(sink, tag);
        console.log(
          `dispatcher kill: killed after ${killedAt.requested} of ${RECIPIENTS} requested; ` +
            `${received.length} messages at the SMTP server; ${marks.join(', ')}`,
        );
        expect(await ledger(campaignId)).toEqual({ DELIVERED: RECIPIENTS });
        expect(received.sort()).toEqual(expectedRecipients(tag));
        expect(await progress(campaignId)).toEqual({ requested: RECIPIENTS, status: 'COMPLETED' });
      } finally {
        for (const p of processes) await p.stop('SIGKILL');
        await sink.close();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'sends nobody a message twice when the email sender is SIGKILLed mid-send; messages caught in flight are reported as interrupted, never resent',
    async () => {
      const tag = `e${randomBytes(3).toString('hex')}`;
      const sink = await startKillProofSink();
      const processes: ServiceProcess[] = [];
      try {
        const t0 = Date.now();
        const marks: string[] = [];
        const mark = (what: string) => marks.push(`${what} ${Date.now() - t0}ms`);
        let email = await startEmail(sink);
        processes.push(email);
        processes.push(await startCampaigns({ BROADCAST_RATE_PER_SECOND: '10000' }));
        const segmentId = await seedAudience(tag);
        const campaignId = await launchBroadcast(email, processes[1]!, segmentId, tag);
        mark('launched');
        // Killed while groups are marked SENDING (handed to SMTP or about to be); 3,110 is not a
        // multiple of the sender's batch (200), so the kill does not land between two batches.
        await waitFor(
          async () => ({
            received: receivedBy(sink, tag).length,
            sending: (await ledger(campaignId)).SENDING ?? 0,
          }),
          (o) => o.received >= 3_110 && o.sending > 0,
          90_000,
          5,
        );
        await email.stop('SIGKILL');
        mark('killed');
        const atKill = await ledger(campaignId);
        const receivedAtKill = receivedBy(sink, tag).length;
        expect(receivedAtKill).toBeLessThan(RECIPIENTS);
        // The dead sender's leases (5 minutes) and its SENDING rows age by 10 minutes: what a
        // restart after that long finds. The reaper then reports the SENDING rows as interrupted.
        await sql(
          `update email.email_delivery set claimed_until = claimed_until - interval '10 minutes'
         where campaign_id = $1 and claimed_until is not null`,
          [campaignId],
        );
        email = await startEmail(sink);
        processes.push(email);
        mark('restarted');
        const final = await waitFor(
          () => ledger(campaignId),
          (l) =>
            (l.DELIVERED ?? 0) + (l.FAILED ?? 0) === RECIPIENTS &&
            Object.keys(l).every((s) => s === 'DELIVERED' || s === 'FAILED'),
          120_000,
          100,
        );
        mark('done');
        await new Promise((r) => setTimeout(r, 1_000));
        const received = receivedBy(sink, tag);
        const rows = await sql<{ to: string; status: string; error: string | null }>(
          `select email as to, status, error from email.email_delivery where campaign_id = $1`,
          [campaignId],
        );
        const delivered = new Set(rows.filter((r) => r.status === 'DELIVERED').map((r) => r.to));
        const interrupted = rows.filter((r) => r.status === 'FAILED');
        const interruptedSent = interrupted.filter((r) => received.includes(r.to)).length;
        console.log(
          `email sender kill: ${receivedAtKill} at the SMTP server when killed (ledger ${JSON.stringify(atKill)}); ` +
            `final ledger ${JSON.stringify(final)}; ${interrupted.length} interrupted, ${interruptedSent} of them had reached SMTP; ${marks.join(', ')}`,
        );
        expect(await ledger(campaignId)).toEqual(final);
        // At most once: no recipient twice at the SMTP server, and every message there is in the ledger.
        expect(new Set(received).size).toBe(received.length);
        expect(
          received.every((to) => delivered.has(to) || interrupted.some((r) => r.to === to)),
        ).toBe(true);
        // Every DELIVERED row reached the SMTP server.
        expect([...delivered].every((to) => received.includes(to))).toBe(true);
        // Only what was in flight at the kill is lost or unconfirmed, and it says so.
        expect(interrupted.length).toBeLessThanOrEqual(MAX_IN_FLIGHT);
        for (const r of interrupted)
          expect(r.error).toMatch(/interrupted while being handed to SMTP/);
        expect(received.length).toBe(delivered.size + interruptedSent);
        expect((await progress(campaignId)).status).toBe('COMPLETED');
      } finally {
        for (const p of processes) await p.stop('SIGKILL');
        await sink.close();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'is sent to every recipient once when two Campaign Manager replicas dispatch it together',
    async () => {
      const tag = `r${randomBytes(3).toString('hex')}`;
      const sink = await startSmtpSink({ parse: false });
      const processes: ServiceProcess[] = [];
      try {
        const email = await startEmail(sink);
        processes.push(email);
        const replicas = [
          await startCampaigns({ BROADCAST_RATE_PER_SECOND: '1000' }),
          await startCampaigns({ BROADCAST_RATE_PER_SECOND: '1000' }),
        ];
        processes.push(...replicas);
        const segmentId = await seedAudience(tag);
        const campaignId = await launchBroadcast(email, replicas[0]!, segmentId, tag);
        await waitFor(
          () => progress(campaignId),
          (p) => p.status === 'COMPLETED',
          90_000,
          100,
        );
        await waitFor(
          () => ledger(campaignId),
          (l) => (l.DELIVERED ?? 0) >= RECIPIENTS,
          90_000,
          100,
        );
        await new Promise((r) => setTimeout(r, 1_000));
        const shares = await Promise.all(
          replicas.map(async (r) =>
            dispatchedBy(await (await fetch(`${r.origin}/metrics`)).text()),
          ),
        );
        console.log(`two replicas: send requests made by each: ${shares.join(' + ')}`);
        // Each enrolment was requested by exactly one replica.
        expect(shares[0]! + shares[1]!).toBe(RECIPIENTS);
        expect(await ledger(campaignId)).toEqual({ DELIVERED: RECIPIENTS });
        expect(receivedBy(sink, tag).sort()).toEqual(expectedRecipients(tag));
      } finally {
        for (const p of processes) await p.stop('SIGKILL');
        await sink.close();
      }
    },
    TIMEOUT_MS,
  );
});
