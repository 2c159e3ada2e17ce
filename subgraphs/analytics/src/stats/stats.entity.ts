/**
 * Campaign performance aggregates: totals per campaign, per variant and per time bucket, maintained
 * idempotently from the bus. Rates are derived when read.
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** Counters shared by the campaign, variant and bucket aggregates. */
abstract class Counters {
  @Property({ type: 'integer' })
  sent: number = 0;

  @Property({ type: 'integer' })
  delivered: number = 0;

  @Property({ type: 'integer' })
  uniqueOpens: number = 0;

  @Property({ type: 'integer' })
  uniqueClicks: number = 0;

  @Property({ type: 'integer' })
  conversions: number = 0;

  @Property({ type: 'decimal', precision: 14, scale: 2, runtimeType: 'number' })
  revenue: number = 0;
}

@Entity({ tableName: 'campaign_stats' })
export class CampaignStatsRow extends Counters {
  @PrimaryKey({ type: 'uuid' })
  campaignId!: string;

  @Property({ type: 'integer' })
  recipients: number = 0;

  @Property({ type: 'integer' })
  bounced: number = 0;

  @Property({ type: 'integer' })
  unsubscribed: number = 0;

  @Property({ type: 'integer' })
  complained: number = 0;

  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}

@Entity({ tableName: 'variant_stats' })
export class VariantStatsRow extends Counters {
  @PrimaryKey({ type: 'uuid' })
  campaignId!: string;

  @PrimaryKey({ type: 'uuid' })
  variantId!: string;
}

@Entity({ tableName: 'stats_bucket' })
@Index({ properties: ['campaignId', 'size', 'start'] })
export class StatsBucketRow extends Counters {
  @PrimaryKey({ type: 'uuid' })
  campaignId!: string;

  /** MINUTE, HOUR or DAY. */
  @PrimaryKey({ type: 'text' })
  size!: string;

  @PrimaryKey({ type: 'datetime' })
  start!: Date;
}
