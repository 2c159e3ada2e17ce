/** The only place the campaigns subgraph reads its environment. */
import { loadConfig, subgraphEnv } from '@marketing/platform';

export const campaignsEnv = subgraphEnv(4001);
export type CampaignsConfig = ReturnType<typeof campaignsEnv.parse>;

export function loadCampaignsConfig(env: NodeJS.ProcessEnv = process.env): CampaignsConfig {
  return loadConfig(campaignsEnv, env);
}
