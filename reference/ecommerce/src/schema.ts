/** The e-commerce subgraph's federated schema. */
import { buildFederatedSchema } from '@marketing/platform';
import type { EcommerceContext } from './context.js';
import { resolveCustomerReference, CustomerResolver } from './customer/customer.resolver.js';
import { Order } from './order/order.entity.js';
import { OrderLineResolver, OrderResolver } from './order/order.resolver.js';
import type { Product } from './product/product.entity.js';
import { ProductResolver } from './product/product.resolver.js';

export function buildEcommerceSchema() {
  return buildFederatedSchema({
    resolvers: [CustomerResolver, OrderResolver, OrderLineResolver, ProductResolver],
    referenceResolvers: {
      Customer: { __resolveReference: resolveCustomerReference },
      Product: {
        __resolveReference: (ref: Pick<Product, 'id'>, ctx: EcommerceContext) =>
          ctx.loaders.product.load(ref.id),
      },
      Order: {
        __resolveReference: (ref: Pick<Order, 'id'>, ctx: EcommerceContext) =>
          ctx.em.findOne(Order, { id: ref.id }),
      },
    },
  });
}
