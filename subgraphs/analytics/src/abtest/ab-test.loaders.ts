/** Request-scoped loaders of Campaign.abTestResult: one statement per batch of campaigns each. */
import { byKeyLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { CampaignSnapshot } from '../campaign/campaign-snapshot.entity.js';
import { AbDecisionRecord } from './ab-decision.entity.js';
import { type ArmCounts, loadArmCounts } from './ab-test.service.js';

export function abTestLoaders(em: EntityManager) {
  return {
    campaignSnapshot: byKeyLoader(em, CampaignSnapshot, 'campaignId'),
    abCounts: new DataLoader<string, ArmCounts[]>(async (ids) => {
      const counts = await loadArmCounts(em, ids);
      return ids.map((id) => counts.get(id) ?? []);
    }),
    /** The latest decision taken for each campaign. */
    abDecision: new DataLoader<string, AbDecisionRecord | null>(async (ids) => {
      const rows = await em.find(
        AbDecisionRecord,
        { campaignId: { $in: [...ids] } },
        { orderBy: { decidedAt: 'desc' } },
      );
      return ids.map((id) => rows.find((r) => r.campaignId === id) ?? null);
    }),
  };
}
