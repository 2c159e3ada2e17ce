/**
 * What the e-commerce platform tells the marketing system, in the ingestion format (Segment
 * identify/track): identify on every customer change, `Order Completed` on every order. Written to
 * the outbox in the same transaction as the change.
 */
import { randomUUID } from 'node:crypto';
import {
  ECOMMERCE_EVENTS_SUBJECT,
  type BusMessage,
  type IngestedMessage,
} from '@marketing/platform';
import type { Customer } from '../customer/customer.entity.js';
import type { Order } from '../order/order.entity.js';

function message(data: IngestedMessage): BusMessage<IngestedMessage> {
  return { id: data.messageId, subject: ECOMMERCE_EVENTS_SUBJECT, data };
}

export function identifyCustomer(customer: Customer, at: Date, messageId = `ecom-${randomUUID()}`) {
  return message({
    type: 'identify',
    messageId,
    userId: customer.id,
    timestamp: at.toISOString(),
    receivedAt: new Date().toISOString(),
    traits: {
      email: customer.email,
      firstName: customer.firstName ?? null,
      lastName: customer.lastName ?? null,
      country: customer.country ?? null,
      createdAt: customer.createdAt.toISOString(),
    },
  });
}

export function orderCompleted(order: Order, messageId = `ecom-${randomUUID()}`) {
  const products = order.lines.getItems().map((line) => ({
    product_id: line.product.id,
    sku: line.product.sku,
    category: line.product.category,
    name: line.product.name,
    price: line.unitPrice,
    quantity: line.quantity,
  }));
  return message({
    type: 'track',
    messageId,
    userId: order.customer.id,
    timestamp: order.placedAt.toISOString(),
    receivedAt: new Date().toISOString(),
    event: 'Order Completed',
    properties: {
      order_id: order.id,
      total: order.total,
      revenue: order.total,
      currency: order.currency,
      products,
    },
  });
}
