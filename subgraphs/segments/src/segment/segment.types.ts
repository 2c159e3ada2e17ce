/** Connection types of the segments subgraph (cursor pagination as the contract describes). */
import { CountedConnection } from '@marketing/platform';
import { Field, ObjectType } from 'type-graphql';
import { Customer } from '../customer/customer.type.js';
import { Segment } from './segment.entity.js';

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
