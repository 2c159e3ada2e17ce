/** The only place the campaigns subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';
import { z } from 'zod';

export const campaignsEnv = subgraphEnv(4001).extend({
  /** Send requests per second a replica makes for broadcasts (the throttle). */
  BROADCAST_RATE_PER_SECOND: z.coerce.number().positive().default(1_000),
});
export type CampaignsConfig = z.infer<typeof campaignsEnv>;

export function loadCampaignsConfig(env: NodeJS.ProcessEnv = process.env): CampaignsConfig {
  return loadConfig(campaignsEnv, env);
}
