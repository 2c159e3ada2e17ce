/** The Analytics Service as a startable subgraph. */
import {
  createLogger,
  OutboxMessage,
  ProcessedMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphDeps,
} from '@marketing/platform';
import { AbDecisionRecord } from './abtest/ab-decision.entity.js';
import { startCampaignEventsConsumer } from './campaign/campaign-events.consumer.js';
import { CampaignSnapshot } from './campaign/campaign-snapshot.entity.js';
import type { AnalyticsConfig } from './config.js';
import { Destination, DestinationDelivery } from './destinations/destination.entity.js';
import { startDestinations } from './destinations/destination.start.js';
import { startAnalyticsErasure } from './erasure/erasure.consumer.js';
import { Touchpoint } from './journey/touchpoint.entity.js';
import { createLoaders, type AnalyticsLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { CustomerRfm, PredictionModel } from './predictions/prediction.entity.js';
import { startPredictionRefits } from './predictions/prediction.service.js';
import { buildAnalyticsSchema } from './schema.js';
import { AttributedOrder, DeliveryFact } from './stats/facts.entity.js';
import { LiveStats } from './stats/live-stats.js';
import { startStatsConsumers } from './stats/stats.consumer.js';
import { CampaignStatsRow, StatsBucketRow, VariantStatsRow } from './stats/stats.entity.js';

export const analyticsSubgraph: SubgraphDefinition<AnalyticsLoaders> = {
  name: 'analytics',
  database: {
    schema: 'analytics',
    entities: [
      CampaignStatsRow,
      VariantStatsRow,
      StatsBucketRow,
      Touchpoint,
      DeliveryFact,
      AttributedOrder,
      PredictionModel,
      CustomerRfm,
      CampaignSnapshot,
      AbDecisionRecord,
      Destination,
      DestinationDelivery,
      OutboxMessage,
      ProcessedMessage,
    ],
    migrations,
  },
  buildSchema: buildAnalyticsSchema,
  createLoaders,
  bus: { outbox: true },
};

export async function startAnalyticsWorkers(deps: SubgraphDeps, config: AnalyticsConfig) {
  const stops = [
    await startAnalyticsErasure({
      orm: deps.orm,
      bus: deps.bus!,
      logger: deps.logger,
      metrics: deps.metrics,
      backoffMs: deps.backoffMs,
    }),
    await startStatsConsumers({
      orm: deps.orm,
      bus: deps.bus!,
      logger: deps.logger,
      metrics: deps.metrics,
      backoffMs: deps.backoffMs,
      attributionWindowDays: config.ATTRIBUTION_WINDOW_DAYS,
    }),
    await startCampaignEventsConsumer({
      orm: deps.orm,
      bus: deps.bus!,
      logger: deps.logger,
      metrics: deps.metrics,
      backoffMs: deps.backoffMs,
    }).then((consumer) => () => consumer.stop()),
    startPredictionRefits({
      orm: deps.orm,
      logger: deps.logger,
      metrics: deps.metrics,
      intervalMs: config.PREDICTION_REFIT_INTERVAL_MS,
    }),
    await startDestinations(
      {
        orm: deps.orm,
        bus: deps.bus!,
        logger: deps.logger,
        metrics: deps.metrics,
        backoffMs: deps.backoffMs,
      },
      config,
    ),
  ];
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

export async function startAnalytics(config: AnalyticsConfig) {
  const live = new LiveStats(config.DATABASE_URL, createLogger('analytics', config.LOG_LEVEL));
  await live.start();
  try {
    const running = await startSubgraph(
      {
        ...analyticsSubgraph,
        createLoaders: (em) =>
          createLoaders(em, live, { allowLoopback: config.DESTINATIONS_ALLOW_LOOPBACK }),
        startWorkers: (deps) => startAnalyticsWorkers(deps, config),
      },
      config,
    );
    return {
      ...running,
      close: async () => {
        await running.close();
        await live.stop();
      },
    };
  } catch (error) {
    await live.stop();
    throw error;
  }
}
