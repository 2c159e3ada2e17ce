/**
 * The marketing system's view of a customer, projected from e-commerce events: identify traits
 * (merged per field by source version) and order aggregates.
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType('CustomerProfile')
@Entity({ tableName: 'customer_profile' })
@Index({
  name: 'customer_profile_email_prefix_index',
  expression:
    'create index "customer_profile_email_prefix_index" on "segments"."customer_profile" ("email" text_pattern_ops)',
})
export class CustomerProfile {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  email?: string | null;

  @Property({ type: 'text', nullable: true })
  firstName?: string | null;

  @Property({ type: 'text', nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  country?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  timezone?: string | null;

  @Field(() => GraphQLJSON, { description: 'Latest value of every identify() trait' })
  @Property({ type: 'jsonb' })
  traits: Record<string, unknown> = {};

  /** For each trait, the version (event time, then messageId) of the value kept. */
  @Property({ type: 'jsonb' })
  traitVersions: Record<string, string> = {};

  @Field(() => Int)
  @Property({ type: 'integer' })
  orderCount: number = 0;

  @Field(() => Float)
  @Property({ type: 'decimal', precision: 14, scale: 2, runtimeType: 'number' })
  totalSpent: number = 0;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  firstOrderAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastOrderAt?: Date | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  lastSeenAt?: Date | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();

  @Field(() => Float, { nullable: true })
  get averageOrderValue(): number | null {
    return this.orderCount > 0 ? Math.round((this.totalSpent / this.orderCount) * 100) / 100 : null;
  }
}
