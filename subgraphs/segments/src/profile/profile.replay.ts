/**
 * Rebuilds the profile projection from the retained `ecommerce.events` log: empties the projection,
 * applies every retained message in order, and (on the PostgreSQL log) moves the live consumer to
 * the end of what was replayed. Run it with the segments service stopped: on the PostgreSQL log it
 * refuses while a live consumer holds the projection.
 */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  parseIngestedDelivery,
  PgEventLog,
  type EventBus,
} from '@marketing/platform';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { PROFILE_CONSUMER, ProfileProjection } from './profile.projection.js';

export interface ReplayResult {
  replayed: number;
  invalid: number;
  profiles: number;
}

export async function replayProfiles(options: {
  orm: MikroORM;
  bus: EventBus;
  databaseUrl: string;
}): Promise<ReplayResult> {
  const lock =
    options.bus instanceof PgEventLog ? await holdConsumer(options.databaseUrl) : undefined;
  try {
    const head = options.bus instanceof PgEventLog ? await options.bus.head() : undefined;
    await options.orm.em.fork().execute(
      `truncate segments.customer_profile, segments.customer_event, segments.customer_order, segments.customer_order_refund;
       delete from segments.processed_message where consumer = '${PROFILE_CONSUMER}'`,
    );
    const projection = new ProfileProjection(options.orm.em);
    let invalid = 0;
    const replayed = await options.bus.replay(ECOMMERCE_EVENTS_SUBJECT, async (batch) => {
      const messages = batch.flatMap((m) => {
        try {
          return [parseIngestedDelivery({ ...m, attempt: 1 })];
        } catch {
          invalid += 1; // the live consumer dead-lettered it; a rebuild skips it the same way
          return [];
        }
      });
      await projection.apply(messages);
    });
    if (lock && head) {
      await lock.query(
        'update bus.consumer_offset set position = greatest(position, $2) where consumer = $1',
        [PROFILE_CONSUMER, head],
      );
    }
    const [{ n }] = await options.orm.em
      .fork()
      .execute('select count(*)::int as n from segments.customer_profile');
    return { replayed, invalid, profiles: n };
  } finally {
    await lock?.end();
  }
}

/** Takes the live consumer's lock for the duration of the rebuild. */
async function holdConsumer(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('select pg_try_advisory_lock(hashtext($1)) as locked', [
    `bus:consumer:${PROFILE_CONSUMER}`,
  ]);
  if (!rows[0].locked) {
    await client.end();
    throw new Error('the profile consumer is running: stop the segments service before replaying');
  }
  return client;
}
