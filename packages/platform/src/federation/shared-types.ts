/**
 * GraphQL types several subgraphs declare identically: the key of an entity another subgraph owns,
 * and the shareable PageInfo of cursor connections.
 */
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';

/** Base of a subgraph's reference to an entity keyed by `id` (Customer, Campaign, Segment, ...). */
@ObjectType()
export abstract class EntityKey {
  @Field(() => ID)
  id!: string;
}

@ObjectType('PageInfo')
@Directive('@shareable')
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** Base of a cursor connection whose totalCount is counted only when a client selects it. */
@ObjectType()
export abstract class CountedConnection {
  constructor(private readonly count: () => Promise<number>) {}

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  get totalCount(): Promise<number> {
    return this.count();
  }
}
