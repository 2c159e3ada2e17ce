/** Reading campaigns. The lifecycle mutations come with the Campaign Manager's domain work. */
import { findPage } from '@marketing/platform';
import type { FilterQuery } from '@mikro-orm/core';
import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { CampaignsContext } from '../context.js';
import { EmailTemplateRef, SegmentRef } from '../customer/references.type.js';
import { AbTestSettings, Campaign, CampaignStatus, CampaignVariant } from './campaign.entity.js';
import { CampaignConnection } from './campaign.types.js';

@Resolver(() => Campaign)
export class CampaignResolver {
  @Query(() => Campaign, { nullable: true })
  campaign(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign | null> {
    return ctx.loaders.campaign.load(id);
  }

  @Query(() => CampaignConnection)
  async campaigns(
    @Arg('status', () => CampaignStatus, { nullable: true }) status: CampaignStatus | null,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: CampaignsContext,
  ): Promise<CampaignConnection> {
    const where: FilterQuery<Campaign> = status ? { status } : {};
    const connection = new CampaignConnection(() => ctx.em.count(Campaign, where));
    Object.assign(connection, await findPage(ctx.em, Campaign, where, 'id', { first, after }));
    return connection;
  }

  @FieldResolver(() => SegmentRef, { nullable: true })
  segment(@Root() campaign: Campaign): SegmentRef | null {
    return campaign.segmentId ? { id: campaign.segmentId } : null;
  }

  @FieldResolver(() => AbTestSettings, { nullable: true })
  abTest(@Root() campaign: Campaign): AbTestSettings | null {
    return campaign.abTest ?? null;
  }

  @FieldResolver(() => [CampaignVariant])
  variants(@Root() campaign: Campaign, @Ctx() ctx: CampaignsContext): Promise<CampaignVariant[]> {
    return ctx.loaders.variantsByCampaign.load(campaign.id);
  }
}

@Resolver(() => CampaignVariant)
export class CampaignVariantResolver {
  @FieldResolver(() => EmailTemplateRef)
  template(@Root() variant: CampaignVariant): EmailTemplateRef {
    return { id: variant.templateId };
  }
}
