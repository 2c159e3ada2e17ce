/**
 * Test support for destinations (imported by tests only): a database with the analytics schema,
 * real HTTP receivers on loopback that answer as a plan says, and a view of the delivery queue.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { migrate, openDatabase, type Identity } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import type { MikroORM } from '@mikro-orm/postgresql';
import { analyticsSubgraph } from '../../service.js';
import type { ForwardedEvent } from '../destination.entity.js';
import { DestinationService } from '../destination.service.js';

export const admin: Identity = { sub: 'admin-1', roles: ['admin'] };

export const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 10, minute)).toISOString();

export const forwarded = (id: string, type: string, customerId = 'ann'): ForwardedEvent => ({
  id,
  type,
  customerId,
  occurredAt: at(0),
  properties: {},
});

export interface DestinationsTestDatabase {
  db: TestDatabase;
  orm: MikroORM;
  /** A service that accepts loopback URLs. */
  service(): DestinationService;
  deliveries(): Promise<
    { name: string; event_id: string; state: string; attempts: number; last_error: string }[]
  >;
  close(): Promise<void>;
}

export async function openDestinationsDatabase(label: string): Promise<DestinationsTestDatabase> {
  const db = await createTestDatabase(label);
  const orm = await openDatabase({ ...analyticsSubgraph.database, url: db.url });
  await migrate(orm, db.url, 'analytics');
  return {
    db,
    orm,
    service: () => new DestinationService(orm.em.fork(), { allowLoopback: true }),
    deliveries: () =>
      orm.em.fork().execute(
        `select d.name, q.event_id, q.state, q.attempts, q.last_error
         from analytics.destination_delivery q join analytics.destination d on d.id = q.destination_id
         order by d.name, q.event_id`,
      ),
    close: async () => {
      await Promise.all(open.splice(0).map((r) => r.close()));
      await orm.close();
      await db.drop();
    },
  };
}

const open: Receiver[] = [];

export type Answer = 'ok' | 'hang' | number;

export interface Request {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
  answer: Answer;
}

export interface Receiver {
  url: string;
  requests: Request[];
  /** Requests answered 2xx, per event key. */
  accepted(): Map<string, number>;
  /** TCP connections opened to it. */
  connections: () => number;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback. `plan(n)` answers the n-th request (1-based) for the same event:
 * `ok` (200), a status code, or `hang` (never answers; the sender's timeout must fire).
 */
export async function startReceiver(
  keyOf: (body: any) => string,
  plan: (n: number, key: string) => Answer,
): Promise<Receiver> {
  const requests: Request[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw);
      const key = keyOf(body);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const answer = plan(n, key);
      const url = new URL(req.url ?? '/', 'http://receiver');
      requests.push({
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        raw,
        body,
        answer,
      });
      if (answer === 'hang') return;
      res.statusCode = answer === 'ok' ? 200 : answer;
      res.end(answer === 'ok' ? '{"ok":true}' : 'receiver says no');
    });
  });
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    connections: () => connections,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    accepted: () => {
      const counts = new Map<string, number>();
      for (const r of requests.filter((q) => q.answer === 'ok')) {
        const key = keyOf(r.body);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  open.push(receiver);
  return receiver;
}
