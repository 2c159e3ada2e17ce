/** The only place the campaigns subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';
import { z } from 'zod';

export const campaignsEnv = subgraphEnv(4001).extend({
  /** Send requests per second a replica makes for broadcasts (the throttle). */
  BROADCAST_RATE_PER_SECOND: z.coerce.number().positive().default(1_000),
  /**
   * Global frequency cap: at most N marketing emails per customer per window, across campaigns,
   * as "<count>/<hours>h" (e.g. "3/24h"); empty: no cap. A capped automation send is skipped.
   */
  FREQUENCY_CAP: z
    .string()
    .regex(/^(\d+\/\d+h)?$/, 'must look like "3/24h" (or be empty)')
    .default(''),
  /** Quiet hours in each customer's timezone, "HH:MM-HH:MM" (may wrap midnight); empty: none. */
  QUIET_HOURS: z
    .string()
    .regex(/^(([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)?$/, 'must look like "21:00-08:00"')
    .default(''),
  /** Timezone for customers whose profile has none (local-time waits, quiet hours). */
  DEFAULT_TIMEZONE: z.string().default('UTC'),
  /** Step jobs one replica runs at once. */
  AUTOMATION_CONCURRENCY: z.coerce.number().int().positive().default(4),
});
export type CampaignsConfig = z.infer<typeof campaignsEnv>;

export function loadCampaignsConfig(env: NodeJS.ProcessEnv = process.env): CampaignsConfig {
  return loadConfig(campaignsEnv, env);
}
