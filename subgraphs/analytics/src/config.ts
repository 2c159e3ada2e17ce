/** The only place the analytics subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';
import { z } from 'zod';

export const analyticsEnv = subgraphEnv(4004).extend({
  /** An order counts as a conversion of the message clicked (else opened) this many days before. */
  ATTRIBUTION_WINDOW_DAYS: z.coerce.number().int().min(1).max(90).default(5),
  /** How often BG/NBD and Gamma-Gamma are refitted on the order history (default daily). */
  PREDICTION_REFIT_INTERVAL_MS: z.coerce.number().int().min(10_000).default(86_400_000),
});
export type AnalyticsConfig = z.infer<typeof analyticsEnv>;

export function loadAnalyticsConfig(env: NodeJS.ProcessEnv = process.env): AnalyticsConfig {
  return loadConfig(analyticsEnv, env);
}
