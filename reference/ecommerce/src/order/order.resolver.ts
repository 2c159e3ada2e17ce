/** Order queries and mutations; an order's customer is resolved through the loader. */
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { EcommerceContext } from '../context.js';
import { Customer } from '../customer/customer.entity.js';
import { Order, OrderLine } from './order.entity.js';
import { PlaceOrderInput } from './order.input.js';
import { OrderService } from './order.service.js';

@Resolver(() => Order)
export class OrderResolver {
  @Query(() => Order, { nullable: true })
  order(@Arg('id', () => ID) id: string, @Ctx() ctx: EcommerceContext): Promise<Order | null> {
    return ctx.em.findOne(Order, { id });
  }

  @Mutation(() => Order)
  placeOrder(
    @Arg('input', () => PlaceOrderInput) input: PlaceOrderInput,
    @Ctx() ctx: EcommerceContext,
  ) {
    return new OrderService(ctx.em).place(input);
  }

  @FieldResolver(() => Customer)
  async customer(@Root() order: Order, @Ctx() ctx: EcommerceContext): Promise<Customer | null> {
    return ctx.loaders.customer.load(order.customer.id);
  }

  @FieldResolver(() => [OrderLine])
  lines(@Root() order: Order, @Ctx() ctx: EcommerceContext): Promise<OrderLine[]> {
    return ctx.loaders.linesByOrder.load(order.id);
  }

  @FieldResolver(() => Int)
  async itemCount(@Root() order: Order, @Ctx() ctx: EcommerceContext): Promise<number> {
    const lines = await ctx.loaders.linesByOrder.load(order.id);
    return lines.reduce((n, l) => n + l.quantity, 0);
  }
}

@Resolver(() => OrderLine)
export class OrderLineResolver {
  @FieldResolver(() => ID)
  productId(@Root() line: OrderLine): string {
    return line.product.id;
  }
}
