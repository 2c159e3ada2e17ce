/**
 * The A/B decisions analytics gave the Campaign Manager, one per request (the request id makes a
 * redelivered request answered once). Campaign.abTestResult shows the latest as the test's outcome.
 */
import type { AbDecision } from '@marketing/platform';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'ab_decision' })
@Index({ properties: ['campaignId', 'decidedAt'] })
export class AbDecisionRecord {
  @PrimaryKey({ type: 'uuid' })
  requestId!: string;

  @Property({ type: 'uuid' })
  campaignId!: string;

  @Property({ type: 'text' })
  metric!: AbDecision['metric'];

  @Property({ type: 'double' })
  confidence!: number;

  /** The compared variants, control first, as requested. */
  @Property({ type: 'jsonb' })
  variantIds!: string[];

  @Property({ type: 'uuid', nullable: true })
  winnerVariantId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  bestVariantId?: string | null;

  @Property({ type: 'text' })
  reason!: string;

  @Property({ type: 'datetime' })
  decidedAt!: Date;
}
