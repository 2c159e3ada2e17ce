/** Chooses the transport: NATS JetStream when NATS_URL is set, else the PostgreSQL event log. */
import type { EventBus } from './event-bus.js';
import { NatsJetStreamBus } from './nats-jetstream.js';
import { PgEventLog } from './pg-event-log.js';

export interface BusConfig {
  NATS_URL?: string;
  DATABASE_URL: string;
}

export function createEventBus(
  config: BusConfig,
  name?: string,
  poolMax?: number,
): Promise<EventBus> {
  return config.NATS_URL
    ? NatsJetStreamBus.connect(config.NATS_URL, { name })
    : PgEventLog.connect(config.DATABASE_URL, { poolMax: Math.min(poolMax ?? 5, 5) });
}
