/** The campaigns subgraph's part of Customer: enrolments, most recent first. */
import { pageSize, requireRole } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { Campaign } from '../campaign/campaign.entity.js';
import type { CampaignsContext } from '../context.js';
import { Customer } from '../customer/references.type.js';
import { CampaignEnrollment } from './enrollment.entity.js';

@Resolver(() => Customer)
export class CustomerEnrollmentResolver {
  @FieldResolver(() => [CampaignEnrollment])
  async campaignEnrollments(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Ctx() ctx: CampaignsContext,
  ): Promise<CampaignEnrollment[]> {
    // Customer-level data: analyst and above (the contract's roles).
    requireRole(ctx.viewer, 'analyst', "Reading a customer's campaign enrolments");
    const enrollments = await ctx.loaders.enrollmentsByCustomer.load(customer.id);
    return enrollments.slice(0, pageSize(first, 20));
  }
}

@Resolver(() => CampaignEnrollment)
export class CampaignEnrollmentResolver {
  @FieldResolver(() => Campaign)
  async campaign(
    @Root() enrollment: CampaignEnrollment,
    @Ctx() ctx: CampaignsContext,
  ): Promise<Campaign> {
    return (await ctx.loaders.campaign.load(enrollment.campaign.id))!;
  }
}
