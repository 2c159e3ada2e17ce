/** The email subgraph's part of Customer: preferences and recent deliveries. */
import { pageSize } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { EmailContext } from '../context.js';
import { Customer } from '../customer/references.type.js';
import { EmailDelivery } from '../delivery/delivery.entity.js';
import { EmailPreferences } from './preferences.types.js';

@Resolver(() => Customer)
export class CustomerEmailResolver {
  @FieldResolver(() => EmailPreferences)
  emailPreferences(
    @Root() customer: Customer,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailPreferences> {
    return ctx.loaders.preferences.load(customer.id);
  }

  @FieldResolver(() => [EmailDelivery])
  async emailDeliveries(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailDelivery[]> {
    const deliveries = await ctx.loaders.deliveriesByCustomer.load(customer.id);
    return deliveries.slice(0, pageSize(first, 20));
  }
}
