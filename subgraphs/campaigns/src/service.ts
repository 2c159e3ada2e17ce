/** The Campaign Manager as a startable subgraph. */
import {
  OutboxMessage,
  ProcessedMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphDeps,
} from '@marketing/platform';
import { startAudienceConsumers } from './audience/audience.consumer.js';
import { SegmentMember, TemplateVersion } from './audience/audience.entity.js';
import { startDispatcher } from './broadcast/dispatcher.js';
import { Campaign, CampaignAuditEntry, CampaignVariant } from './campaign/campaign.entity.js';
import type { CampaignsConfig } from './config.js';
import { CampaignEnrollment } from './enrollment/enrollment.entity.js';
import { createLoaders, type CampaignsLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { buildCampaignsSchema } from './schema.js';

export const campaignsSubgraph: SubgraphDefinition<CampaignsLoaders> = {
  name: 'campaigns',
  database: {
    schema: 'campaigns',
    entities: [
      Campaign,
      CampaignVariant,
      CampaignAuditEntry,
      CampaignEnrollment,
      SegmentMember,
      TemplateVersion,
      OutboxMessage,
      ProcessedMessage,
    ],
    migrations,
  },
  buildSchema: buildCampaignsSchema,
  createLoaders,
  bus: { outbox: true },
};

export async function startCampaignsWorkers(deps: SubgraphDeps, config: CampaignsConfig) {
  const { orm, bus, logger, metrics, backoffMs } = deps;
  const stops = [
    await startAudienceConsumers({ orm, bus: bus!, logger, metrics, backoffMs }),
    startDispatcher({ orm, logger, metrics, ratePerSecond: config.BROADCAST_RATE_PER_SECOND }),
  ];
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

export function startCampaigns(config: CampaignsConfig) {
  return startSubgraph(
    { ...campaignsSubgraph, startWorkers: (deps) => startCampaignsWorkers(deps, config) },
    config,
  );
}
