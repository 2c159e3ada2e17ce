/** The Campaign Manager as a startable subgraph. */
import {
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
import { Campaign, CampaignAuditEntry, CampaignVariant } from './campaign/campaign.entity.js';
import { CampaignEnrollment } from './enrollment/enrollment.entity.js';
import { createLoaders, type CampaignsLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildCampaignsSchema } from './schema.js';

export const campaignsSubgraph: SubgraphDefinition<CampaignsLoaders> = {
  name: 'campaigns',
  database: {
    schema: 'campaigns',
    entities: [Campaign, CampaignVariant, CampaignAuditEntry, CampaignEnrollment],
    migrations,
  },
  buildSchema: buildCampaignsSchema,
  createLoaders,
};

export function startCampaigns(config: SubgraphRuntimeConfig) {
  return startSubgraph(campaignsSubgraph, config);
}
