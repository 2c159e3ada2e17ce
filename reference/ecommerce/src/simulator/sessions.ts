/**
 * One shopping session, as Segment e-commerce (spec v2) events: products viewed, some added to the
 * cart, sometimes a checkout, and less often an order, now and then refunded days later. The
 * customer's propensity scales each funnel step; most checkouts are abandoned, as in real shops.
 * Also owns the identify events a customer sends when they sign up or change a preference.
 */
import { DAY_MS } from './calendar.js';
import type { Catalogue } from './catalogue.js';
import type { EventBuilder, EventQueue } from './event-queue.js';
import type { SimCustomer, SimProduct } from './population.js';
import { chance, exponential, intBetween, type Random } from './random.js';
import type { Plan, ShopperProfile } from './shoppers.js';

const SECOND_MS = 1000;
const MEAN_EXTRA_VIEWS = 3;
const MAX_VIEWS = 30;
const MIN_SESSION_GAP_MS = 15 * 60 * SECOND_MS;
const FAVOURITE_CATEGORY_SHARE = 0.5;
const MEAN_VIEW_DWELL_MS = 45 * SECOND_MS;
const CART_VIEW_CHANCE = 0.65;
/** Window shoppers sometimes start a checkout, to see shipping costs, but never finish it. */
const WINDOW_SHOPPER_CHECKOUT_CHANCE = 0.08;
const REFUND_CHANCE = 0.06;
const TRAIT_CHANGE_CHANCE = 0.02;
const CURRENCY = 'EUR';
// The funnel rates below are tuned so that an average buyer converts about 3% of sessions into
// orders and about two thirds of checkouts are abandoned, in line with published shop benchmarks.

/** A customer as one run of the simulation sees them. */
export interface Shopper {
  customer: SimCustomer;
  profile: ShopperProfile;
  /** Current preferences, updated as identify events are released. */
  newsletter: boolean;
  plan: Plan;
  /** When the customer may start another session; updated as sessions are planned. */
  busyUntil: number;
}

export interface SessionPlanner {
  rng: Random;
  catalogue: Catalogue;
  queue: EventQueue;
}

interface CartLine {
  product: SimProduct;
  quantity: number;
}

/**
 * Plans one session starting at `startMs`, or once the customer's previous session is over: one
 * person browses in one session at a time.
 */
export function planSession(planner: SessionPlanner, shopper: Shopper, startMs: number): void {
  const start = Math.max(startMs, shopper.busyUntil);
  if (chance(planner.rng, TRAIT_CHANGE_CHANCE)) planTraitChange(planner, shopper, start);
  const browsed = browse(planner, shopper, start);
  const end =
    browsed.cart.length === 0 ? browsed.at : checkOut(planner, shopper, browsed.cart, browsed.at);
  shopper.busyUntil = end + MIN_SESSION_GAP_MS;
}

export function planSignup(queue: EventQueue, shopper: Shopper): void {
  const { customer } = shopper;
  queue.push(customer.createdAt.getTime(), (ids, timestamp) => ({
    kind: 'identify',
    messageId: ids.messageId(),
    userId: customer.id,
    timestamp,
    traits: {
      email: customer.email,
      firstName: customer.firstName,
      lastName: customer.lastName,
      country: customer.country,
      timezone: customer.timezone,
      createdAt: customer.createdAt.toISOString(),
      newsletter: shopper.newsletter,
      plan: shopper.plan,
    },
  }));
}

function planTraitChange(planner: SessionPlanner, shopper: Shopper, at: number): void {
  const newsletter = chance(planner.rng, 0.7);
  // The new value is decided on release: sessions are planned out of time order within a day.
  planner.queue.push(at, (ids, timestamp) => {
    if (newsletter) shopper.newsletter = !shopper.newsletter;
    else shopper.plan = shopper.plan === 'free' ? 'plus' : 'free';
    return {
      kind: 'identify',
      messageId: ids.messageId(),
      userId: shopper.customer.id,
      timestamp,
      traits: newsletter ? { newsletter: shopper.newsletter } : { plan: shopper.plan },
    };
  });
}

function browse(planner: SessionPlanner, shopper: Shopper, startMs: number) {
  const { rng, catalogue } = planner;
  const { favouriteCategory, propensity } = shopper.profile;
  const views = Math.min(MAX_VIEWS, 1 + Math.floor(exponential(rng, MEAN_EXTRA_VIEWS)));
  const addChance = Math.min(0.4, 0.015 + 0.06 * propensity);
  const cart: CartLine[] = [];
  let at = startMs + randomMs(rng, 2, 20);
  for (let view = 0; view < views; view++) {
    const product = chance(rng, FAVOURITE_CATEGORY_SHARE)
      ? catalogue.productIn(rng, favouriteCategory)
      : catalogue.anyProduct(rng);
    const { id: product_id, sku, category, name, price } = product;
    track(planner, shopper, at, 'Product Viewed', { product_id, sku, category, name, price });
    if (chance(rng, addChance)) {
      at += randomMs(rng, 5, 40);
      const quantity = orderQuantity(rng, price);
      addToCart(cart, product, quantity);
      track(planner, shopper, at, 'Product Added', { product_id, sku, category, price, quantity });
    }
    at += 5 * SECOND_MS + Math.round(exponential(rng, MEAN_VIEW_DWELL_MS));
  }
  return { cart, at };
}

function checkOut(planner: SessionPlanner, shopper: Shopper, cart: CartLine[], from: number) {
  const { rng } = planner;
  const { propensity } = shopper.profile;
  let at = from;
  if (chance(rng, CART_VIEW_CHANCE)) {
    track(planner, shopper, at, 'Cart Viewed', { products: cartProducts(cart) });
    at += randomMs(rng, 10, 60);
  }
  const checkoutChance =
    propensity > 0 ? Math.min(0.85, 0.4 * Math.sqrt(propensity)) : WINDOW_SHOPPER_CHECKOUT_CHANCE;
  if (!chance(rng, checkoutChance)) return at;
  const value = cartTotal(cart);
  const products = cartProducts(cart);
  planner.queue.push(at, (ids, timestamp) => ({
    kind: 'track',
    messageId: ids.messageId(),
    userId: shopper.customer.id,
    timestamp,
    event: 'Checkout Started',
    properties: { checkout_id: ids.checkoutId(), value, currency: CURRENCY, products },
  }));
  const orderChance = Math.min(0.65, 0.25 * propensity ** 0.25);
  if (!chance(rng, orderChance)) return at;
  at += randomMs(rng, 60, 400);
  planOrder(planner, shopper, cart, at);
  return at;
}

function planOrder(planner: SessionPlanner, shopper: Shopper, cart: CartLine[], at: number): void {
  const userId = shopper.customer.id;
  const total = cartTotal(cart);
  const lines = cart.map(({ product, quantity }) => ({
    productId: product.id,
    quantity,
    unitPrice: product.price,
  }));
  // The refund learns the order id when it is released, which is always after the order's.
  const placed = { orderId: '' };
  planner.queue.push(at, (ids, timestamp) => {
    placed.orderId = ids.orderId();
    const messageId = ids.messageId();
    return {
      kind: 'order',
      messageId,
      userId,
      timestamp,
      orderId: placed.orderId,
      lines,
      total,
      currency: CURRENCY,
    };
  });
  if (!chance(planner.rng, REFUND_CHANCE)) return;
  const refundAt =
    at + intBetween(planner.rng, 3, 21) * DAY_MS + randomMs(planner.rng, 0, 8 * 3600);
  planner.queue.push(refundAt, (ids, timestamp) => ({
    kind: 'track',
    messageId: ids.messageId(),
    userId,
    timestamp,
    event: 'Order Refunded',
    properties: { order_id: placed.orderId, total, currency: CURRENCY },
  }));
}

function track(
  planner: SessionPlanner,
  shopper: Shopper,
  at: number,
  event: string,
  properties: Record<string, unknown>,
): void {
  const userId = shopper.customer.id;
  const build: EventBuilder = (ids, timestamp) => ({
    kind: 'track',
    messageId: ids.messageId(),
    userId,
    timestamp,
    event,
    properties,
  });
  planner.queue.push(at, build);
}

/** Mostly one of a thing; cheap things are bought by the handful more often. */
function orderQuantity(rng: Random, price: number): number {
  const roll = rng();
  if (roll < (price < 20 ? 0.7 : 0.88)) return 1;
  if (roll < 0.96) return 2;
  return intBetween(rng, 3, 5);
}

function addToCart(cart: CartLine[], product: SimProduct, quantity: number): void {
  const line = cart.find((existing) => existing.product === product);
  if (line) line.quantity += quantity;
  else cart.push({ product, quantity });
}

function cartProducts(cart: CartLine[]) {
  return cart.map(({ product, quantity }) => ({
    product_id: product.id,
    sku: product.sku,
    category: product.category,
    price: product.price,
    quantity,
  }));
}

/** Summed in cents so a total is exactly the sum of its lines, as a database would compute it. */
function cartTotal(cart: CartLine[]): number {
  const cents = cart.reduce(
    (sum, { product, quantity }) => sum + Math.round(product.price * 100) * quantity,
    0,
  );
  return cents / 100;
}

function randomMs(rng: Random, minSeconds: number, maxSeconds: number): number {
  return intBetween(rng, minSeconds * SECOND_MS, maxSeconds * SECOND_MS);
}
