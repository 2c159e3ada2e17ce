/**
 * Background evaluation of segment membership over the whole population: a new or changed segment
 * (its `version` ahead of `evaluatedVersion`), and the periodic sweep of segments whose rules change
 * with time alone (relative windows that expire without a new event). The state lives in the
 * segment rows, so a restart resumes where it stopped; replicas share the work (skip locked).
 */
import type { Logger, ServiceMetrics } from '@marketing/platform';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { dependenciesOf } from './definition.js';
import { loadLiveSegments, reconcileMembership, segmentLookup } from './membership.js';

export const EVALUATION_STAGE = 'segments.evaluation';

export interface SegmentWorkerOptions {
  orm: MikroORM;
  logger: Logger;
  metrics?: ServiceMetrics;
  /** How often time-dependent segments are re-evaluated in full. */
  sweepIntervalMs: number;
  /** How often the worker looks for work. */
  pollMs?: number;
}

export interface DueSegment {
  id: string;
  reason: 'evaluation' | 'sweep';
}

/** Segments that need a full evaluation now. */
export async function dueSegments(
  em: EntityManager,
  sweepIntervalMs: number,
  now = new Date(),
): Promise<DueSegment[]> {
  const live = await em.execute<
    {
      id: string;
      name: string;
      version: number;
      evaluated_version: number;
      evaluated_at: string | null;
      definition: never;
    }[]
  >(
    `select id, name, version, evaluated_version, evaluated_at::text, definition
     from segments.segment where deleted_at is null order by updated_at`,
  );
  const lookup = segmentLookup(live);
  const due: DueSegment[] = [];
  for (const s of live) {
    if (s.evaluated_version < s.version) due.push({ id: s.id, reason: 'evaluation' });
    else if (
      dependenciesOf(s.definition, lookup).timeDependent &&
      (!s.evaluated_at || now.getTime() - Date.parse(s.evaluated_at) >= sweepIntervalMs)
    ) {
      due.push({ id: s.id, reason: 'sweep' });
    }
  }
  return due;
}

/**
 * Evaluates one segment in full, unless another worker holds it; returns null when skipped.
 */
export async function evaluateSegment(
  orm: MikroORM,
  id: string,
  reason: DueSegment['reason'],
  asOf = new Date(),
) {
  return orm.em.fork().transactional(async (em) => {
    const [row] = await em.execute<{ version: number }[]>(
      `select version from segments.segment where id = ? and deleted_at is null for update skip locked`,
      [id],
    );
    if (!row) return null;
    // Full evaluations hash and sort the population: in memory rather than on disk.
    await em.execute(`set local work_mem = '64MB'`);
    await em.execute(`set local jit = off`);
    const live = await loadLiveSegments(em);
    const segment = live.find((s) => s.id === id)!;
    const result = await reconcileMembership(em, segment, {
      lookup: segmentLookup(live),
      asOf,
      reason,
    });
    await em.execute(
      `update segments.segment set evaluated_version = ?, evaluated_at = ? where id = ?`,
      [row.version, asOf, id],
    );
    return result;
  });
}

export function startSegmentWorker(options: SegmentWorkerOptions): () => Promise<void> {
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      try {
        const due = await dueSegments(options.orm.em.fork(), options.sweepIntervalMs);
        for (const { id, reason } of due) {
          if (stopping) break;
          const started = performance.now();
          const result = await evaluateSegment(options.orm, id, reason);
          if (!result) continue;
          options.metrics?.messages.inc({ stage: EVALUATION_STAGE, result: reason });
          options.logger.info(
            { segmentId: id, reason, ...result, ms: Math.round(performance.now() - started) },
            'segment evaluated',
          );
        }
      } catch (error) {
        options.logger.error({ err: error }, 'segment worker: evaluation failed, will retry');
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, options.pollMs ?? 1_000);
      });
    }
  })();
  return async () => {
    stopping = true;
    wake?.();
    await loop;
  };
}
