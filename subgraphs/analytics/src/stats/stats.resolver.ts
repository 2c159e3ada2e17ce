/** Campaign.stats and its per-variant and per-bucket breakdowns. */
import { requireRole } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { AnalyticsContext } from '../context.js';
import { CampaignRef } from '../customer/references.type.js';
import { createLoaders } from '../loaders.js';
import { CampaignStats, StatsBucket, StatsBucketSize, VariantStats } from './stats.types.js';

@Resolver(() => CampaignRef)
export class CampaignStatsResolver {
  @FieldResolver(() => CampaignStats)
  async stats(@Root() campaign: CampaignRef, @Ctx() ctx: AnalyticsContext): Promise<CampaignStats> {
    const row = await ctx.loaders.campaignStats.load(campaign.id);
    return Object.assign(new CampaignStats(), {
      campaign: { id: campaign.id },
      recipients: row?.recipients ?? 0,
      sent: row?.sent ?? 0,
      delivered: row?.delivered ?? 0,
      bounced: row?.bounced ?? 0,
      uniqueOpens: row?.uniqueOpens ?? 0,
      uniqueClicks: row?.uniqueClicks ?? 0,
      unsubscribed: row?.unsubscribed ?? 0,
      complained: row?.complained ?? 0,
      conversions: row?.conversions ?? 0,
      revenue: row?.revenue ?? 0,
      updatedAt: row?.updatedAt ?? new Date(0),
    });
  }
}

@Resolver()
export class LiveStatsResolver {
  @Subscription(() => CampaignStats, {
    description: 'The campaign stats now, then after every change (bursts coalesced)',
    subscribe: ({ args, context }) =>
      (context as AnalyticsContext).loaders.live().updates(String(args.campaignId)),
  })
  campaignStatsUpdated(
    @Arg('campaignId', () => ID) campaignId: string,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<CampaignStats> {
    requireRole(ctx.viewer, 'viewer', 'Subscribing to campaign stats');
    // A subscription lives long: every event reads through a fresh unit of work and loaders.
    const em = ctx.em.fork();
    Object.assign(ctx, { em, loaders: createLoaders(em, ctx.loaders.live()) });
    return new CampaignStatsResolver().stats({ id: campaignId }, ctx);
  }
}

@Resolver(() => CampaignStats)
export class CampaignStatsBreakdownResolver {
  @FieldResolver(() => [VariantStats])
  variants(@Root() stats: CampaignStats, @Ctx() ctx: AnalyticsContext): Promise<VariantStats[]> {
    return ctx.loaders.variantStats.load(stats.campaign.id);
  }

  @FieldResolver(() => [StatsBucket])
  timeline(
    @Root() stats: CampaignStats,
    @Arg('bucket', () => StatsBucketSize, { defaultValue: StatsBucketSize.HOUR, nullable: true })
    bucket: StatsBucketSize | null,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<StatsBucket[]> {
    return ctx.loaders.timeline.load(`${stats.campaign.id}|${bucket ?? StatsBucketSize.HOUR}`);
  }
}
