/**
 * What the projection keeps besides the profile: the behavioural event store (indexed for segment
 * conditions by customer, event name and time) and the orders and refunds the order aggregates
 * are recomputed from, so any arrival order gives the same totals.
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'customer_event' })
@Index({ properties: ['customerId', 'event', 'occurredAt'] })
@Index({ properties: ['event', 'occurredAt'] })
export class CustomerEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text', unique: true })
  messageId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'text' })
  event!: string;

  @Property({ type: 'jsonb' })
  properties: Record<string, unknown> = {};

  @Property({ type: 'datetime' })
  occurredAt!: Date;
}

@Entity({ tableName: 'customer_order' })
@Index({ properties: ['customerId'] })
export class CustomerOrder {
  @PrimaryKey({ type: 'text' })
  orderId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'decimal', precision: 14, scale: 2, runtimeType: 'number' })
  total!: number;

  @Property({ type: 'text', nullable: true })
  currency?: string | null;

  @Property({ type: 'datetime' })
  completedAt!: Date;

  /** Source version (event time, then messageId) of the values kept. */
  @Property({ type: 'text' })
  version!: string;
}

@Entity({ tableName: 'customer_order_refund' })
@Index({ properties: ['orderId'] })
export class CustomerOrderRefund {
  @PrimaryKey({ type: 'text' })
  messageId!: string;

  @Property({ type: 'text' })
  orderId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  /** Refunded amount; null refunds the whole order. */
  @Property({ type: 'decimal', precision: 14, scale: 2, runtimeType: 'number', nullable: true })
  amount?: number | null;

  @Property({ type: 'datetime' })
  refundedAt!: Date;
}
