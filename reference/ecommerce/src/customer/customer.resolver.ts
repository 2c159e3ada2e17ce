/** Customer queries, mutations and the fan-out to orders. */
import { pageSize } from '@marketing/platform';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { EcommerceContext } from '../context.js';
import { Order } from '../order/order.entity.js';
import { Customer } from './customer.entity.js';
import { CustomerInput } from './customer.input.js';
import { CustomerService } from './customer.service.js';

@Resolver(() => Customer)
export class CustomerResolver {
  @Query(() => Customer, { nullable: true })
  customer(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: EcommerceContext,
  ): Promise<Customer | null> {
    return ctx.loaders.customer.load(id);
  }

  @Mutation(() => Customer)
  createCustomer(
    @Arg('input', () => CustomerInput) input: CustomerInput,
    @Ctx() ctx: EcommerceContext,
  ) {
    return new CustomerService(ctx.em).create(input);
  }

  @Mutation(() => Customer)
  updateCustomer(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => CustomerInput) input: CustomerInput,
    @Ctx() ctx: EcommerceContext,
  ) {
    return new CustomerService(ctx.em).update(id, input);
  }

  @FieldResolver(() => [Order])
  async orders(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: 20, nullable: true }) first: number | null,
    @Ctx() ctx: EcommerceContext,
  ): Promise<Order[]> {
    const orders = await ctx.loaders.ordersByCustomer.load(customer.id);
    return orders.slice(0, pageSize(first, 20, 100));
  }
}

export function resolveCustomerReference(ref: { id: string }, ctx: EcommerceContext) {
  return ctx.loaders.customer.load(ref.id);
}
