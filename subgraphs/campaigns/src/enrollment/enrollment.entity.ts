/** A customer's enrolment in an automation (or a broadcast send), with its current step. */
import {
  Entity,
  Index,
  ManyToOne,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/decorators/legacy';
import { Field, ID, ObjectType } from 'type-graphql';
import { Campaign } from '../campaign/campaign.entity.js';

@ObjectType('CampaignEnrollment')
@Entity({ tableName: 'campaign_enrollment' })
@Index({ properties: ['customerId', 'enteredAt'] })
@Unique({ properties: ['campaign', 'customerId', 'entryKey'] })
// The broadcast queue: what the dispatcher claims (ACTIVE) and what waits for an A/B decision
// (HELD), per campaign in order; rows leave it when sent.
@Index({
  name: 'campaign_enrollment_broadcast_queue',
  expression: `create index "campaign_enrollment_broadcast_queue" on "campaigns"."campaign_enrollment" ("campaign_id", "status", "entered_at", "id") where "entry_key" = 'broadcast' and "status" in ('ACTIVE', 'HELD')`,
})
export class CampaignEnrollment {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @ManyToOne(() => Campaign, { deleteRule: 'cascade' })
  campaign!: Campaign;

  @Property({ type: 'text' })
  customerId!: string;

  /** Distinguishes re-entries of the same customer; unique with campaign and customer. */
  @Property({ type: 'text' })
  entryKey!: string;

  @Field(() => ID, { nullable: true })
  @Property({ type: 'uuid', nullable: true })
  variantId?: string | null;

  @Field(() => String, { description: 'ACTIVE, COMPLETED, EXITED, FAILED' })
  @Property({ type: 'text' })
  status: string = 'ACTIVE';

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  currentStep?: string | null;

  @Field(() => Date)
  @Property({ type: 'datetime' })
  enteredAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  exitedAt?: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  exitReason?: string | null;

  /**
   * Increases each time a step job is consumed or a wait is resolved: a job carries the value it
   * was scheduled with, so a duplicate or stale job (a timeout after the awaited event) does nothing.
   */
  @Property({ type: 'integer', default: 0 })
  seq: number = 0;

  /** The event a `waitForEvent` step waits for ({ stepId, event, where, since }), else null. */
  @Property({ type: 'jsonb', nullable: true })
  awaiting?: Record<string, unknown> | null;

  /** The triggering event ({ event, properties, occurredAt }), available to templates as `event`. */
  @Property({ type: 'jsonb', nullable: true })
  context?: Record<string, unknown> | null;

  /** When a waiting enrolment resumes (a wait's end, a timeout, the end of quiet hours). */
  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  wakeAt?: Date | null;
}
