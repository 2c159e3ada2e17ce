/**
 * Materialised segment membership with its history, and the `segment.entered` / `segment.exited`
 * events that go with it.
 *
 * One statement reconciles a segment's current members with its compiled rule, for the whole
 * population (a new or changed segment, the periodic sweep) or for a few customers (a change to
 * their profile or events, inside the transaction that made the change). Entries and exits are
 * written to the outbox in the same statement, so an event goes out if and only if the membership
 * changed.
 *
 * Concurrency: a full evaluation holds the segment's advisory lock exclusively; a live
 * re-evaluation holds it shared, so the two never interleave and a full evaluation never undoes a
 * live change it did not see.
 */
import { queryWithParams, SEGMENT_EVENTS_SUBJECT } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { compilePredicate, Params } from './compile.js';
import { dependenciesOf, type Dependencies, type SegmentNode } from './definition.js';

/** What caused a change: `change` (a customer's data), `evaluation` (new or changed rule), `sweep`, `deleted`. */
export type MembershipReason = 'change' | 'evaluation' | 'sweep' | 'deleted';

/** What changed for one customer; only segments reading one of these are re-evaluated. */
export interface CustomerChange {
  customerId: string;
  /** A new customer: every segment is evaluated for them. */
  created?: boolean;
  attributes?: Iterable<string>;
  events?: Iterable<string>;
  email?: boolean;
  predictions?: boolean;
}

export interface LiveSegment {
  id: string;
  name: string;
  version: number;
  definition: SegmentNode;
}

export interface ReconcileResult {
  entered: number;
  exited: number;
}

/** Loads the live segments (their definitions were validated when saved). */
export async function loadLiveSegments(em: EntityManager): Promise<LiveSegment[]> {
  const rows = await em.execute<
    { id: string; name: string; version: number; definition: SegmentNode }[]
  >(`select id, name, version, definition from segments.segment where deleted_at is null`);
  return rows;
}

export function segmentLookup(segments: LiveSegment[]) {
  const byId = new Map(segments.map((s) => [s.id, s.definition]));
  return (id: string) => byId.get(id) ?? null;
}

/** The segment's advisory lock key; the statement binds the segment id as `$1`. */
const LOCK_KEY = `hashtextextended('segment:' || $1::text, 0)`;

/**
 * Reconciles `segment`'s membership with its rule for `candidates` (every customer when absent).
 * Runs in the caller's transaction; takes the segment's advisory lock (exclusive for the whole
 * population, shared for candidates).
 */
export async function reconcileMembership(
  em: EntityManager,
  segment: LiveSegment,
  options: {
    lookup: (id: string) => SegmentNode | null;
    asOf: Date;
    reason: MembershipReason;
    candidates?: string[];
  },
): Promise<ReconcileResult> {
  const lock = options.candidates ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await queryWithParams(em, `select ${lock}(${LOCK_KEY})`, [segment.id]);

  const params = new Params(options.asOf);
  const predicate = compilePredicate(
    segment.definition,
    {
      lookup: options.lookup,
      asOf: options.asOf,
      mode: options.candidates ? 'customers' : 'population',
    },
    params,
  );
  const seg = params.add(segment.id, 'uuid');
  const now = params.now();
  const within = options.candidates ? params.add(options.candidates, 'text[]') : null;
  const event = (type: 'segment.entered' | 'segment.exited') =>
    `jsonb_build_object('type', '${type}', 'segmentId', ${seg}, 'segmentName', ${params.add(segment.name, 'text')},
       'customerId', customer_id, 'occurredAt', ${now}, 'reason', ${params.add(options.reason, 'text')})`;
  const subject = params.add(SEGMENT_EVENTS_SUBJECT, 'text');
  const sql = `
    with matching as materialized (
      select p.customer_id from segments.customer_profile p
      where ${within ? `p.customer_id = any(${within}) and ` : ''}(${predicate.sql})
    ),
    exited as (
      update segments.segment_membership m set exited_at = ${now}
      where m.segment_id = ${seg} and m.exited_at is null
        ${within ? `and m.customer_id = any(${within})` : ''}
        and not exists (select 1 from matching x where x.customer_id = m.customer_id)
      returning m.id, m.customer_id
    ),
    entered as (
      insert into segments.segment_membership (segment_id, customer_id, entered_at)
      select ${seg}, x.customer_id, ${now} from matching x
      where not exists (select 1 from segments.segment_membership m
        where m.segment_id = ${seg} and m.customer_id = x.customer_id and m.exited_at is null)
      returning id, customer_id
    ),
    published as (
      insert into segments.outbox (subject, message_id, data, created_at)
      select ${subject}, 'segment.entered:' || id, ${event('segment.entered')}, now() from entered
      union all
      select ${subject}, 'segment.exited:' || id, ${event('segment.exited')}, now() from exited
    )
    select (select count(*) from entered)::int as entered, (select count(*) from exited)::int as exited`;
  const [row] = await queryWithParams<ReconcileResult>(em, sql, params.values);
  return row!;
}

/** Ends every current membership of a deleted segment, with its `segment.exited` events. */
export async function exitAllMembers(
  em: EntityManager,
  segment: LiveSegment,
  asOf: Date,
): Promise<number> {
  await queryWithParams(em, `select pg_advisory_xact_lock(${LOCK_KEY})`, [segment.id]);
  const [row] = await queryWithParams<{ exited: number }>(
    em,
    `with exited as (
       update segments.segment_membership set exited_at = $2
       where segment_id = $1 and exited_at is null returning id, customer_id
     ),
     published as (
       insert into segments.outbox (subject, message_id, data, created_at)
       select $3, 'segment.exited:' || id, jsonb_build_object('type', 'segment.exited', 'segmentId', $1::uuid,
         'segmentName', $4::text, 'customerId', customer_id, 'occurredAt', $2::timestamptz, 'reason', 'deleted'), now()
       from exited
     )
     select count(*)::int as exited from exited`,
    [segment.id, asOf.toISOString(), SEGMENT_EVENTS_SUBJECT, segment.name],
  );
  return row!.exited;
}

/** True when a segment reading `deps` can change for `change`. */
export function isAffected(deps: Dependencies, change: CustomerChange): boolean {
  if (change.created) return true;
  if (change.email && deps.email) return true;
  if (change.predictions && deps.predictions) return true;
  for (const a of change.attributes ?? []) if (deps.attributes.has(a)) return true;
  for (const e of change.events ?? []) if (deps.events.has(e)) return true;
  return false;
}

/**
 * Re-evaluates, inside the caller's transaction, only the segments whose rules read what changed,
 * and only for the customers it changed for.
 */
export class LiveMembership {
  async apply(
    em: EntityManager,
    changes: CustomerChange[],
    asOf = new Date(),
  ): Promise<ReconcileResult & { segments: number }> {
    const total = { entered: 0, exited: 0, segments: 0 };
    if (changes.length === 0) return total;
    const segments = await loadLiveSegments(em);
    if (segments.length === 0) return total;
    const lookup = segmentLookup(segments);
    // Sorted, so concurrent transactions take the segments' shared locks in the same order.
    for (const segment of segments.sort((a, b) => a.id.localeCompare(b.id))) {
      const deps = dependenciesOf(segment.definition, lookup);
      const candidates = changes.filter((c) => isAffected(deps, c)).map((c) => c.customerId);
      if (candidates.length === 0) continue;
      const result = await reconcileMembership(em, segment, {
        lookup,
        asOf,
        reason: 'change',
        candidates,
      });
      total.entered += result.entered;
      total.exited += result.exited;
      total.segments += 1;
    }
    return total;
  }
}
