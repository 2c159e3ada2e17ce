/** The email subgraph's part of Customer: preferences and recent deliveries. */
import { pageSize, requireRole } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { EmailContext } from '../context.js';
import { Customer } from '../customer/references.type.js';
import { EmailDelivery } from '../delivery/delivery.entity.js';
import { changePreferences } from './preferences.service.js';
import { EmailPreferences, EmailPreferencesInput } from './preferences.types.js';

@Resolver(() => Customer)
export class CustomerEmailResolver {
  @FieldResolver(() => EmailPreferences)
  emailPreferences(
    @Root() customer: Customer,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailPreferences> {
    requireRole(ctx.viewer, 'analyst', "Reading a customer's email preferences");
    return ctx.loaders.preferences.load(customer.id);
  }

  @Mutation(() => EmailPreferences, {
    description: "Consent and topics on a customer's behalf (admin); every change is recorded",
  })
  async updateEmailPreferences(
    @Arg('customerId', () => ID) customerId: string,
    @Arg('input', () => EmailPreferencesInput) input: EmailPreferencesInput,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailPreferences> {
    requireRole(ctx.viewer, 'admin', "Changing a customer's email preferences");
    await ctx.em.transactional((em) => changePreferences(em, customerId, input, ctx.viewer.sub));
    ctx.loaders.preferences.clear(customerId);
    return ctx.loaders.preferences.load(customerId);
  }

  @FieldResolver(() => [EmailDelivery])
  async emailDeliveries(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailDelivery[]> {
    requireRole(ctx.viewer, 'analyst', "Reading a customer's email deliveries");
    const deliveries = await ctx.loaders.deliveriesByCustomer.load(customer.id);
    return deliveries.slice(0, pageSize(first, 20));
  }
}
