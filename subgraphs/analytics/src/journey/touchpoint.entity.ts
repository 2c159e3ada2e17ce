/**
 * A customer's journey: one row per e-commerce or marketing touchpoint, keyed by the source message
 * id so a redelivered event is recorded once.
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'touchpoint' })
@Index({ properties: ['customerId', 'at'] })
export class Touchpoint {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text', unique: true })
  messageId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'datetime' })
  at!: Date;

  /** e.g. "Order Completed", "email.opened". */
  @Property({ type: 'text' })
  type!: string;

  /** ECOMMERCE or MARKETING. */
  @Property({ type: 'text' })
  source!: string;

  @Property({ type: 'uuid', nullable: true })
  campaignId?: string | null;

  @Property({ type: 'jsonb' })
  properties: Record<string, unknown> = {};
}
