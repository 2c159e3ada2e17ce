/**
 * The HTTP shell every service shares: express with /healthz, /readyz and /metrics, request timing,
 * listening on a port (0 in tests) and a graceful close that waits for in-flight requests.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';

export type ReadinessCheck = () => Promise<void>;

export interface ServiceAppOptions {
  metrics: ServiceMetrics;
  logger: Logger;
  /** Each check throws when a dependency (database, bus, subgraph) is not reachable. */
  readiness: Record<string, ReadinessCheck>;
}

export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    const end = options.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: routeLabel(req.path), status: String(res.statusCode) }));
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (error) {
          options.logger.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = results.every(([, status]) => status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  return app;
}

/** Keeps the route label set small: tokens in tracking paths would explode the metric's cardinality. */
function routeLabel(path: string): string {
  const known = [
    '/graphql',
    '/healthz',
    '/readyz',
    '/metrics',
    '/v1',
    '/t/o',
    '/t/c',
    '/u',
    '/webhooks',
  ];
  return known.find((prefix) => path === prefix || path.startsWith(`${prefix}/`)) ?? 'other';
}

export interface ListeningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: Express, port: number, host: string): Promise<ListeningServer> {
  const server = app.listen(port, host);
  await once(server, 'listening');
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close: () => closeServer(server),
  };
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 5_000);
  await closed;
  clearTimeout(timer);
}
