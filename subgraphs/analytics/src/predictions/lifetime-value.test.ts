import { expectedPurchases, probabilityAlive } from './bg-nbd.model.js';
import { expectedAverageOrderValue } from './gamma-gamma.model.js';
import {
  customerLifetimeValue,
  type CustomerSummary,
  type Models,
  PERIODS_PER_MONTH,
  predictCustomer,
} from './lifetime-value.js';

const models: Models = {
  bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  gammaGamma: { p: 6.25, q: 3.74, v: 15.44 },
};
const customer: CustomerSummary = { frequency: 2, recency: 30.43, T: 38.86, monetaryValue: 22.35 };
const weekly = { periodsPerMonth: PERIODS_PER_MONTH.week };

describe('customerLifetimeValue', () => {
  it('sums each month’s expected purchases times the order value, discounted monthly', () => {
    const value = expectedAverageOrderValue(models.gammaGamma, customer);
    let expected = 0;
    for (let month = 1; month <= 12; month++) {
      const inMonth =
        expectedPurchases(models.bgNbd, customer, month * 4.345) -
        expectedPurchases(models.bgNbd, customer, (month - 1) * 4.345);
      expected += (inMonth * value) / 1.01 ** month;
    }
    expect(customerLifetimeValue(models, customer, weekly)).toBeCloseTo(expected, 10);
  });

  it('without discounting is expected purchases over the horizon times the order value', () => {
    const clv = customerLifetimeValue(models, customer, {
      ...weekly,
      horizonMonths: 6,
      monthlyDiscountRate: 0,
    });
    const expected =
      expectedPurchases(models.bgNbd, customer, 6 * 4.345) *
      expectedAverageOrderValue(models.gammaGamma, customer);
    expect(clv).toBeCloseTo(expected, 10);
  });

  it('grows with the horizon, part months included, and falls with the discount rate', () => {
    const clv = (horizonMonths: number, monthlyDiscountRate = 0.01) =>
      customerLifetimeValue(models, customer, { ...weekly, horizonMonths, monthlyDiscountRate });
    expect(clv(0)).toBe(0);
    expect(clv(12)).toBeLessThan(clv(12.5));
    expect(clv(12.5)).toBeLessThan(clv(13));
    expect(clv(12, 0.05)).toBeLessThan(clv(12, 0.01));
  });

  it('values a customer without repeat purchases at the population order value', () => {
    const newcomer = { frequency: 0, recency: 0, T: 10, monetaryValue: 0 };
    const { p, q, v } = models.gammaGamma;
    const clv = customerLifetimeValue(models, newcomer, { ...weekly, monthlyDiscountRate: 0 });
    expect(clv).toBeCloseTo(
      expectedPurchases(models.bgNbd, newcomer, 12 * 4.345) * ((p * v) / (q - 1)),
      10,
    );
  });

  it('is the same whether the models count days or weeks', () => {
    const inDays: Models = { ...models, bgNbd: { ...models.bgNbd, alpha: models.bgNbd.alpha * 7 } };
    const dayCustomer = { ...customer, recency: customer.recency * 7, T: customer.T * 7 };
    const perDay = customerLifetimeValue(inDays, dayCustomer, { periodsPerMonth: 4.345 * 7 });
    expect(perDay).toBeCloseTo(customerLifetimeValue(models, customer, weekly), 9);
  });

  it('rejects nonsensical options', () => {
    expect(() => customerLifetimeValue(models, customer, { periodsPerMonth: 0 })).toThrow(
      RangeError,
    );
    expect(() =>
      customerLifetimeValue(models, customer, { ...weekly, monthlyDiscountRate: -1 }),
    ).toThrow(RangeError);
  });
});

describe('predictCustomer', () => {
  it('brings together P(alive), churn risk, expected purchases, order value and CLV', () => {
    const prediction = predictCustomer(models, customer, { ...weekly, purchaseHorizon: 13 });
    expect(prediction.probabilityAlive).toBeCloseTo(probabilityAlive(models.bgNbd, customer), 15);
    expect(prediction.churnRisk).toBeCloseTo(1 - prediction.probabilityAlive, 15);
    expect(prediction.expectedPurchases).toBeCloseTo(
      expectedPurchases(models.bgNbd, customer, 13),
      15,
    );
    expect(prediction.expectedOrderValue).toBeCloseTo(
      expectedAverageOrderValue(models.gammaGamma, customer),
      15,
    );
    expect(prediction.clv).toBeCloseTo(customerLifetimeValue(models, customer, weekly), 15);
  });
});
