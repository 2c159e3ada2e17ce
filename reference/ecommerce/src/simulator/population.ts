/**
 * The reference shop's simulated shopper population: a catalogue, customers, and a time-ordered
 * stream of their identify, funnel and order events, all determined by a seed. It owns the run
 * itself: planning each day's signups and sessions and streaming them in order a day at a time, so
 * a large population never sits in memory. Writing anything anywhere is the caller's business.
 */
import { activityFactor, DAY_MS, shoppingTimeOnDay } from './calendar.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { createIdSource, EventQueue } from './event-queue.js';
import { chance, createRandom, deriveSeed, intBetween, poisson, type Random } from './random.js';
import { planSession, planSignup, type SessionPlanner, type Shopper } from './sessions.js';
import { buildShoppers, SIGNUP_LOOKBACK_DAYS, type ShopperProfile } from './shoppers.js';

export { createRandom } from './random.js';
export { SIGNUP_LOOKBACK_DAYS } from './shoppers.js';

export interface SimProduct {
  id: string;
  sku: string;
  name: string;
  category: string;
  price: number;
}

export interface SimCustomer {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  country: string;
  timezone: string;
  createdAt: Date;
}

export type SimEvent =
  | {
      kind: 'identify';
      messageId: string;
      userId: string;
      timestamp: Date;
      traits: Record<string, unknown>;
    }
  | {
      kind: 'track';
      messageId: string;
      userId: string;
      timestamp: Date;
      event: string;
      properties: Record<string, unknown>;
    }
  | {
      kind: 'order';
      messageId: string;
      userId: string;
      timestamp: Date;
      orderId: string;
      lines: { productId: string; quantity: number; unitPrice: number }[];
      total: number;
      currency: string;
    };

export interface PopulationOptions {
  customers: number;
  days: number;
  seed: number;
  /** First simulated instant; 2026-01-01T00:00:00Z unless given. */
  start?: Date;
}

export interface Population {
  products: SimProduct[];
  customers: SimCustomer[];
  /**
   * Every event from the earliest signup (up to SIGNUP_LOOKBACK_DAYS before `start`) until
   * `start + days`, in non-decreasing timestamp order. Each call starts a fresh, identical run.
   */
  events(): Generator<SimEvent>;
}

const DEFAULT_START = Date.UTC(2026, 0, 1);
/** Many people sign up in the middle of their first visit. */
const SIGNUP_SESSION_CHANCE = 0.5;

interface World {
  seed: number;
  startMs: number;
  days: number;
  catalogue: Catalogue;
  customers: SimCustomer[];
  profiles: ShopperProfile[];
}

export function generatePopulation(options: PopulationOptions): Population {
  const { customers: count, days, seed } = options;
  const startMs = options.start ? options.start.getTime() : DEFAULT_START;
  validate(count, days, seed, startMs);
  const catalogue = buildCatalogue(createRandom(deriveSeed(seed, 'catalogue')));
  const rng = createRandom(deriveSeed(seed, 'shoppers'));
  const { customers, profiles } = buildShoppers(rng, count, { startMs, days }, catalogue);
  const world: World = { seed, startMs, days, catalogue, customers, profiles };
  // Copies, so a caller editing what it was given cannot change the event stream.
  return {
    products: catalogue.products.map((product) => ({ ...product })),
    customers: customers.map((customer) => ({
      ...customer,
      createdAt: new Date(customer.createdAt),
    })),
    events: () => streamEvents(world),
  };
}

function validate(customers: number, days: number, seed: number, startMs: number): void {
  if (!Number.isInteger(customers) || customers < 0) {
    throw new RangeError(`customers must be a whole number ≥ 0, got ${customers}`);
  }
  if (!Number.isInteger(days) || days < 1) {
    throw new RangeError(`days must be a whole number ≥ 1, got ${days}`);
  }
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  if (!Number.isFinite(startMs)) throw new RangeError('start must be a valid date');
}

interface Run extends SessionPlanner {
  world: World;
  shoppers: Shopper[];
  /** How many customers (a prefix, as they are in signup order) have signed up so far. */
  signedUp: number;
}

function* streamEvents(world: World): Generator<SimEvent> {
  const run = startRun(world);
  const ids = createIdSource(world.seed);
  const endMs = world.startMs + world.days * DAY_MS;
  for (let day = -SIGNUP_LOOKBACK_DAYS; day < world.days; day++) {
    const dayStartMs = world.startMs + day * DAY_MS;
    planSignups(run, dayStartMs + DAY_MS);
    if (day >= 0) planShoppingDay(run, day, dayStartMs);
    // Nothing planned later can happen before this day ends, so everything up to then is final.
    yield* run.queue.releaseBefore(Math.min(dayStartMs + DAY_MS, endMs), ids);
  }
}

function startRun(world: World): Run {
  return {
    world,
    rng: createRandom(deriveSeed(world.seed, 'events')),
    catalogue: world.catalogue,
    queue: new EventQueue(),
    shoppers: world.customers.map((customer, index) => {
      const profile = world.profiles[index];
      const { newsletter, plan } = profile;
      return { customer, profile, newsletter, plan, busyUntil: -Infinity };
    }),
    signedUp: 0,
  };
}

function planSignups(run: Run, untilMs: number): void {
  while (run.signedUp < run.shoppers.length) {
    const shopper = run.shoppers[run.signedUp];
    const createdAtMs = shopper.customer.createdAt.getTime();
    if (createdAtMs >= untilMs) return;
    run.signedUp++;
    planSignup(run.queue, shopper);
    if (createdAtMs >= run.world.startMs && chance(run.rng, SIGNUP_SESSION_CHANCE)) {
      planSession(run, shopper, createdAtMs + intBetween(run.rng, 10_000, 120_000));
    }
  }
}

function planShoppingDay(run: Run, day: number, dayStartMs: number): void {
  const activity = activityFactor(dayStartMs, day, run.world.days);
  for (let i = 0; i < run.signedUp; i++) {
    const shopper = run.shoppers[i];
    const sessions = poisson(run.rng, shopper.profile.sessionsPerDay * activity);
    for (const start of sessionStarts(run.rng, shopper, dayStartMs, sessions)) {
      planSession(run, shopper, start);
    }
  }
}

/** Session start times on one day, in order, none before the customer existed. */
function sessionStarts(rng: Random, shopper: Shopper, dayStartMs: number, count: number) {
  const { timezone, createdAt } = shopper.customer;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) starts.push(shoppingTimeOnDay(rng, dayStartMs, timezone));
  return starts.filter((start) => start > createdAt.getTime()).sort((a, b) => a - b);
}
