/** Campaigns: reading, and (marketer and above) authoring and moving them through their lifecycle. */
import { findPage, requireRole } from '@marketing/platform';
import type { FilterQuery } from '@mikro-orm/core';
import { GraphQLDateTime, GraphQLJSON } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { automationGrammar } from '../automation/workflow.js';
import type { CampaignsContext } from '../context.js';
import { EmailTemplateRef, SegmentRef } from '../customer/references.type.js';
import {
  AbTestSettings,
  Campaign,
  CampaignAuditEntry,
  CampaignStatus,
  CampaignVariant,
} from './campaign.entity.js';
import { CampaignService } from './campaign.service.js';
import { CampaignAuditView, CampaignConnection, CampaignInput } from './campaign.types.js';

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

  @Mutation(() => Campaign)
  createCampaign(
    @Arg('input', () => CampaignInput) input: CampaignInput,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Creating a campaign');
    return new CampaignService(ctx.em).create(input, ctx.viewer);
  }

  @Mutation(() => Campaign)
  updateCampaign(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => CampaignInput) input: CampaignInput,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Changing a campaign');
    return new CampaignService(ctx.em).update(id, input, ctx.viewer);
  }

  @Mutation(() => Campaign)
  scheduleCampaign(
    @Arg('id', () => ID) id: string,
    @Arg('at', () => GraphQLDateTime) at: Date,
    @Arg('localTime', () => Boolean, {
      defaultValue: false,
      description:
        "Deliver at at's wall-clock time (read in UTC) in each customer's own timezone (broadcasts)",
    })
    localTime: boolean,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Scheduling a campaign');
    return new CampaignService(ctx.em).schedule(id, at, ctx.viewer, localTime);
  }

  @Mutation(() => Campaign, {
    description:
      'Ends a running campaign: an automation stops enrolling and its active enrolments exit',
  })
  completeCampaign(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Completing a campaign');
    return new CampaignService(ctx.em).change(id, 'complete', ctx.viewer);
  }

  @Query(() => GraphQLJSON, {
    description: 'JSON Schema of the automation grammar (CampaignInput.trigger and steps)',
  })
  automationGrammar(): Record<string, unknown> {
    return automationGrammar();
  }

  @Mutation(() => Campaign)
  launchCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: CampaignsContext): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Launching a campaign');
    return new CampaignService(ctx.em).launch(id, ctx.viewer);
  }

  @Mutation(() => Campaign)
  pauseCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: CampaignsContext): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Pausing a campaign');
    return new CampaignService(ctx.em).change(id, 'pause', ctx.viewer);
  }

  @Mutation(() => Campaign)
  resumeCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: CampaignsContext): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Resuming a campaign');
    return new CampaignService(ctx.em).change(id, 'resume', ctx.viewer);
  }

  @Mutation(() => Campaign)
  archiveCampaign(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Archiving a campaign');
    return new CampaignService(ctx.em).change(id, 'archive', ctx.viewer);
  }

  @FieldResolver(() => [CampaignAuditView], {
    description: 'Who changed what, when (oldest first)',
  })
  async auditTrail(
    @Root() campaign: Campaign,
    @Ctx() ctx: CampaignsContext,
  ): Promise<CampaignAuditView[]> {
    const entries = await ctx.em.find(
      CampaignAuditEntry,
      { campaign: campaign.id },
      { orderBy: { at: 'asc', id: 'asc' }, limit: 500 },
    );
    return entries.map((e) => ({ actor: e.actor, action: e.action, changes: e.changes, at: e.at }));
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
