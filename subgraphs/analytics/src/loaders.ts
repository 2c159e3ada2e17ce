/** Request-scoped DataLoaders of the analytics subgraph. */
import { byKeyLoader, groupLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { abTestLoaders } from './abtest/ab-test.loaders.js';
import { destinationLoaders } from './destinations/destination.loaders.js';
import type { UrlPolicy } from './destinations/destination.url.js';
import { journeyLoader } from './journey/journey.loader.js';
import type { Models, RfmRow } from './predictions/prediction.service.js';
import type { LiveStats } from './stats/live-stats.js';
import { CampaignStatsRow, StatsBucketRow, VariantStatsRow } from './stats/stats.entity.js';
import type { StatsBucket } from './stats/stats.types.js';

export function createLoaders(
  em: EntityManager,
  live?: LiveStats,
  destinationUrlPolicy: UrlPolicy = { allowLoopback: false },
) {
  return {
    /** Which destination URLs may be saved (DESTINATIONS_ALLOW_LOOPBACK). */
    destinationUrlPolicy,
    ...destinationLoaders(em),
    /** Live stats notifications: present when the service runs (not in schema-only uses). */
    live: (): LiveStats => {
      if (!live) throw new Error('live stats are not running');
      return live;
    },
    campaignStats: byKeyLoader(em, CampaignStatsRow, 'campaignId'),
    /** The rows have the VariantStats fields (and their campaign id). */
    variantStats: groupLoader(em, VariantStatsRow, 'campaignId', { orderBy: { variantId: 'asc' } }),
    /** Keyed by `${campaignId}|${size}`. */
    timeline: new DataLoader<string, StatsBucket[]>(async (keys) => {
      const pairs = keys.map((k) => k.split('|') as [string, string]);
      const rows = await em.find(
        StatsBucketRow,
        { $or: pairs.map(([campaignId, size]) => ({ campaignId, size })) },
        { orderBy: { start: 'asc' } },
      );
      return pairs.map(([campaignId, size]) =>
        rows.filter((r) => r.campaignId === campaignId && r.size === size),
      );
    }),
    journey: journeyLoader(em),
    ...abTestLoaders(em),
    /** The latest model and each customer's summary, for Customer.predictions. */
    predictions: new DataLoader<string, { models: Models; rfm: RfmRow } | null>(async (ids) => {
      const rows = await em.getConnection().execute<
        (RfmRow & {
          model_id: string;
          fitted_at: string;
          bg_nbd: Models['bgNbd'];
          gamma_gamma: Models['gammaGamma'];
        })[]
      >(
        `select r.customer_id, r.frequency, r.recency, r.age, r.monetary_value, m.id as model_id,
           m.fitted_at, m.bg_nbd, m.gamma_gamma
         from analytics.customer_rfm r join analytics.prediction_model m on m.id = r.model_id
         where r.customer_id in (select jsonb_array_elements_text(?::jsonb))`,
        [JSON.stringify(ids)],
      );
      const byId = new Map(
        rows.map((r) => [
          r.customer_id,
          {
            models: {
              modelId: r.model_id,
              fittedAt: new Date(r.fitted_at),
              bgNbd: r.bg_nbd,
              gammaGamma: r.gamma_gamma,
            },
            rfm: r,
          },
        ]),
      );
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

export type AnalyticsLoaders = ReturnType<typeof createLoaders>;
