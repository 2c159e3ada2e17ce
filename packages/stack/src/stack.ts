/**
 * The whole platform in one process, every server on a free port: what the end-to-end tests and
 * the benchmarks run against. Production runs each service as its own process instead.
 */
import { randomBytes } from 'node:crypto';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@marketing/gateway';
import { signUserToken, type Role, type RunningSubgraph } from '@marketing/platform';
import { SUBGRAPHS, type SubgraphEntry } from './services.js';

export type SubgraphName = SubgraphEntry['name'];

export interface RunningStack {
  gateway: RunningGateway;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  secrets: { jwt: string; proof: string; issuer: string; audience: string; writeKey: string };
  /** The gateway's origin (ingestion, tracking), e.g. http://127.0.0.1:41234. */
  origin: string;
  /** A user token for the stack's gateway. */
  token(roles: Role[], sub?: string): Promise<string>;
  /** A GraphQL request to the gateway with a user token. */
  graphql(
    token: string,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ data?: any; errors?: any[] }>;
  /** A POST to an ingestion route (`/v1/track`, ...) with the write key. */
  ingest(path: string, body: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startStack(options: {
  databaseUrl: string;
  /** NATS JetStream for the bus; the PostgreSQL event log when absent. */
  natsUrl?: string;
  logLevel?: string;
  /** Redelivery backoff of every consumer (BUS_BACKOFF_MS), e.g. `100,200` in tests. */
  busBackoffMs?: string;
  /** More environment for every service (e.g. SMTP_URL, PUBLIC_URL). */
  env?: Record<string, string>;
  /** More environment for the gateway (e.g. RATE_LIMIT_MUTATIONS_PER_MINUTE). */
  gatewayEnv?: Record<string, string>;
}): Promise<RunningStack> {
  const secrets = {
    jwt: randomBytes(32).toString('hex'),
    proof: randomBytes(32).toString('hex'),
    issuer: 'https://auth.test.local/',
    audience: 'marketing-platform',
    writeKey: `wk_test_${randomBytes(12).toString('hex')}`,
  };
  const logLevel = options.logLevel ?? 'warn';
  const started = await Promise.all(
    SUBGRAPHS.map((entry) =>
      entry.start({
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: options.databaseUrl,
        NATS_URL: options.natsUrl,
        BUS_BACKOFF_MS: options.busBackoffMs,
        GATEWAY_PROOF_SECRET: secrets.proof,
        LOG_LEVEL: logLevel,
        NODE_ENV: 'test',
        // Small pools: test files run two stacks at once against one server (100 connections).
        DATABASE_POOL_MAX: '4',
        ...options.env,
      }),
    ),
  );
  const subgraphs = Object.fromEntries(
    SUBGRAPHS.map((e, i) => [e.name, started[i]]),
  ) as RunningStack['subgraphs'];
  const gateway = await startGateway(
    loadGatewayConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      LOG_LEVEL: logLevel,
      GATEWAY_PROOF_SECRET: secrets.proof,
      DATABASE_URL: options.databaseUrl,
      NATS_URL: options.natsUrl,
      INGEST_WRITE_KEY: secrets.writeKey,
      AUTH_JWT_SECRET: secrets.jwt,
      AUTH_ISSUER: secrets.issuer,
      AUTH_AUDIENCE: secrets.audience,
      ...Object.fromEntries(SUBGRAPHS.map((e) => [e.gatewayUrlEnv, subgraphs[e.name].url])),
      ...options.gatewayEnv,
    }),
  );
  return {
    gateway,
    subgraphs,
    secrets,
    origin: gateway.url.replace(/\/graphql$/, ''),
    token: (roles, sub = 'user-1') =>
      signUserToken(secrets.jwt, {
        sub,
        roles,
        issuer: secrets.issuer,
        audience: secrets.audience,
      }),
    graphql: async (token, query, variables = {}) => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: any[] };
    },
    ingest: (path, body) =>
      fetch(`${gateway.url.replace(/\/graphql$/, '')}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${secrets.writeKey}:`).toString('base64')}`,
        },
        body: JSON.stringify(body),
      }),
    close: async () => {
      await gateway.close();
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
