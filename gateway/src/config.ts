/** The only place the gateway reads its environment. */
import { fileURLToPath } from 'node:url';
import { loadConfig, postgresUrl } from '@marketing/platform';
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });

export const gatewayEnv = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().default('0.0.0.0'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    PUBLIC_URL: url.default('http://localhost:4000'),
    /** The event log lives in PostgreSQL when NATS_URL is not set. */
    DATABASE_URL: postgresUrl.optional(),
    NATS_URL: z.string().optional(),
    INGEST_WRITE_KEY: z.string().min(8, 'must be at least 8 characters'),
    GATEWAY_PROOF_SECRET: z.string().min(32, 'must be at least 32 characters'),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_JWKS_URL: url.optional(),
    AUTH_ISSUER: z.string().optional(),
    AUTH_AUDIENCE: z.string().optional(),
    CAMPAIGNS_SUBGRAPH_URL: url.default('http://localhost:4001/graphql'),
    SEGMENTS_SUBGRAPH_URL: url.default('http://localhost:4002/graphql'),
    EMAIL_SUBGRAPH_URL: url.default('http://localhost:4003/graphql'),
    ANALYTICS_SUBGRAPH_URL: url.default('http://localhost:4004/graphql'),
    /** The real e-commerce graph; when set, its SDL is fetched and composed with ours at start-up. */
    ECOMMERCE_SUBGRAPH_URL: url.optional(),
    /** The reference e-commerce subgraph, used when ECOMMERCE_SUBGRAPH_URL is not set. */
    REFERENCE_ECOMMERCE_URL: url.default('http://localhost:4005/graphql'),
    /** Mutations one identity may make per minute (per gateway replica); above: RATE_LIMITED. */
    RATE_LIMIT_MUTATIONS_PER_MINUTE: z.coerce.number().int().min(1).default(300),
    /** Ingestion requests per second per write key (per gateway replica); above: 429. */
    RATE_LIMIT_INGEST_PER_SECOND: z.coerce.number().int().min(1).default(2_000),
    SCHEMA_DIR: z.string().default(fileURLToPath(new URL('../../schema', import.meta.url))),
  })
  .refine((c) => c.DATABASE_URL || c.NATS_URL, {
    message: 'set NATS_URL (JetStream) or DATABASE_URL (the PostgreSQL event log) for ingestion',
    path: ['DATABASE_URL'],
  })
  .refine((c) => c.AUTH_JWT_SECRET || c.AUTH_JWKS_URL, {
    message: 'set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL',
    path: ['AUTH_JWT_SECRET'],
  });

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayEnv, env);
}

/** Subgraph name (as in the supergraph) -> URL the gateway calls. */
export function subgraphUrls(config: GatewayConfig): Record<string, string> {
  return {
    campaigns: config.CAMPAIGNS_SUBGRAPH_URL,
    segments: config.SEGMENTS_SUBGRAPH_URL,
    email: config.EMAIL_SUBGRAPH_URL,
    analytics: config.ANALYTICS_SUBGRAPH_URL,
    ecommerce: config.ECOMMERCE_SUBGRAPH_URL ?? config.REFERENCE_ECOMMERCE_URL,
  };
}
