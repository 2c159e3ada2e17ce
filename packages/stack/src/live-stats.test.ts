/**
 * Live campaign stats across gateway replicas: dashboards connected to two gateways on the same
 * subgraphs all get the update an email event causes, completed with the campaign's name from the
 * campaigns subgraph, and each replica opens one upstream per distinct subscription (document,
 * variables and roles).
 */
import { randomUUID } from 'node:crypto';
import {
  loadGatewayConfig,
  startGateway,
  type GatewayConfig,
  type RunningGateway,
} from '@marketing/gateway';
import { createEventBus, EMAIL_EVENTS_SUBJECT, type EventBus } from '@marketing/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@marketing/platform/testing';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBGRAPHS } from './services.js';
import { startStack, type RunningStack } from './stack.js';

let db: TestDatabase;
let stack: RunningStack;
let replica: RunningGateway;
let bus: EventBus;
let marketer: string;
const clients: Client[] = [];

/** A second gateway replica beside the stack's own, configured the same way. */
function replicaConfig(): GatewayConfig {
  return loadGatewayConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    GATEWAY_PROOF_SECRET: stack.secrets.proof,
    DATABASE_URL: db.url,
    INGEST_WRITE_KEY: stack.secrets.writeKey,
    AUTH_JWT_SECRET: stack.secrets.jwt,
    AUTH_ISSUER: stack.secrets.issuer,
    AUTH_AUDIENCE: stack.secrets.audience,
    ...Object.fromEntries(SUBGRAPHS.map((e) => [e.gatewayUrlEnv, stack.subgraphs[e.name].url])),
  });
}

beforeAll(async () => {
  db = await createTestDatabase('live_stats_e2e');
  stack = await startStack({ databaseUrl: db.url, busBackoffMs: '50,100' });
  replica = await startGateway(replicaConfig());
  bus = await createEventBus({ DATABASE_URL: db.url });
  marketer = await stack.token(['marketer'], 'marketer-1');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await bus?.close();
  await replica?.close();
  await stack?.close();
  await db?.drop();
});

async function createCampaign(name: string): Promise<string> {
  const template = await stack.graphql(
    marketer,
    `mutation ($i: EmailTemplateInput!) { createEmailTemplate(input: $i) { id } }`,
    { i: { name: 'Live', subject: 'Live', html: '<p>Hello</p>' } },
  );
  const templateId = template.data.createEmailTemplate.id as string;
  // The Campaign Manager learns the template's version from the bus.
  const created = await waitFor(
    () =>
      stack.graphql(
        marketer,
        `mutation ($i: CampaignInput!) { createCampaign(input: $i) { id } }`,
        {
          i: {
            name,
            kind: 'BROADCAST',
            segmentId: randomUUID(),
            variants: [{ name: 'A', weight: 1, templateId }],
          },
        },
      ),
    (r) => r.data?.createCampaign !== undefined,
  );
  return created.data.createCampaign.id as string;
}

interface Dashboard {
  updates: any[];
  errors: unknown[];
}

function subscribe(gateway: RunningGateway, query: string, campaignId: string): Dashboard {
  const client = createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${marketer}` },
  });
  clients.push(client);
  const dashboard: Dashboard = { updates: [], errors: [] };
  client.subscribe(
    { query, variables: { id: campaignId } },
    {
      next: (event) => {
        if (event.errors) dashboard.errors.push(event.errors);
        dashboard.updates.push((event.data as any)?.campaignStatsUpdated);
      },
      error: (error) => dashboard.errors.push(error),
      complete: () => {},
    },
  );
  return dashboard;
}

const WITH_NAME = `subscription ($id: ID!) { campaignStatsUpdated(campaignId: $id) { uniqueOpens campaign { name } } }`;
const COUNTS_ONLY = `subscription ($id: ID!) { campaignStatsUpdated(campaignId: $id) { uniqueOpens sent } }`;

describe('live campaign stats on two gateway replicas', () => {
  it('delivers an email event to dashboards on both replicas, with the campaign name, sharing upstreams per replica', async () => {
    const campaignId = await createCampaign('Winter sale');
    const otherCampaignId = await createCampaign('Spring sale');
    // Replica A: two identical dashboards and one with another selection; replica B: one, and
    // the same document for another campaign (same text, other variables: another upstream).
    const onA = [
      subscribe(stack.gateway, WITH_NAME, campaignId),
      subscribe(stack.gateway, WITH_NAME, campaignId),
      subscribe(stack.gateway, COUNTS_ONLY, campaignId),
    ];
    const onB = [subscribe(replica, WITH_NAME, campaignId)];
    const other = subscribe(replica, WITH_NAME, otherCampaignId);
    const all = [...onA, ...onB];
    await waitFor(
      async () => [...all, other].map((d) => d.updates.length),
      (counts) => counts.every((n) => n >= 1),
    );
    expect(onA[0]!.updates[0]).toEqual({ uniqueOpens: 0, campaign: { name: 'Winter sale' } });
    expect(onB[0]!.updates[0]).toEqual({ uniqueOpens: 0, campaign: { name: 'Winter sale' } });
    expect(onA[2]!.updates[0]).toEqual({ uniqueOpens: 0, sent: 0 });
    expect(other.updates[0]).toEqual({ uniqueOpens: 0, campaign: { name: 'Spring sale' } });
    // One upstream per distinct subscription on each replica.
    expect(stack.gateway.liveUpstreams()).toBe(2);
    expect(replica.liveUpstreams()).toBe(2);

    await bus.publish([
      {
        id: randomUUID(),
        subject: EMAIL_EVENTS_SUBJECT,
        data: {
          type: 'email.opened',
          customerId: 'live-1',
          deliveryId: randomUUID(),
          campaignId,
          occurredAt: new Date().toISOString(),
          unique: true,
        },
      },
    ]);
    await waitFor(
      async () => all.map((d) => d.updates.at(-1)?.uniqueOpens),
      (opens) => opens.every((n) => n === 1),
    );
    for (const dashboard of [onA[0]!, onA[1]!, onB[0]!]) {
      expect(dashboard.updates.at(-1)).toEqual({
        uniqueOpens: 1,
        campaign: { name: 'Winter sale' },
      });
    }
    expect(onA[2]!.updates.at(-1)).toEqual({ uniqueOpens: 1, sent: 0 });
    // The other campaign's dashboard is not woken by this campaign's event.
    expect(other.updates).toEqual([{ uniqueOpens: 0, campaign: { name: 'Spring sale' } }]);
    expect([...all, other].flatMap((d) => d.errors)).toEqual([]);

    // Every dashboard gone, both replicas close their upstreams.
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await waitFor(
      async () => [stack.gateway.liveUpstreams(), replica.liveUpstreams()],
      (open) => open.every((n) => n === 0),
    );
  });
});
