/** The campaigns subgraph's federated schema. */
import { buildFederatedSchema } from '@marketing/platform';
import { BlueprintResolver } from './automation/blueprint.resolver.js';
import { CampaignResolver, CampaignVariantResolver } from './campaign/campaign.resolver.js';
import type { CampaignsContext } from './context.js';
import { Customer } from './customer/references.type.js';
import {
  CampaignEnrollmentResolver,
  CustomerEnrollmentResolver,
} from './enrollment/enrollment.resolver.js';

export function buildCampaignsSchema() {
  return buildFederatedSchema({
    resolvers: [
      CampaignResolver,
      CampaignVariantResolver,
      CustomerEnrollmentResolver,
      CampaignEnrollmentResolver,
      BlueprintResolver,
    ],
    // Reachable only through _entities, which type-graphql does not see.
    orphanedTypes: [Customer],
    referenceResolvers: {
      Customer: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
      Campaign: {
        __resolveReference: (ref: { id: string }, ctx: CampaignsContext) =>
          ctx.loaders.campaign.load(ref.id),
      },
    },
  });
}
