/**
 * GraphQL types several subgraphs declare identically: the key of an entity another subgraph owns,
 * and the shareable PageInfo of cursor connections.
 */
import { Directive, Field, ID, ObjectType } from 'type-graphql';

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
