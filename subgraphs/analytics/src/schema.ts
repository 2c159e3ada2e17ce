/** The analytics subgraph's federated schema. */
import { buildFederatedSchema } from '@marketing/platform';
import { CampaignAbTestResolver } from './abtest/ab-test.resolver.js';
import { Customer } from './customer/references.type.js';
import { DestinationResolver } from './destinations/destination.resolver.js';
import { CustomerJourneyResolver } from './journey/journey.resolver.js';
import {
  CustomerPredictionsFieldResolver,
  CustomerPredictionsResolver,
} from './predictions/predictions.resolver.js';
import { AnalyticsQueryResolver } from './query.resolver.js';
import {
  CampaignStatsBreakdownResolver,
  CampaignStatsResolver,
  LiveStatsResolver,
} from './stats/stats.resolver.js';

export function buildAnalyticsSchema() {
  return buildFederatedSchema({
    resolvers: [
      AnalyticsQueryResolver,
      CampaignStatsResolver,
      CampaignStatsBreakdownResolver,
      LiveStatsResolver,
      CampaignAbTestResolver,
      CustomerJourneyResolver,
      CustomerPredictionsFieldResolver,
      CustomerPredictionsResolver,
      DestinationResolver,
    ],
    // Reachable only through _entities, which type-graphql does not see.
    orphanedTypes: [Customer],
    referenceResolvers: {
      Customer: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
      // Stats exist for any campaign id; a campaign without events has zero counts.
      Campaign: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
    },
  });
}
