/** The e-commerce subgraph as a startable service. */
import {
  OutboxMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
import { Customer } from './customer/customer.entity.js';
import { startEcommerceErasure } from './erasure/erasure.consumer.js';
import { createLoaders, type EcommerceLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { Order, OrderLine } from './order/order.entity.js';
import { Product } from './product/product.entity.js';
import { buildEcommerceSchema } from './schema.js';

export const ecommerceSubgraph: SubgraphDefinition<EcommerceLoaders> = {
  name: 'ecommerce',
  database: {
    schema: 'ecommerce',
    entities: [Customer, Product, Order, OrderLine, OutboxMessage],
    migrations,
  },
  buildSchema: buildEcommerceSchema,
  createLoaders,
  bus: { outbox: true },
  startWorkers: async (deps) => startEcommerceErasure({ ...deps, bus: deps.bus! }),
};

export function startEcommerce(config: SubgraphRuntimeConfig) {
  return startSubgraph(ecommerceSubgraph, config);
}
