/**
 * Builds the per-customer summaries the models are fitted on from raw orders, the way the
 * literature treats CDNOW (and `lifetimes`' summary_data_from_transaction_data does):
 * - time is counted in whole calendar days (UTC unless an offset is given), then divided by
 *   `periodDays` (1 for days, 7 for weeks);
 * - the first purchase day is the customer's birth: it is not a repeat purchase and its value is
 *   left out of the spend, so that spend and frequency describe the same repeat purchases;
 * - all orders of one calendar day are one purchase occasion (several orders on one day are one
 *   shopping trip, not evidence of a higher rate), and its value is the day's total;
 * - orders after `observationEnd` are ignored, and T runs to the day of `observationEnd`.
 * Days with a total of 0 or less (refunds) still count as purchase occasions.
 */
import { type CustomerHistory } from './bg-nbd.model.js';
import { type SpendHistory } from './gamma-gamma.model.js';

export interface Order {
  customerId: string;
  at: Date;
  amount: number;
}

export interface RfmSummary extends CustomerHistory, SpendHistory {
  customerId: string;
  firstPurchaseAt: Date;
}

export interface RfmOptions {
  /** Length of the model's time unit in days (1 = days, 7 = weeks). Default 1. */
  periodDays?: number;
  /** Offset of the shop's time zone from UTC in minutes, for where calendar days start. */
  utcOffsetMinutes?: number;
}

const DAY_MS = 86_400_000;

interface Purchases {
  firstAt: Date;
  dayTotals: Map<number, number>;
}

export function buildRfmSummaries(
  orders: Iterable<Order>,
  observationEnd: Date,
  options: RfmOptions = {},
): RfmSummary[] {
  const periodDays = options.periodDays ?? 1;
  if (!(periodDays > 0)) throw new RangeError(`periodDays must be > 0, got ${periodDays}`);
  const offsetMs = (options.utcOffsetMinutes ?? 0) * 60_000;
  const dayOf = (at: Date) => Math.floor((at.getTime() + offsetMs) / DAY_MS);
  const end = observationEnd.getTime();
  if (!Number.isFinite(end)) throw new RangeError('observationEnd is not a valid date');

  const customers = new Map<string, Purchases>();
  for (const order of orders) {
    const at = order.at.getTime();
    if (!Number.isFinite(at) || !Number.isFinite(order.amount)) {
      throw new RangeError(`invalid order ${JSON.stringify(order)}`);
    }
    if (at > end) continue;
    let purchases = customers.get(order.customerId);
    if (!purchases) {
      purchases = { firstAt: order.at, dayTotals: new Map() };
      customers.set(order.customerId, purchases);
    } else if (at < purchases.firstAt.getTime()) {
      purchases.firstAt = order.at;
    }
    const day = dayOf(order.at);
    purchases.dayTotals.set(day, (purchases.dayTotals.get(day) ?? 0) + order.amount);
  }

  const endDay = dayOf(observationEnd);
  return [...customers].map(([customerId, { firstAt, dayTotals }]) => {
    const days = [...dayTotals.keys()].sort((p, q) => p - q);
    const first = days[0];
    const repeatValue = days.slice(1).reduce((sum, day) => sum + (dayTotals.get(day) ?? 0), 0);
    const frequency = days.length - 1;
    return {
      customerId,
      frequency,
      recency: (days[days.length - 1] - first) / periodDays,
      T: (endDay - first) / periodDays,
      monetaryValue: frequency > 0 ? repeatValue / frequency : 0,
      firstPurchaseAt: firstAt,
    };
  });
}
