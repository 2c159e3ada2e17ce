/** Connection types of the segments subgraph (cursor pagination as the contract describes). */
import { CountedConnection } from '@marketing/platform';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { Customer } from '../customer/customer.type.js';
import { Segment } from './segment.entity.js';
import type { SegmentPreviewQuery } from './segment.service.js';

@ObjectType('CustomerEdge')
export class CustomerEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Customer)
  node!: Customer;
}

@ObjectType('CustomerConnection')
export class CustomerConnection extends CountedConnection {
  @Field(() => [CustomerEdge])
  edges!: CustomerEdge[];
}

@ObjectType('SegmentEdge')
export class SegmentEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Segment)
  node!: Segment;
}

@ObjectType('SegmentConnection')
export class SegmentConnection extends CountedConnection {
  @Field(() => [SegmentEdge])
  edges!: SegmentEdge[];
}

@InputType('SegmentInput')
export class SegmentInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => GraphQLJSON, {
    description: 'Rule tree; grammar published by segmentDefinitionSchema',
  })
  definition!: unknown;
}

@ObjectType('SegmentPreview')
export class SegmentPreview {
  @Field(() => Int)
  count!: number;

  /** The compiled rule, run again by `sample`. */
  query!: SegmentPreviewQuery;
}
