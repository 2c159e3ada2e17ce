/**
 * The one public origin: Apollo Gateway over the static supergraph at /graphql, with user JWT
 * verification, proof of origin towards the subgraphs, health, readiness and metrics.
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import {
  ANONYMOUS,
  createLogger,
  createServiceApp,
  formatError,
  GatewayProof,
  listen,
  ServiceMetrics,
  UserTokenVerifier,
} from '@marketing/platform';
import express from 'express';
import { Agent, fetch } from 'undici';
import { subgraphUrls, type GatewayConfig } from './config.js';
import { createPooledFetcher, SubgraphDataSource, type GatewayContext } from './data-source.js';
import { loadSupergraph } from './supergraph.js';

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const metrics = new ServiceMetrics('gateway');
  const production = config.NODE_ENV === 'production';
  const proof = new GatewayProof(config.GATEWAY_PROOF_SECRET);
  const verifier = new UserTokenVerifier({
    secret: config.AUTH_JWT_SECRET,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  const urls = subgraphUrls(config);
  const agent = new Agent({
    connections: 64,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
  });
  const fetcher = createPooledFetcher(agent);
  const supergraphSdl = await loadSupergraph({
    schemaDir: config.SCHEMA_DIR,
    ecommerceUrl: config.ECOMMERCE_SUBGRAPH_URL,
    ecommerceHeaders: {
      'x-gateway-proof': await proof.sign({ sub: 'system:gateway', roles: ['admin'] }),
    },
  });
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => {
      const url = urls[name];
      if (!url)
        throw new Error(`The supergraph names a subgraph "${name}" that has no configured URL`);
      return new SubgraphDataSource(url, proof, fetcher);
    },
  });

  const app = createServiceApp({
    metrics,
    logger,
    readiness: Object.fromEntries(
      Object.entries(urls).map(([name, url]) => [name, () => checkSubgraphReady(url, agent)]),
    ),
  });
  const listening = await listen(app, config.PORT, config.HOST);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) =>
      formatError(formatted, error, (err) => logger.error({ err }, 'unhandled error in gateway')),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: listening.server }),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();
  app.use(
    '/graphql',
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        metrics.graphqlRequests.inc();
        return { identity: (await verifier.verifyHeader(req.headers.authorization)) ?? ANONYMOUS };
      },
    }),
  );
  logger.info({ url: `${listening.url}/graphql` }, 'gateway ready');
  return {
    url: `${listening.url}/graphql`,
    close: async () => {
      await apollo.stop();
      await listening.close();
      await agent.close();
    },
  };
}

async function checkSubgraphReady(graphqlUrl: string, agent: Agent): Promise<void> {
  const response = await fetch(graphqlUrl.replace(/\/graphql$/, '/readyz'), {
    dispatcher: agent,
    signal: AbortSignal.timeout(2_000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}
