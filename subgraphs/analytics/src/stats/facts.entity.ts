/**
 * What the aggregates are derived from, kept so that every counter moves once: one fact per email
 * delivery (the first time of each outcome) and one row per attributed order.
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'delivery_fact' })
@Index({ properties: ['customerId', 'firstClickAt'] })
@Index({ properties: ['customerId', 'firstOpenAt'] })
// A/B test counts read a campaign's facts per variant.
@Index({ properties: ['campaignId', 'variantId'] })
export class DeliveryFact {
  @PrimaryKey({ type: 'uuid' })
  deliveryId!: string;

  @Property({ type: 'uuid', nullable: true })
  campaignId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  variantId?: string | null;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'datetime', nullable: true })
  sentAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  bouncedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  firstOpenAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  firstClickAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  unsubscribedAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  complainedAt?: Date | null;
}

/** An order credited to the campaign whose message the customer last clicked (else opened). */
@Entity({ tableName: 'attributed_order' })
@Index({ properties: ['campaignId'] })
export class AttributedOrder {
  @PrimaryKey({ type: 'text' })
  orderId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'uuid' })
  deliveryId!: string;

  @Property({ type: 'uuid' })
  campaignId!: string;

  @Property({ type: 'uuid', nullable: true })
  variantId?: string | null;

  /** `click` or `open`. */
  @Property({ type: 'text' })
  touch!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2, runtimeType: 'number' })
  revenue!: number;

  @Property({ type: 'datetime' })
  orderedAt!: Date;
}
