/** Request-scoped DataLoaders of the e-commerce subgraph. */
import { byKeyLoader, groupLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Customer } from './customer/customer.entity.js';
import { Order, OrderLine } from './order/order.entity.js';
import { Product } from './product/product.entity.js';

export function createLoaders(em: EntityManager) {
  return {
    customer: byKeyLoader(em, Customer),
    product: byKeyLoader(em, Product),
    ordersByCustomer: groupLoader(em, Order, 'customer', { orderBy: { placedAt: 'desc' } }),
    linesByOrder: groupLoader(em, OrderLine, 'order', { orderBy: { id: 'asc' } }),
  };
}

export type EcommerceLoaders = ReturnType<typeof createLoaders>;
