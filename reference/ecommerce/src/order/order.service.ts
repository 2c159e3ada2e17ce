/** Placing orders: prices come from the catalogue, the total from the lines. */
import { randomUUID } from 'node:crypto';
import { addToOutbox, InvalidInputError, NotFoundError } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Customer } from '../customer/customer.entity.js';
import { orderCompleted } from '../events/ecommerce.events.js';
import { Product } from '../product/product.entity.js';
import { Order, OrderLine } from './order.entity.js';
import type { PlaceOrderInput } from './order.input.js';

export class OrderService {
  constructor(private readonly em: EntityManager) {}

  async place(input: PlaceOrderInput): Promise<Order> {
    const customer = await this.em.findOne(Customer, { id: input.customerId });
    if (!customer) throw new NotFoundError('Customer', input.customerId);
    const productIds = [...new Set(input.lines.map((l) => l.productId))];
    const products = new Map(
      (await this.em.find(Product, { id: { $in: productIds } })).map((p) => [p.id, p]),
    );
    input.lines.forEach((line, i) => {
      if (!products.has(line.productId)) {
        throw new InvalidInputError(
          `unknown product ${line.productId}`,
          `input.lines[${i}].productId`,
        );
      }
    });
    const order = this.em.create(Order, {
      id: input.id ?? randomUUID(),
      customer,
      currency: input.currency,
      status: 'COMPLETED',
      placedAt: input.placedAt ?? new Date(),
      total: 0,
    });
    let total = 0;
    for (const line of input.lines) {
      const product = products.get(line.productId)!;
      total += product.price * line.quantity;
      order.lines.add(
        this.em.create(OrderLine, {
          order,
          product,
          quantity: line.quantity,
          unitPrice: product.price,
        }),
      );
    }
    order.total = Math.round(total * 100) / 100;
    addToOutbox(this.em, [orderCompleted(order)]);
    await this.em.flush();
    return order;
  }
}
