/**
 * The delivery ledger: one row per (campaign or workflow step, customer), claimed before the
 * message is handed to SMTP, with its status history.
 */
import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum DeliveryStatus {
  QUEUED = 'QUEUED',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  DEFERRED = 'DEFERRED',
  BOUNCED = 'BOUNCED',
  COMPLAINED = 'COMPLAINED',
  FAILED = 'FAILED',
  SUPPRESSED = 'SUPPRESSED',
}
registerEnumType(DeliveryStatus, { name: 'DeliveryStatus' });

@ObjectType('EmailDelivery')
@Entity({ tableName: 'email_delivery' })
@Index({ properties: ['customerId', 'queuedAt'] })
export class EmailDelivery {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /** Unique per (campaign or workflow step, customer): the guarantee against double sends. */
  @Property({ type: 'text', unique: true })
  dedupeKey!: string;

  @Property({ type: 'uuid', nullable: true })
  campaignId?: string | null;

  @Property({ type: 'text' })
  customerId!: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  variantId?: string | null;

  @Field(() => DeliveryStatus)
  @Enum({ items: () => DeliveryStatus, nativeEnumName: 'delivery_status' })
  status: DeliveryStatus = DeliveryStatus.QUEUED;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  messageId?: string | null;

  @Field(() => Date)
  @Property({ type: 'datetime' })
  queuedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  sentAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  firstOpenedAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  firstClickedAt?: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  error?: string | null;
}

@Entity({ tableName: 'email_delivery_event' })
export class EmailDeliveryEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => EmailDelivery, { deleteRule: 'cascade', index: true })
  delivery!: EmailDelivery;

  @Enum({ items: () => DeliveryStatus, nativeEnumName: 'delivery_status' })
  status!: DeliveryStatus;

  @Property({ type: 'text', nullable: true })
  detail?: string | null;

  @Property({ type: 'datetime' })
  at: Date = new Date();
}
