/** Reading segments and their members. Changing them comes with the rule compiler. */
import { findPage } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { SegmentsContext } from '../context.js';
import { Segment, SegmentMembership } from './segment.entity.js';
import { CustomerConnection, SegmentConnection } from './segment.types.js';

@Resolver(() => Segment)
export class SegmentResolver {
  @Query(() => Segment, { nullable: true })
  segment(@Arg('id', () => ID) id: string, @Ctx() ctx: SegmentsContext): Promise<Segment | null> {
    return ctx.loaders.segment.load(id);
  }

  @Query(() => SegmentConnection)
  async segments(
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: SegmentsContext,
  ): Promise<SegmentConnection> {
    const live = { deletedAt: null };
    const connection = new SegmentConnection(() => ctx.em.count(Segment, live));
    Object.assign(connection, await findPage(ctx.em, Segment, live, 'id', { first, after }));
    return connection;
  }

  @FieldResolver(() => Int)
  memberCount(@Root() segment: Segment, @Ctx() ctx: SegmentsContext): Promise<number> {
    return ctx.loaders.memberCount.load(segment.id);
  }

  @FieldResolver(() => CustomerConnection)
  async members(
    @Root() segment: Segment,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: SegmentsContext,
  ): Promise<CustomerConnection> {
    const current = { segment: segment.id, exitedAt: null };
    const page = await findPage(ctx.em, SegmentMembership, current, 'customerId', { first, after });
    const connection = new CustomerConnection(() => ctx.loaders.memberCount.load(segment.id));
    connection.pageInfo = page.pageInfo;
    connection.edges = page.edges.map(({ cursor: c, node }) => ({
      cursor: c,
      node: { id: node.customerId },
    }));
    return connection;
  }
}
