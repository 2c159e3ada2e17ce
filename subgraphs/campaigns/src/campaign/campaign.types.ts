/** The campaign connection (cursor pagination). */
import { CountedConnection } from '@marketing/platform';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { AbFallback, AbMetric, Campaign, CampaignKind } from './campaign.entity.js';

@ObjectType('CampaignEdge')
export class CampaignEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Campaign)
  node!: Campaign;
}

@ObjectType('CampaignConnection')
export class CampaignConnection extends CountedConnection {
  @Field(() => [CampaignEdge])
  edges!: CampaignEdge[];
}

@InputType('CampaignVariantInput')
export class CampaignVariantInput {
  @Field(() => String)
  name!: string;

  @Field(() => Float)
  weight!: number;

  @Field(() => ID)
  templateId!: string;
}

@InputType('AbTestInput')
export class AbTestInput {
  @Field(() => AbMetric)
  metric!: AbMetric;

  @Field(() => Float)
  testFraction!: number;

  @Field(() => Int)
  decisionDelaySeconds!: number;

  @Field(() => Float, { defaultValue: 0.95, nullable: true })
  confidence?: number;

  @Field(() => AbFallback, {
    defaultValue: AbFallback.CONTROL,
    nullable: true,
    description: 'What the rest of the audience gets when no variant wins',
  })
  fallback?: AbFallback;
}

@InputType('CampaignInput')
export class CampaignInput {
  @Field(() => String)
  name!: string;

  @Field(() => CampaignKind)
  kind!: CampaignKind;

  @Field(() => ID, { nullable: true })
  segmentId?: string | null;

  @Field(() => [CampaignVariantInput])
  variants!: CampaignVariantInput[];

  @Field(() => AbTestInput, { nullable: true })
  abTest?: AbTestInput | null;

  @Field(() => GraphQLJSON, { nullable: true })
  trigger?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  steps?: unknown;

  @Field(() => String, { nullable: true })
  topic?: string | null;
}

@ObjectType('CampaignAuditEntry')
export class CampaignAuditView {
  @Field(() => String, { description: 'Who: a user or system:<service>' })
  actor!: string;

  @Field(() => String)
  action!: string;

  @Field(() => GraphQLJSON)
  changes!: Record<string, unknown>;

  @Field(() => Date)
  at!: Date;
}
