/** The Analytics Service as a startable subgraph. */
import {
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
import { Touchpoint } from './journey/touchpoint.entity.js';
import { createLoaders, type AnalyticsLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildAnalyticsSchema } from './schema.js';
import { CampaignStatsRow, StatsBucketRow, VariantStatsRow } from './stats/stats.entity.js';

export const analyticsSubgraph: SubgraphDefinition<AnalyticsLoaders> = {
  name: 'analytics',
  database: {
    schema: 'analytics',
    entities: [CampaignStatsRow, VariantStatsRow, StatsBucketRow, Touchpoint],
    migrations,
  },
  buildSchema: buildAnalyticsSchema,
  createLoaders,
};

export function startAnalytics(config: SubgraphRuntimeConfig) {
  return startSubgraph(analyticsSubgraph, config);
}
