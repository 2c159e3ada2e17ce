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
}
