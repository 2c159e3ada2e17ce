/** Root queries the analytics subgraph owns. */
import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { AnalyticsContext } from './context.js';
import { CampaignStatsResolver } from './stats/stats.resolver.js';
import { CampaignStats } from './stats/stats.types.js';

@Resolver()
export class AnalyticsQueryResolver {
  @Query(() => CampaignStats, {
    description: 'Performance of one campaign (also reachable as Campaign.stats)',
  })
  campaignStats(@Arg('campaignId', () => ID) campaignId: string, @Ctx() ctx: AnalyticsContext) {
    return new CampaignStatsResolver().stats({ id: campaignId }, ctx);
  }
}
