/** The Campaign Manager as a startable subgraph. */
import {
  OutboxMessage,
  ProcessedMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphDeps,
} from '@marketing/platform';
import type { Clock } from 'pg-boss';
import { startAudienceConsumers } from './audience/audience.consumer.js';
import { SegmentMember, TemplateVersion } from './audience/audience.entity.js';
import {
  AutomationCustomer,
  AutomationEvent,
  AutomationSendLog,
} from './automation/automation.entity.js';
import { automationSettings, startAutomationWorker } from './automation/automation.worker.js';
import { startAbDecisionConsumer } from './broadcast/ab-test.js';
import { startDispatcher, SYSTEM } from './broadcast/dispatcher.js';
import { Campaign, CampaignAuditEntry, CampaignVariant } from './campaign/campaign.entity.js';
import { setDefaultTimezone } from './campaign/campaign.service.js';
import type { CampaignsConfig } from './config.js';
import { CampaignEnrollment } from './enrollment/enrollment.entity.js';
import { startCampaignsErasure } from './erasure/erasure.consumer.js';
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
      AutomationCustomer,
      AutomationEvent,
      AutomationSendLog,
      OutboxMessage,
      ProcessedMessage,
    ],
    migrations,
  },
  buildSchema: buildCampaignsSchema,
  createLoaders,
  bus: { outbox: true },
};

export interface CampaignsOptions {
  /** The automation engine's clock (pg-boss's); tests pass a TestClock. */
  clock?: Clock;
}

export async function startCampaignsWorkers(
  deps: SubgraphDeps,
  config: CampaignsConfig,
  options: CampaignsOptions = {},
) {
  const { orm, bus, logger, metrics, backoffMs } = deps;
  const settings = automationSettings(config);
  const automations = await startAutomationWorker({
    orm,
    bus: bus!,
    logger,
    metrics,
    backoffMs,
    databaseUrl: config.DATABASE_URL,
    settings,
    clock: options.clock,
    concurrency: config.AUTOMATION_CONCURRENCY,
  });
  setDefaultTimezone(config.DEFAULT_TIMEZONE);
  const stops = [
    await startAudienceConsumers({ orm, bus: bus!, logger, metrics, backoffMs }),
    await startCampaignsErasure({ orm, bus: bus!, logger, metrics, backoffMs }),
    await startAbDecisionConsumer({ orm, bus: bus!, logger, metrics, backoffMs }, SYSTEM),
    startDispatcher({
      orm,
      logger,
      metrics,
      ratePerSecond: config.BROADCAST_RATE_PER_SECOND,
      frequencyCap: settings.frequencyCap,
    }),
    automations.stop,
  ];
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

export function startCampaigns(config: CampaignsConfig, options: CampaignsOptions = {}) {
  return startSubgraph(
    { ...campaignsSubgraph, startWorkers: (deps) => startCampaignsWorkers(deps, config, options) },
    config,
  );
}
