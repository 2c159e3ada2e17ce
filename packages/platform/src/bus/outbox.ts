/**
 * The transactional outbox and idempotent consumption, for every service that publishes or consumes.
 *
 * A service writes its event rows into its own `outbox` table in the same transaction as the state
 * change (`addToOutbox`); the relay publishes them to the bus and deletes them. Consumers call
 * `claimMessages` inside the transaction of their effect: ids recorded there before are dropped,
 * so a redelivered message has its effect once.
 */
import { OptionalProps } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { quoteIdent } from '../database.js';
import type { Logger } from '../logger.js';
import type { BusMessage, EventBus } from './event-bus.js';

@Entity({ tableName: 'outbox' })
export class OutboxMessage {
  [OptionalProps]?: 'seq' | 'createdAt';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  seq!: string;

  @Property({ type: 'text' })
  subject!: string;

  @Property({ type: 'text' })
  messageId!: string;

  @Property({ type: 'jsonb' })
  data!: unknown;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}

@Entity({ tableName: 'processed_message' })
export class ProcessedMessage {
  @PrimaryKey({ type: 'text' })
  consumer!: string;

  @PrimaryKey({ type: 'text' })
  messageId!: string;

  @Property({ type: 'datetime' })
  processedAt: Date = new Date();
}

/** Queues messages in the outbox; they are written by the caller's flush, with its changes. */
export function addToOutbox(em: EntityManager, messages: BusMessage[]): void {
  for (const m of messages) {
    em.persist(
      em.create(OutboxMessage, {
        subject: m.subject,
        messageId: m.id,
        data: m.data,
        createdAt: new Date(),
      }),
    );
  }
}

/** Records the ids as processed by `consumer`; returns the ones not processed before. */
export async function claimMessages(
  em: EntityManager,
  schema: string,
  consumer: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await em.execute<{ message_id: string }[]>(
    `insert into ${quoteIdent(schema)}.processed_message (consumer, message_id, processed_at)
     select ?, id, now() from jsonb_array_elements_text(?::jsonb) as t(id)
     on conflict do nothing returning message_id`,
    [consumer, JSON.stringify([...new Set(ids)])],
  );
  return new Set(rows.map((r) => r.message_id));
}

export interface OutboxRelay {
  /** Publishes whatever is in the outbox now (tests and shutdown use it). */
  flush(): Promise<number>;
  stop(): Promise<void>;
}

/** Publishes the outbox in order, in batches; replicas share the work (skip locked). */
export function startOutboxRelay(options: {
  orm: MikroORM;
  schema: string;
  bus: EventBus;
  logger: Logger;
  intervalMs?: number;
  batchSize?: number;
}): OutboxRelay {
  const table = `${quoteIdent(options.schema)}.outbox`;
  const batchSize = options.batchSize ?? 1_000;
  let stopping = false;

  const publishBatch = () =>
    options.orm.em.fork().transactional(async (em) => {
      const rows = await em.execute<
        { seq: string; subject: string; message_id: string; data: unknown }[]
      >(
        `select seq, subject, message_id, data from ${table} order by seq limit ? for update skip locked`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      await options.bus.publish(
        rows.map((r) => ({ id: r.message_id, subject: r.subject, data: r.data })),
      );
      await em.execute(
        `delete from ${table} where seq in (select jsonb_array_elements_text(?::jsonb)::bigint)`,
        [JSON.stringify(rows.map((r) => r.seq))],
      );
      return rows.length;
    });

  const flush = async () => {
    let total = 0;
    for (;;) {
      const n = await publishBatch();
      total += n;
      if (n < batchSize) return total;
    }
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        await flush();
      } catch (error) {
        options.logger.warn({ err: error }, 'outbox relay: publishing failed, will retry');
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
    }
  })();

  return {
    flush,
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}
