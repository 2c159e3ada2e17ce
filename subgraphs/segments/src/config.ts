/** The only place the segments subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';

export const segmentsEnv = subgraphEnv(4002);
export type SegmentsConfig = ReturnType<typeof segmentsEnv.parse>;

export function loadSegmentsConfig(env: NodeJS.ProcessEnv = process.env): SegmentsConfig {
  return loadConfig(segmentsEnv, env);
}
