/**
 * The per-destination delivery queue in PostgreSQL. Filling it is idempotent (unique (destination,
 * event)); a worker claims due rows with `for update skip locked` and a lease (a crashed worker's
 * claims lapse and are retried), records each outcome, and after the last attempt leaves the row
 * DEAD with its last error until a replay puts it back.
 */
import { queryWithParams } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DeliveryState, type DestinationKind, type ForwardedEvent } from './destination.entity.js';

/** Queues each event for every enabled destination whose filter takes it; returns rows added. */
export async function enqueueEvents(em: EntityManager, events: ForwardedEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = await queryWithParams<{ n: number }>(
    em,
    `with added as (
       insert into analytics.destination_delivery
         (destination_id, event_id, event_type, customer_id, event, state, attempts,
          next_attempt_at, created_at)
       select d.id, e.event->>'id', e.event->>'type', e.event->>'customerId', e.event, $2, 0,
         now(), now()
       from jsonb_array_elements($1::jsonb) as e(event)
       join analytics.destination d on d.enabled
         and (jsonb_array_length(d.events) = 0 or d.events @> jsonb_build_array(e.event->>'type'))
       on conflict (destination_id, event_id) do nothing
       returning 1)
     select count(*)::int as n from added`,
    [JSON.stringify(events), DeliveryState.PENDING],
  );
  return rows[0]?.n ?? 0;
}

export interface ClaimedDelivery {
  id: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
  event: ForwardedEvent;
  destinationId: string;
  kind: DestinationKind;
  url: string;
  secret: string;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`: not claimed by another attempt, of enabled
 * destinations that are not paused after failures, at most `perDestination` in flight for each
 * destination (counting the `inFlight` ones already). Destinations are read one by one (their
 * earliest due rows), so a long backlog of one is never scanned to reach the others.
 */
export async function claimDue(
  em: EntityManager,
  limit: number,
  leaseMs: number,
  perDestination: number,
  inFlight: ReadonlyMap<string, number> = new Map(),
): Promise<ClaimedDelivery[]> {
  const rows = await queryWithParams<{
    id: string;
    attempts: number;
    event: ForwardedEvent;
    destination_id: string;
    kind: DestinationKind;
    url: string;
    secret: string;
  }>(
    em,
    `with due as (
       select c.id from analytics.destination d
       cross join lateral (
         select q.id, q.next_attempt_at from analytics.destination_delivery q
         where q.destination_id = d.id and q.state = $3 and q.next_attempt_at <= now()
           and (q.claimed_until is null or q.claimed_until <= now())
         order by q.next_attempt_at, q.id
         limit greatest(0, $4 - coalesce(
           (select f.n from unnest($5::uuid[], $6::int[]) as f(id, n) where f.id = d.id), 0))
         for update of q skip locked) c
       where d.enabled and (d.paused_until is null or d.paused_until <= now())
       order by c.next_attempt_at, c.id
       limit $1)
     update analytics.destination_delivery q
     set attempts = q.attempts + 1,
         claimed_until = now() + $2::double precision * interval '1 millisecond'
     from due, analytics.destination d
     where q.id = due.id and d.id = q.destination_id
     returning q.id, q.attempts, q.event, d.id as destination_id, d.kind, d.url, d.secret`,
    [
      limit,
      leaseMs,
      DeliveryState.PENDING,
      perDestination,
      [...inFlight.keys()],
      [...inFlight.values()],
    ],
  );
  return rows.map((r) => ({
    id: String(r.id),
    attempt: r.attempts,
    event: r.event,
    destinationId: r.destination_id,
    kind: r.kind,
    url: r.url,
    secret: r.secret,
  }));
}

export async function markDelivered(em: EntityManager, delivery: ClaimedDelivery): Promise<void> {
  await em.transactional(async (tx) => {
    await queryWithParams(
      tx,
      `update analytics.destination_delivery
       set state = $2, delivered_at = now(), dead_at = null, last_error = null, claimed_until = null
       where id = $1`,
      [delivery.id, DeliveryState.DELIVERED],
    );
    await queryWithParams(
      tx,
      `update analytics.destination
       set last_delivered_at = now(), failure_count = 0, paused_until = null where id = $1`,
      [delivery.destinationId],
    );
  });
}

export interface Failure {
  error: string;
  /** Retried after this long; dead when null. */
  retryInMs: number | null;
  /** Counts against the destination (failureCount); not for attempts cut short by a shutdown. */
  counted: boolean;
  /**
   * Pauses the whole destination (every delivery of a failing receiver waits, not only this one):
   * base·2^(consecutive failures), capped, times 50-100%.
   */
  pause?: { baseMs: number; maxMs: number };
}

/**
 * Records a failed attempt. Ignored when the row has moved on meanwhile (its claim lapsed and
 * another attempt started).
 */
export async function markFailed(
  em: EntityManager,
  delivery: ClaimedDelivery,
  failure: Failure,
): Promise<void> {
  await em.transactional(async (tx) => {
    const updated = await queryWithParams(
      tx,
      `update analytics.destination_delivery
       set last_error = $3, claimed_until = null,
           state = case when $4::bigint is null then $6 else state end,
           dead_at = case when $4::bigint is null then now() end,
           next_attempt_at = case when $4::bigint is null then next_attempt_at
                                  else now() + $4::double precision * interval '1 millisecond' end
       where id = $1 and attempts = $2 and state = $5
       returning id`,
      [
        delivery.id,
        delivery.attempt,
        failure.error,
        failure.retryInMs,
        DeliveryState.PENDING,
        DeliveryState.DEAD,
      ],
    );
    if (updated.length === 0 || !failure.counted) return;
    await queryWithParams(
      tx,
      `update analytics.destination
       set failure_count = failure_count + 1,
           paused_until = case when $2::boolean then greatest(paused_until, now()
             + least($4::double precision, $3::double precision * power(2, least(failure_count, 30)))
             * (0.5 + random() / 2) * interval '1 millisecond') else paused_until end
       where id = $1`,
      [
        delivery.destinationId,
        failure.pause !== undefined,
        failure.pause?.baseMs ?? 0,
        failure.pause?.maxMs ?? 0,
      ],
    );
  });
}

/** Puts a destination's dead deliveries back in the queue, due now; returns how many. */
export async function requeueDead(em: EntityManager, destinationId: string): Promise<number> {
  const rows = await queryWithParams(
    em,
    `update analytics.destination_delivery
     set state = $2, attempts = 0, next_attempt_at = now(), dead_at = null
     where destination_id = $1 and state = $3
     returning id`,
    [destinationId, DeliveryState.PENDING, DeliveryState.DEAD],
  );
  await retryNow(em, destinationId);
  return rows.length;
}

/** Lifts the destination's pause and makes its waiting deliveries due now (not those in flight). */
export async function retryNow(em: EntityManager, destinationId: string): Promise<void> {
  await queryWithParams(em, `update analytics.destination set paused_until = null where id = $1`, [
    destinationId,
  ]);
  await queryWithParams(
    em,
    `update analytics.destination_delivery set next_attempt_at = now()
     where destination_id = $1 and state = $2 and next_attempt_at > now()
       and (claimed_until is null or claimed_until <= now())`,
    [destinationId, DeliveryState.PENDING],
  );
}

/** Deletes delivered rows older than `olderThanMs`, a batch at a time; returns how many. */
export async function pruneDelivered(em: EntityManager, olderThanMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await queryWithParams<{ n: number }>(
      em,
      `with gone as (
         delete from analytics.destination_delivery where id in (
           select id from analytics.destination_delivery
           where state = $1 and delivered_at < now() - $2::double precision * interval '1 millisecond'
           limit 5000)
         returning 1)
       select count(*)::int as n from gone`,
      [DeliveryState.DELIVERED, olderThanMs],
    );
    total += rows[0]?.n ?? 0;
    if ((rows[0]?.n ?? 0) < 5_000) return total;
  }
}

/** Exponential backoff with jitter: base·2^(attempt-1), capped, then scaled by 50-100%. */
export function retryDelayMs(
  attempt: number,
  backoff: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exponential * (0.5 + random() / 2));
}
