/** Prometheus metrics: one registry per service, so several services can share a process in tests. */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export class ServiceMetrics {
  readonly registry = new Registry();
  /** SQL statements, by origin: `graphql` (serving a request) or `background` (relays, consumers). */
  readonly dbQueries: Counter<'service' | 'origin'>;
  readonly graphqlRequests: Counter<'service'>;
  readonly httpDuration: Histogram<'service' | 'route' | 'method' | 'status'>;
  /** Messages through the service's ingestion or consumers, by stage and result. */
  readonly messages: Counter<'service' | 'stage' | 'result'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.dbQueries = new Counter({
      name: 'marketing_db_queries_total',
      help: 'SQL statements sent to PostgreSQL',
      labelNames: ['service', 'origin'],
      registers: [this.registry],
    });
    this.graphqlRequests = new Counter({
      name: 'marketing_graphql_requests_total',
      help: 'GraphQL HTTP requests received',
      labelNames: ['service'],
      registers: [this.registry],
    });
    this.messages = new Counter({
      name: 'marketing_messages_total',
      help: 'Messages ingested (stage=ingest) or consumed (stage=<consumer>), by result',
      labelNames: ['service', 'stage', 'result'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'marketing_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['service', 'route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  /** Current value of a counter (used by tests and benchmarks that read the service's own figures). */
  async counterValue<L extends string>(
    counter: Counter<L>,
    labels: Partial<Record<L, string>> = {},
  ): Promise<number> {
    const { values } = await counter.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k as L] === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
