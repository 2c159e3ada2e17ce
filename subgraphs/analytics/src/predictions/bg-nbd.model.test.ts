import {
  type BgNbdParams,
  bgNbdLogLikelihood,
  churnRisk,
  type CustomerHistory,
  expectedPurchases,
  expectedPurchasesNewCustomer,
  fitBgNbd,
  probabilityAlive,
  probabilityOfPurchases,
} from './bg-nbd.model.js';
import { type MinimizeResult, type Minimizer, nelderMead } from './minimize.js';
import { seededRandom, simulateBgNbd } from './simulation.js';
import { hyp2f1, lnBeta, lnGamma } from './special-functions.js';

const cdnowFit: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

/** Paper eq. 6, the likelihood itself (not its log), for customers small enough not to underflow. */
function directLikelihood(p: BgNbdParams, c: CustomerHistory): number {
  const { r, alpha, a, b } = p;
  const { frequency: x, recency: tx, T } = c;
  const common =
    Math.exp(lnBeta(a, b + x) - lnBeta(a, b) + lnGamma(r + x) - lnGamma(r)) * alpha ** r;
  const dead = x > 0 ? (a / (b + x - 1)) * (alpha + tx) ** -(r + x) : 0;
  return common * ((alpha + T) ** -(r + x) + dead);
}

/** Paper eq. 10 with the 2F1 evaluated as written. */
function directExpectation(p: BgNbdParams, c: CustomerHistory, t: number): number {
  const { r, alpha, a, b } = p;
  const { frequency: x, recency: tx, T } = c;
  const z = t / (alpha + T + t);
  const hyper = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const numerator =
    ((a + b + x - 1) / (a - 1)) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyper);
  const dead = x > 0 ? (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) : 0;
  return numerator / (1 + dead);
}

const histories: CustomerHistory[] = [
  { frequency: 0, recency: 0, T: 38.86 },
  { frequency: 2, recency: 30.43, T: 38.86 },
  { frequency: 1, recency: 1.71, T: 38.86 },
  { frequency: 7, recency: 29.43, T: 35.0 },
  { frequency: 29, recency: 37.71, T: 38.0 },
  { frequency: 3, recency: 0.5, T: 70 },
];

describe('bgNbdLogLikelihood', () => {
  it('equals the log of the likelihood written directly, summed over customers', () => {
    const expected = histories.reduce((s, c) => s + Math.log(directLikelihood(cdnowFit, c)), 0);
    expect(bgNbdLogLikelihood(cdnowFit, histories)).toBeCloseTo(expected, 9);
  });

  it('stays finite for a heavy buyer whose likelihood underflows a double', () => {
    const heavy = { frequency: 3000, recency: 700, T: 730 };
    const direct = directLikelihood(cdnowFit, heavy);
    expect(Number.isFinite(direct) && direct > 0).toBe(false);
    expect(Number.isFinite(bgNbdLogLikelihood(cdnowFit, [heavy]))).toBe(true);
  });

  it('counts duplicated customers once each, whatever their order', () => {
    const doubled = [...histories, ...[...histories].reverse()];
    expect(bgNbdLogLikelihood(cdnowFit, doubled)).toBeCloseTo(
      2 * bgNbdLogLikelihood(cdnowFit, histories),
      9,
    );
  });

  it('rejects impossible summaries', () => {
    expect(() => bgNbdLogLikelihood(cdnowFit, [{ frequency: 1.5, recency: 1, T: 2 }])).toThrow(
      /frequency/,
    );
    expect(() => bgNbdLogLikelihood(cdnowFit, [{ frequency: 1, recency: 3, T: 2 }])).toThrow(
      /recency/,
    );
    expect(() => bgNbdLogLikelihood(cdnowFit, [{ frequency: 0, recency: 1, T: 2 }])).toThrow(
      /recency must be 0/,
    );
  });
});

describe('probabilityAlive and churnRisk', () => {
  it('is 1 for a customer without a repeat purchase', () => {
    expect(probabilityAlive(cdnowFit, { frequency: 0, recency: 0, T: 1 })).toBe(1);
    expect(churnRisk(cdnowFit, { frequency: 0, recency: 0, T: 1 })).toBe(0);
  });

  it('is a probability on a grid of histories and churnRisk is its complement', () => {
    for (let x = 1; x < 100; x += 10) {
      for (let tx = 0; tx < 100; tx += 10) {
        for (let T = tx; T < 100; T += 10) {
          const c = { frequency: x, recency: tx, T };
          const alive = probabilityAlive(cdnowFit, c);
          expect(alive).toBeGreaterThanOrEqual(0);
          expect(alive).toBeLessThanOrEqual(1);
          expect(alive + churnRisk(cdnowFit, c)).toBeCloseTo(1, 14);
        }
      }
    }
  });

  it('falls with time since the last purchase, more steeply for frequent buyers', () => {
    const alive = (x: number, tx: number) =>
      probabilityAlive(cdnowFit, { frequency: x, recency: tx, T: 39 });
    expect(alive(5, 20)).toBeLessThan(alive(5, 38));
    expect(alive(20, 20)).toBeLessThan(alive(5, 20));
  });

  it('does not depend on the time unit', () => {
    const inDays = { ...cdnowFit, alpha: cdnowFit.alpha * 7 };
    const c = { frequency: 3, recency: 20, T: 39 };
    const d = { frequency: 3, recency: 140, T: 273 };
    expect(probabilityAlive(inDays, d)).toBeCloseTo(probabilityAlive(cdnowFit, c), 14);
    expect(expectedPurchases(inDays, d, 91)).toBeCloseTo(expectedPurchases(cdnowFit, c, 13), 12);
  });
});

describe('expectedPurchases', () => {
  it('matches eq. 10 evaluated with 2F1 as written', () => {
    for (const c of histories) {
      for (const t of [0.5, 13, 39, 104]) {
        const direct = directExpectation(cdnowFit, c, t);
        expect(Math.abs(expectedPurchases(cdnowFit, c, t) - direct)).toBeLessThan(
          1e-9 * (1 + direct),
        );
      }
    }
  });

  it('is continuous through a = 1, where eq. 10 has a removable pole', () => {
    const c = { frequency: 3, recency: 20, T: 30 };
    const at = (a: number) => expectedPurchases({ ...cdnowFit, a }, c, 52);
    expect(at(1)).toBeCloseTo((at(1 - 1e-6) + at(1 + 1e-6)) / 2, 9);
    expect(Number.isFinite(at(1))).toBe(true);
  });

  it('grows like the posterior rate times P(alive) over a short horizon', () => {
    const c = { frequency: 4, recency: 30, T: 39 };
    const t = 1e-6;
    const rate = (cdnowFit.r + 4) / (cdnowFit.alpha + 39);
    expect(expectedPurchases(cdnowFit, c, t) / t).toBeCloseTo(
      rate * probabilityAlive(cdnowFit, c),
      6,
    );
    expect(expectedPurchases(cdnowFit, c, 0)).toBe(0);
  });

  it('stays finite and increasing for very long horizons and heavy buyers', () => {
    const heavy = { frequency: 500, recency: 360, T: 365 };
    const short = expectedPurchases(cdnowFit, heavy, 30);
    const long = expectedPurchases(cdnowFit, heavy, 3650);
    expect(Number.isFinite(long)).toBe(true);
    expect(long).toBeGreaterThan(short);
  });
});

describe('expectedPurchasesNewCustomer and probabilityOfPurchases', () => {
  it('agree: the mean of P(X(t) = n) is E[X(t)], and the probabilities sum to 1', () => {
    for (const t of [1, 10, 39]) {
      let total = 0;
      let mean = 0;
      for (let n = 0; n < 400; n++) {
        const pn = probabilityOfPurchases(cdnowFit, t, n);
        total += pn;
        mean += n * pn;
      }
      expect(total).toBeCloseTo(1, 8);
      expect(mean).toBeCloseTo(expectedPurchasesNewCustomer(cdnowFit, t), 6);
    }
  });

  it('is zero purchases for sure at t = 0', () => {
    expect(probabilityOfPurchases(cdnowFit, 0, 0)).toBe(1);
    expect(probabilityOfPurchases(cdnowFit, 0, 3)).toBe(0);
    expect(expectedPurchasesNewCustomer(cdnowFit, 0)).toBe(0);
  });
});

describe('fitBgNbd on simulated customers', () => {
  const truth: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  const random = seededRandom(20050401);
  const ages = Array.from({ length: 5000 }, () => 26 + 26 * random());
  const customers = simulateBgNbd(truth, ages, random, 26);
  const fit = fitBgNbd(customers);

  it('recovers the parameters within three (informative) standard errors', () => {
    expect(fit.converged).toBe(true);
    expect(fit.standardErrors).not.toBeNull();
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      const se = fit.standardErrors?.[name] ?? NaN;
      expect(Math.abs(fit.params[name] - truth[name])).toBeLessThan(3 * se);
      // 5,000 customers pin r and α to a few percent; a and b (dropout) to about 20%
      expect(se / truth[name]).toBeLessThan(name === 'r' || name === 'alpha' ? 0.06 : 0.25);
    }
  });

  it('is at a maximum: every coordinate step lowers the log-likelihood', () => {
    const best = bgNbdLogLikelihood(fit.params, customers);
    expect(best).toBeCloseTo(fit.logLikelihood, 8);
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      for (const factor of [0.999, 1.001]) {
        const moved = { ...fit.params, [name]: fit.params[name] * factor };
        expect(bgNbdLogLikelihood(moved, customers)).toBeLessThan(best);
      }
    }
  });

  it('predicts the share of customers still alive and the holdout purchases', () => {
    const n = customers.length;
    const predictedAlive = customers.reduce((s, c) => s + probabilityAlive(fit.params, c), 0);
    const actualAlive = customers.filter((c) => c.alive).length;
    // a sum of independent Bernoulli draws: sd <= sqrt(n)/2
    expect(Math.abs(predictedAlive - actualAlive)).toBeLessThan(4 * (Math.sqrt(n) / 2));

    const predicted = customers.map((c) => expectedPurchases(fit.params, c, 26));
    const actual = customers.map((c) => c.holdoutPurchases);
    const diff = actual.map((y, i) => y - predicted[i]);
    const sd = Math.sqrt(diff.reduce((s, d) => s + d * d, 0) / n);
    const meanDiff = diff.reduce((s, d) => s + d, 0) / n;
    expect(Math.abs(meanDiff)).toBeLessThan((4 * sd) / Math.sqrt(n));
    // and among the frequent buyers alone, where P(alive) matters most
    const frequent = customers.flatMap((c, i) => (c.frequency >= 5 ? [i] : []));
    const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
    const ratio = sum(frequent.map((i) => actual[i])) / sum(frequent.map((i) => predicted[i]));
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.15);
  });

  it('matches E[X(t)] with the mean frequency of newly simulated customers', () => {
    const fresh = simulateBgNbd(truth, new Array<number>(20000).fill(39), seededRandom(7));
    const mean = fresh.reduce((s, c) => s + c.frequency, 0) / fresh.length;
    const sd = Math.sqrt(fresh.reduce((s, c) => s + (c.frequency - mean) ** 2, 0) / fresh.length);
    expect(Math.abs(mean - expectedPurchasesNewCustomer(truth, 39))).toBeLessThan(
      (4 * sd) / Math.sqrt(fresh.length),
    );
  });
});

describe('fitBgNbd options', () => {
  const customers = simulateBgNbd(
    { r: 0.5, alpha: 10, a: 1.2, b: 4 },
    new Array<number>(500).fill(52),
    seededRandom(3),
  );

  it('uses the minimizer it is given', () => {
    let calls = 0;
    const counting: Minimizer = (f, x0, options): MinimizeResult => {
      calls++;
      return nelderMead(f, x0, options);
    };
    const fit = fitBgNbd(customers, { minimizer: counting });
    expect(calls).toBe(1);
    expect(fit.params).toEqual(fitBgNbd(customers).params);
  });

  it('reaches the same optimum from a distant start', () => {
    const a = fitBgNbd(customers);
    const b = fitBgNbd(customers, { start: { r: 20, alpha: 0.01, a: 50, b: 0.05 } });
    expect(b.logLikelihood).toBeCloseTo(a.logLikelihood, 5);
  });

  it('refuses an empty customer list', () => {
    expect(() => fitBgNbd([])).toThrow(RangeError);
  });
});
