/** Segments: reading, changing (marketer and above), previewing a rule, and the rule grammar. */
import { findPage, requireRole } from '@marketing/platform';
import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { SegmentsContext } from '../context.js';
import { Customer } from '../customer/customer.type.js';
import { segmentDefinitionJsonSchema } from './definition.schema.js';
import { Segment, SegmentMembership } from './segment.entity.js';
import { SegmentService } from './segment.service.js';
import {
  CustomerConnection,
  SegmentConnection,
  SegmentInput,
  SegmentPreview,
} from './segment.types.js';

const MAX_SAMPLE = 100;

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

  @Query(() => GraphQLJSON, { description: 'JSON Schema of the segment rule grammar' })
  segmentDefinitionSchema(): unknown {
    return segmentDefinitionJsonSchema();
  }

  @Query(() => SegmentPreview, { description: 'Count and sample of a rule, without saving it' })
  async previewSegment(
    @Arg('definition', () => GraphQLJSON) definition: unknown,
    @Ctx() ctx: SegmentsContext,
  ): Promise<SegmentPreview> {
    requireRole(ctx.viewer, 'viewer', 'Previewing a segment');
    const query = await new SegmentService(ctx.em).preview(definition);
    return Object.assign(new SegmentPreview(), { count: await query.count(), query });
  }

  @Mutation(() => Segment)
  createSegment(
    @Arg('input', () => SegmentInput) input: SegmentInput,
    @Ctx() ctx: SegmentsContext,
  ): Promise<Segment> {
    requireRole(ctx.viewer, 'marketer', 'Creating a segment');
    return new SegmentService(ctx.em).create(input, ctx.viewer);
  }

  @Mutation(() => Segment)
  updateSegment(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => SegmentInput) input: SegmentInput,
    @Ctx() ctx: SegmentsContext,
  ): Promise<Segment> {
    requireRole(ctx.viewer, 'marketer', 'Changing a segment');
    return new SegmentService(ctx.em).update(id, input, ctx.viewer);
  }

  @Mutation(() => Boolean)
  deleteSegment(@Arg('id', () => ID) id: string, @Ctx() ctx: SegmentsContext): Promise<boolean> {
    requireRole(ctx.viewer, 'marketer', 'Deleting a segment');
    return new SegmentService(ctx.em).delete(id);
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

@Resolver(() => SegmentPreview)
export class SegmentPreviewResolver {
  @FieldResolver(() => [Customer])
  async sample(
    @Root() preview: SegmentPreview,
    @Arg('first', () => Int, { defaultValue: 10, nullable: true }) first: number | null,
  ): Promise<Customer[]> {
    const size = Math.max(0, Math.min(first ?? 10, MAX_SAMPLE));
    const ids = size === 0 ? [] : await preview.query.sample(size);
    return ids.map((id) => ({ id }));
  }
}
