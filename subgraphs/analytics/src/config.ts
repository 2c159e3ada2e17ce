/** The only place the analytics subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';

export const analyticsEnv = subgraphEnv(4004);
export type AnalyticsConfig = ReturnType<typeof analyticsEnv.parse>;

export function loadAnalyticsConfig(env: NodeJS.ProcessEnv = process.env): AnalyticsConfig {
  return loadConfig(analyticsEnv, env);
}
