/** Ready-made automations: the list (viewer and above) and a DRAFT made from one (marketer). */
import { requireRole } from '@marketing/platform';
import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Campaign, CampaignKind } from '../campaign/campaign.entity.js';
import { CampaignService } from '../campaign/campaign.service.js';
import type { CampaignsContext } from '../context.js';
import { BLUEPRINTS, buildFromBlueprint, type Blueprint } from './blueprints.js';

@ObjectType('AutomationBlueprint')
class AutomationBlueprintView {
  @Field(() => String)
  key!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => Int)
  minTemplates!: number;

  @Field(() => Int)
  maxTemplates!: number;

  @Field(() => [String], { description: 'What each template is for, in order' })
  templateRoles!: string[];

  @Field(() => Boolean)
  needsSegment!: boolean;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'The segment definition the blueprint expects (e.g. churn risk for win-back)',
  })
  suggestedSegmentDefinition?: unknown;
}

function view(b: Blueprint): AutomationBlueprintView {
  return {
    key: b.key,
    name: b.name,
    description: b.description,
    minTemplates: b.templates.min,
    maxTemplates: b.templates.max,
    templateRoles: b.templates.roles,
    needsSegment: b.segment?.required ?? false,
    suggestedSegmentDefinition: b.segment?.suggestedDefinition ?? null,
  };
}

@Resolver()
export class BlueprintResolver {
  @Query(() => [AutomationBlueprintView], {
    description:
      'Ready-made automations: abandoned checkout, welcome series, post-purchase cross-sell, win-back',
  })
  automationBlueprints(): AutomationBlueprintView[] {
    return BLUEPRINTS.map(view);
  }

  @Mutation(() => Campaign, {
    description: 'A DRAFT automation made from a blueprint, to adjust and launch',
  })
  createAutomationFromBlueprint(
    @Arg('blueprint', () => String) blueprint: string,
    @Arg('templateIds', () => [ID]) templateIds: string[],
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @Arg('segmentId', () => ID, { nullable: true }) segmentId: string | null,
    @Arg('topic', () => String, { nullable: true }) topic: string | null,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    requireRole(ctx.viewer, 'marketer', 'Creating a campaign');
    const built = buildFromBlueprint(blueprint, { templateIds, segmentId });
    return new CampaignService(ctx.em).create(
      {
        name: name ?? built.blueprint.name,
        kind: CampaignKind.AUTOMATION,
        // The win-back's segment is its trigger, not an entry filter.
        segmentId: null,
        variants: [],
        trigger: built.trigger,
        steps: built.steps,
        topic,
      },
      ctx.viewer,
    );
  }
}
