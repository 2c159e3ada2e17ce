/** Campaign.abTestResult: the A/B statistics of a campaign with an A/B test (viewer and above). */
import { requireRole } from '@marketing/platform';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { AnalyticsContext } from '../context.js';
import { CampaignRef } from '../customer/references.type.js';
import { evaluateAbTest } from './ab-test.service.js';
import { type AbMetric, AbTestResult } from './ab-test.types.js';

@Resolver(() => CampaignRef)
export class CampaignAbTestResolver {
  @FieldResolver(() => AbTestResult, {
    nullable: true,
    description: 'Null without an A/B test, or while analytics has not heard of the campaign',
  })
  async abTestResult(
    @Root() campaign: CampaignRef,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<AbTestResult | null> {
    requireRole(ctx.viewer, 'viewer', 'Reading A/B test results');
    const snapshot = await ctx.loaders.campaignSnapshot.load(campaign.id);
    if (!snapshot?.abTest || snapshot.variants.length === 0) return null;
    const [counts, recorded] = await Promise.all([
      ctx.loaders.abCounts.load(campaign.id),
      ctx.loaders.abDecision.load(campaign.id),
    ]);
    const { metric, confidence } = snapshot.abTest;
    const live = evaluateAbTest(
      metric,
      confidence,
      snapshot.variants.map((v) => v.id),
      counts,
      new Map(snapshot.variants.map((v) => [v.id, v.name])),
    );
    // Once the Campaign Manager asked for the decision, its answer is the test's outcome.
    return Object.assign(new AbTestResult(), {
      metric: metric as AbMetric,
      confidence,
      decided: recorded !== null || live.decided,
      winnerVariantId: recorded ? (recorded.winnerVariantId ?? null) : live.winnerVariantId,
      reason: recorded?.reason ?? live.reason,
      decidedAt: recorded?.decidedAt ?? null,
      variants: live.variants,
    });
  }
}
