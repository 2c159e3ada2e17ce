/**
 * Starts one subgraph: database and migrations, the federated schema behind Apollo Server, the
 * gateway proof-of-origin check, and a per-request context `{ em, loaders, viewer }`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { GraphQLSchema } from 'graphql';
import { GatewayProof, PROOF_HEADER } from '../auth/gateway-proof.js';
import type { Identity } from '../auth/identity.js';
import { createEventBus } from '../bus/create-bus.js';
import type { EventBus } from '../bus/event-bus.js';
import { startOutboxRelay, type OutboxRelay } from '../bus/outbox.js';
import { migrate, openDatabase, type DatabaseOptions } from '../database.js';
import { formatError } from '../errors.js';
import { createServiceApp, listen, type ReadinessCheck } from '../http/service-app.js';
import { createLogger, type Logger } from '../logger.js';
import { ServiceMetrics } from '../metrics.js';
import { serveSubscriptions } from './subscriptions.js';

export interface SubgraphContext<Loaders> {
  em: EntityManager;
  loaders: Loaders;
  viewer: Identity;
}

export interface SubgraphDefinition<Loaders> {
  name: string;
  database: Omit<DatabaseOptions, 'url' | 'onQuery'>;
  buildSchema: () => Promise<GraphQLSchema>;
  createLoaders: (em: EntityManager) => Loaders;
  /** Connect to the event bus; with `outbox`, relay the service's outbox table to it. */
  bus?: { outbox: boolean };
  /** Background work owned by the service (consumers); started after migrations. */
  startWorkers?: (deps: SubgraphDeps) => Promise<() => Promise<void>>;
  readiness?: Record<string, ReadinessCheck>;
  /** Public HTTP routes of the service besides /graphql (the gateway forwards them). */
  routes?: (app: Express, deps: SubgraphDeps) => void;
}

export interface SubgraphDeps {
  orm: MikroORM;
  logger: Logger;
  metrics: ServiceMetrics;
  bus?: EventBus;
  outbox?: OutboxRelay;
  /** Redelivery backoff for the service's consumers (BUS_BACKOFF_MS). */
  backoffMs?: number[];
}

export interface SubgraphRuntimeConfig {
  PORT: number;
  HOST: string;
  DATABASE_URL: string;
  DATABASE_POOL_MAX?: number;
  NATS_URL?: string;
  BUS_BACKOFF_MS?: string;
  GATEWAY_PROOF_SECRET: string;
  LOG_LEVEL: string;
}

export interface RunningSubgraph extends SubgraphDeps {
  name: string;
  url: string;
  close(): Promise<void>;
}

export async function startSubgraph<Loaders>(
  definition: SubgraphDefinition<Loaders>,
  config: SubgraphRuntimeConfig,
): Promise<RunningSubgraph> {
  const logger = createLogger(definition.name, config.LOG_LEVEL);
  const metrics = new ServiceMetrics(definition.name);
  // Tells SQL issued while serving a GraphQL request from the background work's.
  const serving = new AsyncLocalStorage<true>();
  const orm = await openDatabase({
    ...definition.database,
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    onQuery: () => metrics.dbQueries.inc({ origin: serving.getStore() ? 'graphql' : 'background' }),
  });
  try {
    const applied = await migrate(orm, config.DATABASE_URL, definition.database.schema);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const schema = await definition.buildSchema();
    const bus = definition.bus
      ? await createEventBus(config, definition.name, config.DATABASE_POOL_MAX)
      : undefined;
    const outbox =
      bus && definition.bus?.outbox
        ? startOutboxRelay({ orm, schema: definition.database.schema, bus, logger })
        : undefined;
    const backoffMs = config.BUS_BACKOFF_MS?.split(',').map(Number);
    const deps: SubgraphDeps = { orm, logger, metrics, bus, outbox, backoffMs };
    const stopWorkers = (await definition.startWorkers?.(deps)) ?? (async () => {});
    const proof = new GatewayProof(config.GATEWAY_PROOF_SECRET);

    const app = createServiceApp({
      metrics,
      logger,
      readiness: {
        database: () =>
          orm.em
            .getConnection()
            .execute('select 1')
            .then(() => {}),
        ...(bus ? { bus: () => bus.ping() } : {}),
        ...definition.readiness,
      },
    });
    definition.routes?.(app, deps);
    const listening = await listen(app, config.PORT, config.HOST);
    const apollo = new ApolloServer<SubgraphContext<Loaders>>({
      schema,
      introspection: true,
      csrfPrevention: true,
      includeStacktraceInErrorResponses: false,
      stopOnTerminationSignals: false,
      formatError: (formatted, error) =>
        formatError(formatted, error, (err) =>
          logger.error({ err }, 'unhandled error in resolver'),
        ),
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer: listening.server }),
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginInlineTraceDisabled(),
      ],
    });
    await apollo.start();
    app.use(
      '/graphql',
      (_req, _res, next) => serving.run(true, next),
      async (req, res, next) => {
        metrics.graphqlRequests.inc();
        const viewer = await proof.verify(req.header(PROOF_HEADER));
        if (!viewer) {
          res.status(401).json({
            errors: [
              {
                message:
                  'This service answers only the gateway: missing or invalid proof of origin',
                extensions: { code: 'UNAUTHENTICATED' },
              },
            ],
          });
          return;
        }
        if (viewer.roles.length === 0) {
          // The gateway passes anonymous callers through; no subgraph serves them anything.
          res.status(200).json({
            errors: [
              {
                message:
                  'Authentication required: send "Authorization: Bearer <token>" with a role',
                extensions: { code: 'UNAUTHENTICATED' },
              },
            ],
          });
          return;
        }
        res.locals.viewer = viewer;
        next();
      },
      express.json({ limit: '2mb' }),
      expressMiddleware(apollo, {
        context: async ({ res }) => {
          const em = orm.em.fork() as EntityManager;
          return {
            em,
            loaders: definition.createLoaders(em),
            viewer: res.locals.viewer as Identity,
          };
        },
      }),
    );
    app.use(((error: { status?: number; expose?: boolean; message?: string }, _req, res, _next) => {
      const status = error.status && error.status < 500 && error.expose ? error.status : 500;
      if (status === 500) logger.error({ err: error }, 'unhandled error in an HTTP route');
      res.status(status).json({
        errors: [
          status === 500
            ? { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }
            : { message: error.message, extensions: { code: 'BAD_USER_INPUT' } },
        ],
      });
    }) as ErrorRequestHandler);
    // Subscriptions (graphql-ws), for the gateway only: the proof of origin in connection_init.
    const subscriptions = schema.getSubscriptionType()
      ? serveSubscriptions({
          server: listening.server,
          schema,
          proof,
          logger,
          context: (viewer) => {
            const em = orm.em.fork() as EntityManager;
            return { em, loaders: definition.createLoaders(em), viewer };
          },
        })
      : undefined;
    logger.info({ url: `${listening.url}/graphql` }, 'subgraph ready');
    return {
      ...deps,
      name: definition.name,
      url: `${listening.url}/graphql`,
      close: async () => {
        await subscriptions?.dispose();
        await apollo.stop();
        await stopWorkers();
        await outbox?.stop();
        await bus?.close();
        await listening.close();
        await orm.close();
      },
    };
  } catch (error) {
    await orm.close();
    throw error;
  }
}
