/** Request-scoped DataLoaders of the campaigns subgraph. */
import { byKeyLoader, groupLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Campaign, CampaignVariant } from './campaign/campaign.entity.js';
import { CampaignEnrollment } from './enrollment/enrollment.entity.js';

export function createLoaders(em: EntityManager) {
  return {
    campaign: byKeyLoader(em, Campaign),
    variantsByCampaign: groupLoader(em, CampaignVariant, 'campaign', {
      orderBy: { position: 'asc' },
    }),
    enrollmentsByCustomer: groupLoader(em, CampaignEnrollment, 'customerId', {
      orderBy: { enteredAt: 'desc' },
    }),
  };
}

export type CampaignsLoaders = ReturnType<typeof createLoaders>;
