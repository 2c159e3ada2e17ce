/** Request-scoped DataLoaders of the analytics subgraph. */
import { byKeyLoader, groupLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { journeyLoader } from './journey/journey.loader.js';
import type { LiveStats } from './stats/live-stats.js';
import { CampaignStatsRow, StatsBucketRow, VariantStatsRow } from './stats/stats.entity.js';
import type { StatsBucket } from './stats/stats.types.js';

export function createLoaders(em: EntityManager, live?: LiveStats) {
  return {
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
  };
}

export type AnalyticsLoaders = ReturnType<typeof createLoaders>;
