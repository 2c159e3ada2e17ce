/**
 * The shopper population generator: determinism, the invariants a database writer relies on (time
 * order, unique ids, customers known before they act, orders that add up, refunds of real orders)
 * and the shape of the behaviour (abandoned checkouts, skewed spend, weekly and daily rhythm). One
 * mid-sized population is generated once and shared; checks need no database.
 */
import {
  createRandom,
  generatePopulation,
  SIGNUP_LOOKBACK_DAYS,
  type Population,
  type SimEvent,
} from './population.js';

type Track = Extract<SimEvent, { kind: 'track' }>;
type Order = Extract<SimEvent, { kind: 'order' }>;

const DAY_MS = 86_400_000;
const START = new Date('2026-01-01T00:00:00Z');
const OPTIONS = { customers: 1000, days: 45, seed: 7 };

function take(population: Population, count: number): SimEvent[] {
  const events: SimEvent[] = [];
  for (const event of population.events()) {
    if (events.length === count) break;
    events.push(event);
  }
  return events;
}

const tracks = (events: SimEvent[], name: string) =>
  events.filter((event): event is Track => event.kind === 'track' && event.event === name);
const orders = (events: SimEvent[]) =>
  events.filter((event): event is Order => event.kind === 'order');
const cents = (amount: number) => Math.round(amount * 100);

let population: Population;
let events: SimEvent[];
beforeAll(() => {
  population = generatePopulation(OPTIONS);
  events = [...population.events()];
});

describe('createRandom', () => {
  it('repeats its sequence for a seed, stays in [0, 1) and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 1000 }, createRandom(seed));
    const values = draw(1);
    expect(draw(1)).toEqual(values);
    expect(draw(2)).not.toEqual(values);
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(990);
  });
});

describe('generatePopulation', () => {
  it('is deterministic for a seed and never touches Math.random', () => {
    const original = Math.random;
    Math.random = () => {
      throw new Error('Math.random was used');
    };
    try {
      const again = generatePopulation(OPTIONS);
      expect(again.products).toEqual(population.products);
      expect(again.customers).toEqual(population.customers);
      expect(take(again, 2000)).toEqual(events.slice(0, 2000));
    } finally {
      Math.random = original;
    }
  });

  it('replays the same events on every call of events()', () => {
    expect(take(population, 2000)).toEqual(events.slice(0, 2000));
  });

  it('differs for a different seed', () => {
    const other = generatePopulation({ ...OPTIONS, seed: OPTIONS.seed + 1 });
    expect(other.customers).not.toEqual(population.customers);
    expect(other.products).not.toEqual(population.products);
    expect(take(other, 2000)).not.toEqual(events.slice(0, 2000));
  });

  it('stocks about 200 products in 8 categories at 5 to 500 EUR', () => {
    const { products } = population;
    expect(products.length).toBeGreaterThanOrEqual(180);
    expect(products.length).toBeLessThanOrEqual(220);
    expect(new Set(products.map((product) => product.category)).size).toBe(8);
    expect(new Set(products.map((product) => product.id)).size).toBe(products.length);
    expect(new Set(products.map((product) => product.sku)).size).toBe(products.length);
    for (const { price } of products) {
      expect(price).toBeGreaterThanOrEqual(4.99);
      expect(price).toBeLessThanOrEqual(499.99);
    }
  });

  it('creates customers with unique lowercase emails, a timezone that fits, signed up in time', () => {
    const { customers } = population;
    expect(customers).toHaveLength(OPTIONS.customers);
    expect(customers[0].id).toBe('cust_000001');
    expect(new Set(customers.map((customer) => customer.email)).size).toBe(customers.length);
    const earliest = START.getTime() - SIGNUP_LOOKBACK_DAYS * DAY_MS;
    const end = START.getTime() + OPTIONS.days * DAY_MS;
    for (const customer of customers) {
      expect(customer.email).toMatch(/^[a-z0-9._]+@[a-z0-9.]+$/);
      expect(customer.timezone.startsWith(customer.country === 'US' ? 'America/' : 'Europe/')).toBe(
        true,
      );
      expect(customer.createdAt.getTime()).toBeGreaterThanOrEqual(earliest);
      expect(customer.createdAt.getTime()).toBeLessThan(end);
    }
    const signedUpDuring = customers.filter((customer) => customer.createdAt >= START).length;
    expect(signedUpDuring).toBeGreaterThan(0);
    expect(signedUpDuring).toBeLessThan(customers.length);
  });

  it('rejects options it cannot simulate', () => {
    expect(() => generatePopulation({ customers: -1, days: 10, seed: 1 })).toThrow(RangeError);
    expect(() => generatePopulation({ customers: 10, days: 0, seed: 1 })).toThrow(RangeError);
    expect(() => generatePopulation({ customers: 10, days: 1, seed: NaN })).toThrow(RangeError);
  });
});

describe('events()', () => {
  it('yields events in time order, all inside the simulated window', () => {
    const earliest = START.getTime() - SIGNUP_LOOKBACK_DAYS * DAY_MS;
    const end = START.getTime() + OPTIONS.days * DAY_MS;
    const times = events.map((event) => event.timestamp.getTime());
    const outOfOrder = times.filter((time, i) => time < (i === 0 ? earliest : times[i - 1]));
    expect(outOfOrder).toEqual([]);
    expect(times[times.length - 1]).toBeLessThan(end);
  });

  it('uses unique message, order and checkout ids', () => {
    expect(new Set(events.map((event) => event.messageId)).size).toBe(events.length);
    const orderIds = orders(events).map((order) => order.orderId);
    expect(orderIds.every((id) => id.startsWith('ord_'))).toBe(true);
    expect(new Set(orderIds).size).toBe(orderIds.length);
    const checkoutIds = tracks(events, 'Checkout Started').map((e) => e.properties.checkout_id);
    expect(new Set(checkoutIds).size).toBe(checkoutIds.length);
  });

  it('identifies every customer at signup, before anything they do', () => {
    const customers = new Map(population.customers.map((customer) => [customer.id, customer]));
    const identified = new Set<string>();
    const strangers: SimEvent[] = [];
    for (const event of events) {
      const customer = customers.get(event.userId);
      if (customer && event.kind === 'identify' && !identified.has(event.userId)) {
        expect(event.timestamp).toEqual(customer.createdAt);
        expect(event.traits).toMatchObject({
          email: customer.email,
          country: customer.country,
          timezone: customer.timezone,
          createdAt: customer.createdAt.toISOString(),
        });
        identified.add(event.userId);
      }
      if (!identified.has(event.userId)) strangers.push(event);
    }
    expect(strangers).toEqual([]);
    expect(identified.size).toBe(population.customers.length);
  });

  it('sends later identify events that change a preference', () => {
    const signups = new Set<string>();
    const changes = events.filter((event) => {
      if (event.kind !== 'identify') return false;
      if (signups.has(event.userId)) return true;
      signups.add(event.userId);
      return false;
    });
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) {
      if (change.kind !== 'identify') continue;
      expect(Object.keys(change.traits).every((key) => ['newsletter', 'plan'].includes(key))).toBe(
        true,
      );
    }
  });

  it('refunds only earlier orders of the same customer, for their total', () => {
    const placed = new Map<string, Order>();
    const refunds = tracks(events, 'Order Refunded');
    expect(refunds.length).toBeGreaterThan(0);
    for (const event of events) {
      if (event.kind === 'order') placed.set(event.orderId, event);
      if (event.kind !== 'track' || event.event !== 'Order Refunded') continue;
      const order = placed.get(event.properties.order_id as string);
      expect(order).toBeDefined();
      expect(order!.userId).toBe(event.userId);
      expect(order!.timestamp.getTime()).toBeLessThan(event.timestamp.getTime());
      expect(event.properties.total).toBe(order!.total);
    }
  });

  it('abandons a realistic share of checkouts', () => {
    const checkouts = tracks(events, 'Checkout Started').length;
    const abandoned = 1 - orders(events).length / checkouts;
    expect(abandoned).toBeGreaterThan(0.4);
    expect(abandoned).toBeLessThan(0.85);
  });

  it('concentrates spend: the top 20% of buyers bring more than half the revenue', () => {
    const spend = new Map<string, number>();
    for (const order of orders(events)) {
      spend.set(order.userId, (spend.get(order.userId) ?? 0) + order.total);
    }
    const perBuyer = [...spend.values()].sort((a, b) => b - a);
    const revenue = perBuyer.reduce((sum, amount) => sum + amount, 0);
    const top = perBuyer.slice(0, Math.ceil(perBuyer.length * 0.2));
    expect(top.reduce((sum, amount) => sum + amount, 0) / revenue).toBeGreaterThan(0.5);
    // Many customers never order at all.
    expect(spend.size).toBeLessThan(population.customers.length / 2);
  });

  it('prices orders from the catalogue, with totals equal to the sum of their lines', () => {
    const prices = new Map(population.products.map((product) => [product.id, product.price]));
    for (const order of orders(events)) {
      expect(order.currency).toBe('EUR');
      expect(order.lines.length).toBeGreaterThan(0);
      let sum = 0;
      for (const line of order.lines) {
        expect(line.unitPrice).toBe(prices.get(line.productId));
        expect(Number.isInteger(line.quantity) && line.quantity > 0).toBe(true);
        sum += cents(line.unitPrice) * line.quantity;
      }
      expect(cents(order.total)).toBe(sum);
    }
  });

  it('runs the funnel with Segment e-commerce event names and properties', () => {
    const names = new Set(events.flatMap((event) => (event.kind === 'track' ? [event.event] : [])));
    expect([...names].sort()).toEqual([
      'Cart Viewed',
      'Checkout Started',
      'Order Refunded',
      'Product Added',
      'Product Viewed',
    ]);
    const viewed = tracks(events, 'Product Viewed')[0].properties;
    expect(Object.keys(viewed).sort()).toEqual(['category', 'name', 'price', 'product_id', 'sku']);
    const checkout = tracks(events, 'Checkout Started')[0].properties;
    expect(checkout).toMatchObject({ currency: 'EUR' });
    const products = checkout.products as { price: number; quantity: number }[];
    const value = products.reduce((sum, line) => sum + cents(line.price) * line.quantity, 0);
    expect(cents(checkout.value as number)).toBe(value);
  });

  it('is busier at weekends, toward the end of the period and in the local evening', () => {
    const activity = events.filter((event) => event.timestamp >= START);
    const perWeekday = new Array<number>(7).fill(0);
    for (const event of activity) perWeekday[event.timestamp.getUTCDay()]++;
    const weekendDay = (perWeekday[0] + perWeekday[6]) / 2;
    const midweekDay = (perWeekday[1] + perWeekday[2] + perWeekday[3] + perWeekday[4]) / 4;
    expect(weekendDay).toBeGreaterThan(midweekDay * 1.1);

    const third = (OPTIONS.days / 3) * DAY_MS;
    const inThird = (n: number) =>
      activity.filter((event) => {
        const offset = event.timestamp.getTime() - START.getTime();
        return offset >= n * third && offset < (n + 1) * third;
      }).length;
    expect(inThird(2)).toBeGreaterThan(inThird(0) * 1.2);

    const timezones = new Map(population.customers.map((c) => [c.id, c.timezone]));
    const clocks = new Map<string, Intl.DateTimeFormat>();
    const localHour = (event: SimEvent) => {
      const timeZone = timezones.get(event.userId)!;
      if (!clocks.has(timeZone)) {
        clocks.set(
          timeZone,
          new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' }),
        );
      }
      return Number(clocks.get(timeZone)!.format(event.timestamp));
    };
    const hours = tracks(activity, 'Product Viewed').slice(0, 5000).map(localHour);
    const evening = hours.filter((hour) => hour >= 18 && hour < 23).length;
    const night = hours.filter((hour) => hour >= 1 && hour < 6).length;
    expect(evening).toBeGreaterThan(night * 5);
  });
});
