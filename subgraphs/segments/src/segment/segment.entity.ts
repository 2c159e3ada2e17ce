/** Segments (rule definitions) and their materialised membership with its history. */
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, ID, ObjectType } from 'type-graphql';

@ObjectType('Segment')
@Directive('@key(fields: "id")')
@Entity({ tableName: 'segment' })
export class Segment {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Field(() => String)
  @Property({ type: 'text' })
  name!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Field(() => GraphQLJSON, {
    description: 'Rule tree; grammar published by segmentDefinitionSchema',
  })
  @Property({ type: 'jsonb' })
  definition!: Record<string, unknown>;

  /** Bumped on every definition change; a full evaluation records the version it used. */
  @Property({ type: 'integer' })
  version: number = 1;

  /** The version whose full evaluation is materialised; behind `version` until the worker ran. */
  @Property({ type: 'integer' })
  evaluatedVersion: number = 0;

  /** When membership was last fully evaluated (the sweep re-evaluates time-dependent rules). */
  @Property({ type: 'datetime', nullable: true })
  evaluatedAt?: Date | null;

  @Property({ type: 'text' })
  createdBy!: string;

  @Property({ type: 'text' })
  updatedBy!: string;

  @Property({ type: 'datetime', nullable: true })
  deletedAt?: Date | null;

  @Field(() => Date)
  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}

@Entity({ tableName: 'segment_membership' })
@Index({
  name: 'segment_membership_current_index',
  expression:
    'create unique index "segment_membership_current_index" on "segments"."segment_membership" ("segment_id", "customer_id") where "exited_at" is null',
})
@Index({
  name: 'segment_membership_customer_index',
  expression:
    'create index "segment_membership_customer_index" on "segments"."segment_membership" ("customer_id") where "exited_at" is null',
})
@Index({ properties: ['segment', 'customerId'] })
export class SegmentMembership {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Segment, { deleteRule: 'cascade' })
  segment!: Segment;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'datetime' })
  enteredAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  exitedAt?: Date | null;
}
