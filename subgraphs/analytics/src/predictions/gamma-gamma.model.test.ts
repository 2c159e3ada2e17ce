import {
  expectedAverageOrderValue,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  type GammaGammaParams,
  type SpendHistory,
} from './gamma-gamma.model.js';
import { seededRandom, simulateMeanSpend } from './simulation.js';
import { lnGamma } from './special-functions.js';

const params: GammaGammaParams = { p: 6.25, q: 3.74, v: 15.44 };

describe('gammaGammaLogLikelihood', () => {
  it('is the density of the mean of x Gamma(p, ν) values with ν ~ Gamma(q, v)', () => {
    // x = 1: m̄ is one Gamma(p, ν) value, whose ν-mixture has density
    // Γ(p+q)/(Γ(p)Γ(q)) v^q m^(p-1) / (m+v)^(p+q)
    const { p, q, v } = params;
    const m = 21.5;
    const density =
      lnGamma(p + q) -
      lnGamma(p) -
      lnGamma(q) +
      q * Math.log(v) +
      (p - 1) * Math.log(m) -
      (p + q) * Math.log(m + v);
    expect(gammaGammaLogLikelihood(params, [{ frequency: 1, monetaryValue: m }])).toBeCloseTo(
      density,
      12,
    );
  });

  it('integrates to 1 over m̄ for x = 3', () => {
    const f = (m: number) =>
      Math.exp(gammaGammaLogLikelihood(params, [{ frequency: 3, monetaryValue: m }]));
    let integral = 0;
    const h = 0.05;
    for (let m = h / 2; m < 2000; m += h) integral += f(m) * h;
    expect(integral).toBeCloseTo(1, 4);
  });

  it('rejects customers without repeat spend', () => {
    expect(() => gammaGammaLogLikelihood(params, [{ frequency: 0, monetaryValue: 0 }])).toThrow(
      RangeError,
    );
    expect(() => gammaGammaLogLikelihood(params, [{ frequency: 2, monetaryValue: -5 }])).toThrow(
      RangeError,
    );
  });
});

describe('expectedAverageOrderValue', () => {
  it('is the population mean p·v/(q-1) for a customer without repeat purchases', () => {
    const { p, q, v } = params;
    expect(expectedAverageOrderValue(params, { frequency: 0, monetaryValue: 0 })).toBeCloseTo(
      (p * v) / (q - 1),
      12,
    );
  });

  it('moves from the population mean toward the customer’s own mean as x grows', () => {
    const population = expectedAverageOrderValue(params, { frequency: 0, monetaryValue: 0 });
    const own = 100;
    let previous = population;
    for (const x of [1, 2, 5, 20, 1000]) {
      const value = expectedAverageOrderValue(params, { frequency: x, monetaryValue: own });
      expect(value).toBeGreaterThan(previous);
      expect(value).toBeLessThan(own + 1e-9);
      previous = value;
    }
    expect(previous).toBeCloseTo(own, 0);
  });

  it('refuses a population whose mean spend is infinite (q <= 1)', () => {
    expect(() =>
      expectedAverageOrderValue({ p: 2, q: 0.8, v: 10 }, { frequency: 0, monetaryValue: 0 }),
    ).toThrow(/infinite/);
  });
});

describe('fitGammaGamma on simulated customers', () => {
  const truth: GammaGammaParams = { p: 4, q: 3, v: 20 };
  const random = seededRandom(2013);
  const customers: SpendHistory[] = Array.from({ length: 3000 }, () => {
    const frequency = 1 + Math.floor(8 * random() ** 2);
    return { frequency, monetaryValue: simulateMeanSpend(truth, frequency, random) };
  });

  it('recovers the parameters within three standard errors', () => {
    const fit = fitGammaGamma(customers);
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(3000);
    for (const name of ['p', 'q', 'v'] as const) {
      const se = fit.standardErrors?.[name] ?? NaN;
      expect(Math.abs(fit.params[name] - truth[name])).toBeLessThan(3 * se);
      expect(se / truth[name]).toBeLessThan(0.2);
    }
  });

  it('leaves out customers without repeat spend', () => {
    const withNewcomers = [
      ...customers,
      { frequency: 0, monetaryValue: 0 },
      { frequency: 2, monetaryValue: 0 },
    ];
    const fit = fitGammaGamma(withNewcomers);
    expect(fit.customers).toBe(3000);
    expect(fit.logLikelihood).toBeCloseTo(fitGammaGamma(customers).logLikelihood, 6);
  });

  it('refuses a list without repeat spend', () => {
    expect(() => fitGammaGamma([{ frequency: 0, monetaryValue: 0 }])).toThrow(RangeError);
  });
});
