/**
 * Campaigns (broadcasts and automations), their variants with pinned template versions, and the
 * audit trail of who changed what.
 */
import { Collection } from '@mikro-orm/core';
import {
  Entity,
  Enum,
  Index,
  ManyToOne,
  OneToMany,
  PrimaryKey,
  Property,
} from '@mikro-orm/decorators/legacy';
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum CampaignKind {
  BROADCAST = 'BROADCAST',
  AUTOMATION = 'AUTOMATION',
}
export enum CampaignStatus {
  DRAFT = 'DRAFT',
  SCHEDULED = 'SCHEDULED',
  RUNNING = 'RUNNING',
  PAUSED = 'PAUSED',
  COMPLETED = 'COMPLETED',
  ARCHIVED = 'ARCHIVED',
}
export enum AbMetric {
  OPEN = 'OPEN',
  CLICK = 'CLICK',
  CONVERSION = 'CONVERSION',
  REVENUE = 'REVENUE',
}
registerEnumType(CampaignKind, { name: 'CampaignKind' });
registerEnumType(CampaignStatus, { name: 'CampaignStatus' });
registerEnumType(AbMetric, { name: 'AbMetric' });

export enum AbFallback {
  CONTROL = 'CONTROL',
  BEST_SO_FAR = 'BEST_SO_FAR',
}
registerEnumType(AbFallback, { name: 'AbFallback' });

@ObjectType('AbTestSettings')
export class AbTestSettings {
  @Field(() => AbMetric)
  metric!: AbMetric;

  @Field(() => Float, { description: 'Share of the audience in the test phase (BROADCAST)' })
  testFraction!: number;

  @Field(() => Int, { description: 'How long the test phase runs before a winner is chosen' })
  decisionDelaySeconds!: number;

  @Field(() => Float)
  confidence!: number;

  @Field(() => AbFallback, {
    description:
      'What the rest of the audience gets when no variant wins: the control or the best so far',
  })
  fallback!: AbFallback;
}

@ObjectType('Campaign')
@Directive('@key(fields: "id")')
@Entity({ tableName: 'campaign' })
@Index({ properties: ['status', 'id'] })
export class Campaign {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => String)
  @Property({ type: 'text' })
  name!: string;

  @Field(() => CampaignKind)
  @Enum({ items: () => CampaignKind, nativeEnumName: 'campaign_kind' })
  kind!: CampaignKind;

  @Field(() => CampaignStatus)
  @Enum({ items: () => CampaignStatus, nativeEnumName: 'campaign_status' })
  status: CampaignStatus = CampaignStatus.DRAFT;

  /** Audience of a BROADCAST; optional entry filter of an AUTOMATION (owned by segments). */
  @Property({ type: 'uuid', nullable: true })
  segmentId?: string | null;

  @Property({ type: 'jsonb', nullable: true })
  abTest?: AbTestSettings | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'AUTOMATION entry trigger' })
  @Property({ type: 'jsonb', nullable: true })
  trigger?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'AUTOMATION workflow graph' })
  @Property({ type: 'jsonb', nullable: true })
  steps?: unknown;

  @Field(() => String, {
    nullable: true,
    description: 'Subscription topic the campaign sends under',
  })
  @Property({ type: 'text', nullable: true })
  topic?: string | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  scheduledAt?: Date | null;

  /** Whether `scheduledAt`'s wall-clock time is each customer's local time (broadcasts). */
  @Field(() => Boolean, {
    description: "Whether scheduledAt's wall-clock time applies in each customer's timezone",
  })
  @Property({ type: 'boolean', default: false })
  scheduledLocal: boolean = false;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  launchedAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  completedAt?: Date | null;

  @Property({ type: 'text' })
  createdBy!: string;

  @Field(() => Date)
  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();

  /** Increases with every change; `campaign.changed` events carry it (consumers keep the highest). */
  @Property({ type: 'integer', default: 0 })
  version: number = 0;

  /**
   * A broadcast A/B test's phase: TESTING (the test share is being sent), WAITING (until
   * `abDecisionDueAt`), DECIDING (analytics was asked, request `abRequestId`), DECIDED.
   */
  @Property({ type: 'text', nullable: true })
  abState?: 'TESTING' | 'WAITING' | 'DECIDING' | 'DECIDED' | null;

  @Property({ type: 'datetime', nullable: true })
  abDecisionDueAt?: Date | null;

  @Property({ type: 'uuid', nullable: true })
  abRequestId?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'The A/B decision of a broadcast: winner (or null), the variant sent to the rest, the reason, and whether the fallback was used',
  })
  @Property({ type: 'jsonb', nullable: true })
  abOutcome?: Record<string, unknown> | null;

  @OneToMany(() => CampaignVariant, (v) => v.campaign, { orphanRemoval: true })
  variants = new Collection<CampaignVariant>(this);
}

@ObjectType('CampaignVariant')
@Entity({ tableName: 'campaign_variant' })
export class CampaignVariant {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @ManyToOne(() => Campaign, { deleteRule: 'cascade', index: true })
  campaign!: Campaign;

  @Property({ type: 'integer' })
  position!: number;

  @Field(() => String)
  @Property({ type: 'text' })
  name!: string;

  @Field(() => Float)
  @Property({ type: 'double' })
  weight!: number;

  /** Owned by the email subgraph; the version is pinned when the campaign is saved. */
  @Property({ type: 'uuid' })
  templateId!: string;

  @Property({ type: 'integer' })
  templateVersion!: number;
}

@Entity({ tableName: 'campaign_audit' })
@Index({ properties: ['campaign', 'at'] })
export class CampaignAuditEntry {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Campaign, { deleteRule: 'cascade' })
  campaign!: Campaign;

  @Property({ type: 'text' })
  actor!: string;

  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'jsonb' })
  changes: Record<string, unknown> = {};

  @Property({ type: 'datetime' })
  at: Date = new Date();
}
