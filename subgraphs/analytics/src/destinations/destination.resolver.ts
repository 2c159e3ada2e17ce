/** Destinations (external analytics providers): admin only, as everything about integrations. */
import { requireRole } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AnalyticsContext } from '../context.js';
import { Destination } from './destination.entity.js';
import { DestinationInput } from './destination.input.js';
import { DestinationService } from './destination.service.js';

const service = (ctx: AnalyticsContext) =>
  new DestinationService(ctx.em, ctx.loaders.destinationUrlPolicy);

@Resolver(() => Destination)
export class DestinationResolver {
  @Query(() => [Destination])
  destinations(@Ctx() ctx: AnalyticsContext): Promise<Destination[]> {
    requireRole(ctx.viewer, 'admin', 'Reading destinations');
    return service(ctx).list();
  }

  @Mutation(() => Destination)
  createDestination(
    @Arg('input', () => DestinationInput) input: DestinationInput,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<Destination> {
    requireRole(ctx.viewer, 'admin', 'Creating a destination');
    return service(ctx).create(input, ctx.viewer);
  }

  @Mutation(() => Destination)
  updateDestination(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => DestinationInput) input: DestinationInput,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<Destination> {
    requireRole(ctx.viewer, 'admin', 'Changing a destination');
    return service(ctx).update(id, input);
  }

  @Mutation(() => Boolean)
  deleteDestination(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<boolean> {
    requireRole(ctx.viewer, 'admin', 'Deleting a destination');
    return service(ctx).delete(id);
  }

  @Mutation(() => Int, {
    description: "Re-queues a destination's dead-lettered deliveries; returns how many",
  })
  replayDestination(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<number> {
    requireRole(ctx.viewer, 'admin', 'Replaying a destination');
    return service(ctx).replay(id);
  }

  @FieldResolver(() => Int, {
    description: 'Deliveries that exhausted their attempts, waiting for replayDestination',
  })
  deadLetterCount(@Root() destination: Destination, @Ctx() ctx: AnalyticsContext): Promise<number> {
    return ctx.loaders.destinationDeadLetters.load(destination.id);
  }
}
