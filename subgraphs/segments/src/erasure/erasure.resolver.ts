/** GDPR erasure through the graph: asking for it and following it (admins only). */
import { requireRole } from '@marketing/platform';
import { Arg, Ctx, Field, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { SegmentsContext } from '../context.js';
import { ERASURE_SERVICES, ErasureService, EVENT_LOG_STEP } from './erasure.service.js';

@ObjectType('ErasureStep', { description: "One service's report that it erased the customer" })
export class ErasureStep {
  @Field(() => String)
  service!: string;

  @Field(() => Date)
  completedAt!: Date;
}

@ObjectType('ErasureRequest', {
  description: 'The audit of an erasure: who asked, when, and what each service reported',
})
export class ErasureRequestView {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'The subject of the admin who asked' })
  requestedBy!: string;

  @Field(() => Date)
  requestedAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'When every service and the event log had erased the customer',
  })
  completedAt!: Date | null;

  @Field(() => [ErasureStep])
  completed!: ErasureStep[];

  @Field(() => [String], { description: 'Services yet to report' })
  pending!: string[];
}

@Resolver()
export class ErasureResolver {
  @Mutation(() => Boolean, {
    description:
      "GDPR erasure across every subgraph and the event log; follow it with erasureRequests. The customer's address stays suppressed (hashed) so they are never mailed again.",
  })
  async eraseCustomer(
    @Arg('customerId', () => ID) customerId: string,
    @Ctx() ctx: SegmentsContext,
  ): Promise<boolean> {
    requireRole(ctx.viewer, 'admin', 'Erasing a customer');
    await new ErasureService(ctx.em).request(customerId, ctx.viewer);
    return true;
  }

  @Query(() => [ErasureRequestView], {
    description:
      "The erasure requests made for a customer id, newest first (found by the id's hash)",
  })
  async erasureRequests(
    @Arg('customerId', () => ID) customerId: string,
    @Ctx() ctx: SegmentsContext,
  ): Promise<ErasureRequestView[]> {
    requireRole(ctx.viewer, 'admin', 'Reading erasure requests');
    const found = await new ErasureService(ctx.em).statusOf(customerId);
    return found.map(({ request, completions }) => {
      const done = new Set(completions.map((c) => c.service));
      return Object.assign(new ErasureRequestView(), {
        id: request.id,
        requestedBy: request.requestedBy,
        requestedAt: request.requestedAt,
        completedAt: request.completedAt ?? null,
        completed: completions.map((c) =>
          Object.assign(new ErasureStep(), { service: c.service, completedAt: c.completedAt }),
        ),
        pending: [...ERASURE_SERVICES, EVENT_LOG_STEP].filter((s) => !done.has(s)),
      });
    });
  }
}
