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
  createEventBus,
  createLogger,
  createServiceApp,
  formatError,
  GatewayProof,
  listen,
  type Logger,
  ServiceMetrics,
  UserTokenVerifier,
} from '@marketing/platform';
import express, { type ErrorRequestHandler } from 'express';
import { Agent, fetch } from 'undici';
import { subgraphUrls, type GatewayConfig } from './config.js';
import { createPooledFetcher, SubgraphDataSource, type GatewayContext } from './data-source.js';
import { emailRoutes } from './email-routes.js';
import { ingestionRouter } from './ingestion/ingest.routes.js';
import { createProtection } from './protection.js';
import { serveGatewaySubscriptions } from './subscriptions.js';
import { loadSupergraph } from './supergraph.js';

export interface RunningGateway {
  url: string;
  /** Upstream subscriptions open now (identical client subscriptions share one). */
  liveUpstreams(): number;
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

  const bus = await createEventBus(
    { NATS_URL: config.NATS_URL, DATABASE_URL: config.DATABASE_URL ?? '' },
    'gateway',
  );
  const app = createServiceApp({
    metrics,
    logger,
    readiness: {
      bus: () => bus.ping(),
      ...Object.fromEntries(
        Object.entries(urls).map(([name, url]) => [name, () => checkSubgraphReady(url, agent)]),
      ),
    },
  });
  app.use(
    ingestionRouter({
      bus,
      writeKey: config.INGEST_WRITE_KEY,
      logger,
      metrics,
      requestsPerSecond: config.RATE_LIMIT_INGEST_PER_SECOND,
    }),
  );
  app.use(emailRoutes({ emailOrigin: new URL(urls.email!).origin, agent }));
  const listening = await listen(app, config.PORT, config.HOST);
  const protection = createProtection({
    production,
    mutationsPerMinute: config.RATE_LIMIT_MUTATIONS_PER_MINUTE,
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    validationRules: protection.validationRules,
    introspection: !production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: (formatted, error) =>
      formatError(formatted, error, (err) => logger.error({ err }, 'unhandled error in gateway')),
    plugins: [
      ...protection.plugins,
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
  app.use(unexpectedError(logger));
  const subscriptions = serveGatewaySubscriptions({
    server: listening.server,
    supergraphSdl,
    urls,
    serviceMap: Object.fromEntries(
      Object.entries(urls).map(([name, url]) => [
        name,
        new SubgraphDataSource(url, proof, fetcher),
      ]),
    ),
    proof,
    verifier,
    logger,
    protection,
  });
  logger.info({ url: `${listening.url}/graphql` }, 'gateway ready');
  return {
    url: `${listening.url}/graphql`,
    liveUpstreams: () => subscriptions.hub.size,
    close: async () => {
      await subscriptions.dispose();
      await apollo.stop();
      await listening.close();
      await agent.close();
      await bus.close();
    },
  };
}

/**
 * The last handler. A client's mistake caught by a body parser (malformed or oversize JSON on
 * /graphql) keeps its 4xx status and says what is wrong; a bug answers 500 with no detail.
 */
function unexpectedError(logger: Logger): ErrorRequestHandler {
  return (error: { status?: number; expose?: boolean; message?: string }, _req, res, _next) => {
    if (res.headersSent) return;
    const status = error.status ?? 500;
    if (status < 500 && error.expose) {
      res
        .status(status)
        .json({ errors: [{ message: error.message, extensions: { code: 'BAD_USER_INPUT' } }] });
      return;
    }
    logger.error({ err: error }, 'unhandled error in an HTTP route');
    res.status(500).json({
      errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
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
