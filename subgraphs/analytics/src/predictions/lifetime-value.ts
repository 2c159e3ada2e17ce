/**
 * Customer lifetime value and churn risk from a fitted BG/NBD (how many purchases) and Gamma-Gamma
 * (what each is worth). CLV follows `lifetimes`' customer_lifetime_value: month by month, the
 * purchases expected in that month times the expected order value, discounted by (1 + d)^month.
 */
import {
  type BgNbdParams,
  churnRisk,
  type CustomerHistory,
  expectedPurchases,
  probabilityAlive,
} from './bg-nbd.model.js';
import {
  expectedAverageOrderValue,
  type GammaGammaParams,
  type SpendHistory,
} from './gamma-gamma.model.js';

/** Model periods in a month, as `lifetimes` counts them. */
export const PERIODS_PER_MONTH = { day: 30, week: 4.345 } as const;

export interface ClvOptions {
  /** How many of the BG/NBD's time units make a month (see PERIODS_PER_MONTH). */
  periodsPerMonth: number;
  /**
   * Months ahead (default 12). A fractional horizon ends with a part month, discounted at its end
   * (horizon) rather than at the next whole month.
   */
  horizonMonths?: number;
  /** Discount rate per month (default 0.01, `lifetimes`' default). */
  monthlyDiscountRate?: number;
}

export type CustomerSummary = CustomerHistory & SpendHistory;

export interface Models {
  bgNbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
}

export function customerLifetimeValue(
  models: Models,
  customer: CustomerSummary,
  options: ClvOptions,
): number {
  const { periodsPerMonth } = options;
  const horizon = options.horizonMonths ?? 12;
  const rate = options.monthlyDiscountRate ?? 0.01;
  if (!(periodsPerMonth > 0)) throw new RangeError(`periodsPerMonth must be > 0`);
  if (!(horizon >= 0 && Number.isFinite(horizon))) throw new RangeError(`horizonMonths >= 0`);
  if (!(rate > -1)) throw new RangeError(`monthlyDiscountRate must be > -1`);
  const orderValue = expectedAverageOrderValue(models.gammaGamma, customer);
  let value = 0;
  let previous = 0;
  for (let month = 1; month < horizon + 1; month++) {
    const until = Math.min(month, horizon);
    const cumulative = expectedPurchases(models.bgNbd, customer, until * periodsPerMonth);
    value += ((cumulative - previous) * orderValue) / (1 + rate) ** until;
    previous = cumulative;
  }
  return value;
}

export interface CustomerPrediction {
  probabilityAlive: number;
  churnRisk: number;
  /** Purchases expected within `purchaseHorizon` periods. */
  expectedPurchases: number;
  expectedOrderValue: number;
  clv: number;
}

/** Everything the models say about one customer. */
export function predictCustomer(
  models: Models,
  customer: CustomerSummary,
  options: ClvOptions & { purchaseHorizon: number },
): CustomerPrediction {
  return {
    probabilityAlive: probabilityAlive(models.bgNbd, customer),
    churnRisk: churnRisk(models.bgNbd, customer),
    expectedPurchases: expectedPurchases(models.bgNbd, customer, options.purchaseHorizon),
    expectedOrderValue: expectedAverageOrderValue(models.gammaGamma, customer),
    clv: customerLifetimeValue(models, customer, options),
  };
}
