/**
 * The delivery ledger: one row per (campaign or workflow step, customer), claimed before the
 * message is handed to SMTP, with its status history.
 */
import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum DeliveryStatus {
  QUEUED = 'QUEUED',
  /** Claimed by a sender: handed to SMTP or about to be; never sent again automatically. */
  SENDING = 'SENDING',
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
@Index({
  name: 'email_delivery_due_index',
  expression:
    'create index "email_delivery_due_index" on "email"."email_delivery" ("next_attempt_at") where "status" in (\'QUEUED\', \'DEFERRED\')',
})
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

  @Property({ type: 'uuid' })
  templateId!: string;

  @Property({ type: 'integer' })
  templateVersion!: number;

  @Property({ type: 'text', nullable: true })
  topic?: string | null;

  /** Data of the triggering event, for the template's `event`. */
  @Property({ type: 'jsonb', nullable: true })
  context?: Record<string, unknown> | null;

  /** The address the message went to (kept for bounces and complaints). */
  @Property({ type: 'text', nullable: true })
  email?: string | null;

  @Property({ type: 'integer' })
  attempts: number = 0;

  @Property({ type: 'datetime' })
  nextAttemptAt: Date = new Date();

  /** A sender's lease on a queued row: others skip it until then. */
  @Property({ type: 'datetime', nullable: true })
  claimedUntil?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;

  @Property({ type: 'integer' })
  openCount: number = 0;

  @Property({ type: 'integer' })
  clickCount: number = 0;

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

/** The links of a sent message, by index: click tokens name an index, never a URL. */
@Entity({ tableName: 'email_link' })
export class EmailLink {
  @PrimaryKey({ type: 'uuid' })
  deliveryId!: string;

  @PrimaryKey({ type: 'integer' })
  linkIndex!: number;

  @Property({ type: 'text' })
  url!: string;
}
