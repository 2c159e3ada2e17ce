/** The only place the segments subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';
import { z } from 'zod';

export const segmentsEnv = subgraphEnv(4002).extend({
  /** How often segments with relative time windows are re-evaluated in full (default 5 minutes). */
  SEGMENT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1_000).default(300_000),
});
export type SegmentsConfig = ReturnType<typeof segmentsEnv.parse>;

export function loadSegmentsConfig(env: NodeJS.ProcessEnv = process.env): SegmentsConfig {
  return loadConfig(segmentsEnv, env);
}
