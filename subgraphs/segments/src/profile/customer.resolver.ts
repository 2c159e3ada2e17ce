/** The segments subgraph's part of Customer: the synced profile, current segments, and search. */
import { requireRole } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { SegmentsContext } from '../context.js';
import { Customer } from '../customer/customer.type.js';
import { Segment } from '../segment/segment.entity.js';
import { CustomerConnection } from '../segment/segment.types.js';
import { CustomerSearchService } from './customer-search.service.js';
import { CustomerProfile } from './profile.entity.js';

@Resolver(() => Customer)
export class CustomerResolver {
  @Query(() => CustomerConnection, {
    description:
      'Search over the synced profiles: exact id, email prefix, first or last name prefix',
  })
  customers(
    @Arg('query', () => String, { nullable: true }) query: string | null,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: SegmentsContext,
  ): Promise<CustomerConnection> {
    requireRole(ctx.viewer, 'analyst', 'Searching customers');
    return new CustomerSearchService(ctx.em, ctx.loaders).search(query, first, after);
  }

  @FieldResolver(() => CustomerProfile, {
    nullable: true,
    description: 'Null until the first event',
  })
  profile(
    @Root() customer: Customer,
    @Ctx() ctx: SegmentsContext,
  ): Promise<CustomerProfile | null> {
    requireRole(ctx.viewer, 'analyst', "Reading a customer's profile");
    return ctx.loaders.profile.load(customer.id);
  }

  @FieldResolver(() => [Segment], { description: 'Current memberships' })
  segments(@Root() customer: Customer, @Ctx() ctx: SegmentsContext): Promise<Segment[]> {
    return ctx.loaders.segmentsByCustomer.load(customer.id);
  }
}
