/**
 * What other services tell the segments store about a customer: email engagement (from the email
 * service's `email.*` events) and model predictions (from the analytics service). Segment rules
 * read them through `email` and `prediction` conditions.
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'email_engagement' })
@Index({ properties: ['customerId', 'action', 'occurredAt'] })
@Index({ properties: ['action', 'occurredAt'] })
export class EmailEngagement {
  /** The bus message id of the email event: the same event twice is stored once. */
  @PrimaryKey({ type: 'text' })
  messageId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  /** delivered, opened, clicked, bounced or unsubscribed. */
  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'text', nullable: true })
  campaignId?: string | null;

  @Property({ type: 'datetime' })
  occurredAt!: Date;
}

@Entity({ tableName: 'customer_prediction' })
export class CustomerPrediction {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @Property({ type: 'double', nullable: true })
  probabilityAlive?: number | null;

  @Property({ type: 'double', nullable: true })
  churnRisk?: number | null;

  @Property({ type: 'double', nullable: true })
  expectedPurchases90d?: number | null;

  @Property({ type: 'double', nullable: true })
  predictedClv365d?: number | null;

  /** When the model produced these values; an older update never overwrites a newer one. */
  @Property({ type: 'datetime' })
  predictedAt!: Date;
}

/** Timezone names this PostgreSQL knows (filled by the migration from pg_timezone_names). */
@Entity({ tableName: 'time_zone' })
export class TimeZoneName {
  @PrimaryKey({ type: 'text' })
  name!: string;
}
