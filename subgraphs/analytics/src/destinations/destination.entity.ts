/**
 * External analytics providers: a destination (where and what to forward) and its durable delivery
 * queue, one row per (destination, event), which also serves as the dead-letter record.
 */
import {
  Entity,
  Enum,
  Index,
  ManyToOne,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum DestinationKind {
  WEBHOOK = 'WEBHOOK',
  SEGMENT = 'SEGMENT',
  GA4 = 'GA4',
}
registerEnumType(DestinationKind, {
  name: 'DestinationKind',
  valuesConfig: {
    WEBHOOK: { description: 'JSON POST signed with HMAC-SHA256 (X-Marketing-Signature)' },
    SEGMENT: { description: 'Segment HTTP Tracking API (`{url}/v1/track`, write key = secret)' },
    GA4: {
      description: 'GA4 Measurement Protocol (measurement_id in the url, api_secret = secret)',
    },
  },
});

@ObjectType('Destination')
@Entity({ tableName: 'destination' })
export class Destination {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => String)
  @Property({ type: 'text', unique: true })
  name!: string;

  @Field(() => DestinationKind)
  @Enum({ items: () => DestinationKind, nativeEnumName: 'destination_kind' })
  kind!: DestinationKind;

  @Field(() => String)
  @Property({ type: 'text' })
  url!: string;

  /** HMAC key, Segment write key or GA4 API secret: write-only, never a GraphQL field. */
  @Property({ type: 'text', lazy: true })
  secret!: string;

  @Field(() => [String], { description: 'Event types forwarded; empty = all' })
  @Property({ type: 'jsonb' })
  events: string[] = [];

  @Field(() => Boolean)
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastDeliveredAt?: Date | null;

  @Field(() => Int, { description: 'Failed attempts since the last successful delivery' })
  @Property({ type: 'integer' })
  failureCount: number = 0;

  @Field(() => Date, {
    nullable: true,
    description:
      'While deliveries fail, none is tried before this time (backoff of the whole destination)',
  })
  @Property({ type: 'datetime', nullable: true })
  pausedUntil?: Date | null;

  @Property({ type: 'text' })
  createdBy!: string;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}

export enum DeliveryState {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  /** Attempts exhausted or refused for good: kept with the last error until replayed. */
  DEAD = 'DEAD',
}

/** The normalised marketing event a delivery forwards (built once by the consumer). */
export interface ForwardedEvent {
  /** `<subject>:<bus message id>`: unique across subjects, the receivers' de-duplication key. */
  id: string;
  type: string;
  customerId: string | null;
  occurredAt: string;
  properties: Record<string, unknown>;
}

@Entity({ tableName: 'destination_delivery' })
@Unique({ properties: ['destination', 'eventId'] })
@Index({ properties: ['customerId'] })
@Index({
  name: 'destination_delivery_due_by_destination_index',
  expression:
    'create index "destination_delivery_due_by_destination_index" on "analytics"."destination_delivery" ("destination_id", "next_attempt_at", "id") where "state" = \'PENDING\'',
})
@Index({
  name: 'destination_delivery_delivered_index',
  expression:
    'create index "destination_delivery_delivered_index" on "analytics"."destination_delivery" ("delivered_at") where "state" = \'DELIVERED\'',
})
@Index({
  name: 'destination_delivery_dead_index',
  expression:
    'create index "destination_delivery_dead_index" on "analytics"."destination_delivery" ("destination_id") where "state" = \'DEAD\'',
})
export class DestinationDelivery {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Destination, { deleteRule: 'cascade' })
  destination!: Destination;

  @Property({ type: 'text' })
  eventId!: string;

  @Property({ type: 'text' })
  eventType!: string;

  /** Whose event it is: GDPR erasure deletes the customer's rows of every customer_id table. */
  @Property({ type: 'text', nullable: true })
  customerId?: string | null;

  @Property({ type: 'jsonb' })
  event!: ForwardedEvent;

  @Enum({ items: () => DeliveryState })
  state: DeliveryState = DeliveryState.PENDING;

  /** Attempts started (counted when claimed, so a crash mid-request counts too). */
  @Property({ type: 'integer' })
  attempts: number = 0;

  /** When the next attempt may start. */
  @Property({ type: 'datetime' })
  nextAttemptAt: Date = new Date();

  /** While an attempt runs: when its claim lapses (a crashed worker's delivery is tried again). */
  @Property({ type: 'datetime', nullable: true })
  claimedUntil?: Date | null;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  deliveredAt?: Date | null;

  @Property({ type: 'datetime', nullable: true })
  deadAt?: Date | null;
}
