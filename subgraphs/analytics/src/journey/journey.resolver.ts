/** The analytics subgraph's part of Customer: the journey, newest first. */
import { pageSize, requireRole } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { AnalyticsContext } from '../context.js';
import { Customer } from '../customer/references.type.js';
import { JourneyEvent } from './journey.types.js';

@Resolver(() => Customer)
export class CustomerJourneyResolver {
  @FieldResolver(() => [JourneyEvent])
  journey(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Arg('before', () => Date, { nullable: true }) before: Date | null,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<JourneyEvent[]> {
    requireRole(ctx.viewer, 'analyst', "Reading a customer's journey");
    return ctx.loaders.journey.load({
      customerId: customer.id,
      first: pageSize(first, 50, 500),
      before: before ?? null,
    });
  }
}
