/**
 * The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your Customers the
 * Easy Way", Marketing Science 24(2)): while alive a customer buys at a Poisson rate λ ~ Gamma(r,
 * α), and after each repeat purchase drops out for good with probability p ~ Beta(a, b). A
 * customer is summarised by x repeat purchases, the time t_x of the last one and the age T, all
 * measured from the first purchase in one time unit of the caller's choosing (days, weeks): α and
 * every horizon t are in that unit.
 */
import { type FitOptions, fitPositiveParameters, type ModelFit } from './maximum-likelihood.js';
import {
  lnBeta,
  lnGamma,
  logistic,
  logSumExp,
  oneMinusExpOver,
  seriesWarmUp,
  sumRatioSeries,
} from './special-functions.js';

// Bound once: a global lookup on every call is slow inside a VM sandbox such as jest's.
const { exp, log, log1p, max } = Math;

/** A customer's purchase history (the "RFM" summary without the money). */
export interface CustomerHistory {
  /** x: repeat purchases (purchases after the first). */
  frequency: number;
  /** t_x: time from the first purchase to the last one (0 when frequency is 0). */
  recency: number;
  /** Age: time from the first purchase to the end of observation. */
  T: number;
}

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export type BgNbdFit = ModelFit<BgNbdParams>;

const PARAM_NAMES = ['r', 'alpha', 'a', 'b'] as const;

/** Throws a RangeError naming the first customer whose summary is impossible. */
export function assertCustomerHistory(customer: CustomerHistory, index = 0): void {
  const { frequency: x, recency: tx, T } = customer;
  const problem =
    !Number.isInteger(x) || x < 0
      ? 'frequency must be a non-negative integer'
      : !Number.isFinite(T) || T < 0
        ? 'T must be finite and >= 0'
        : !Number.isFinite(tx) || tx < 0 || tx > T
          ? 'recency must be in [0, T]'
          : x === 0 && tx !== 0
            ? 'recency must be 0 when frequency is 0'
            : null;
  if (problem) throw new RangeError(`customer ${index}: ${problem} (${JSON.stringify(customer)})`);
}

/** Customers with the same (x, t_x, T), counted once; the likelihood is then a weighted sum. */
interface HistoryGroups {
  xs: number[];
  xIndex: Int32Array;
  recency: Float64Array;
  age: Float64Array;
  weight: Float64Array;
}

function groupHistories(customers: readonly CustomerHistory[]): HistoryGroups {
  const groups = new Map<string, { x: number; tx: number; T: number; n: number }>();
  customers.forEach((customer, i) => {
    assertCustomerHistory(customer, i);
    const key = `${customer.frequency}|${customer.recency}|${customer.T}`;
    const group = groups.get(key);
    if (group) group.n++;
    else groups.set(key, { x: customer.frequency, tx: customer.recency, T: customer.T, n: 1 });
  });
  const list = [...groups.values()];
  const xs = [...new Set(list.map((g) => g.x))];
  const position = new Map(xs.map((x, i) => [x, i]));
  return {
    xs,
    xIndex: Int32Array.from(list, (g) => position.get(g.x) ?? -1),
    recency: Float64Array.from(list, (g) => g.tx),
    age: Float64Array.from(list, (g) => g.T),
    weight: Float64Array.from(list, (g) => g.n),
  };
}

function groupedLogLikelihood(params: BgNbdParams, data: HistoryGroups): number {
  const { r, alpha, a, b } = params;
  const logA = log(a);
  const logAlpha = log(alpha);
  const constant = r * logAlpha - lnGamma(r) + lnGamma(a + b) - lnGamma(b);
  const perX = data.xs.map((x) => constant + lnGamma(r + x) + lnGamma(b + x) - lnGamma(a + b + x));
  const dropTerm = data.xs.map((x) => (x > 0 ? logA - log(b + x - 1) : -Infinity));
  let total = 0;
  for (let i = 0; i < data.weight.length; i++) {
    const k = data.xIndex[i];
    const rx = r + data.xs[k];
    const aliveAtT = -rx * log(alpha + data.age[i]);
    const diedAfterLast = dropTerm[k] - rx * log(alpha + data.recency[i]);
    total += data.weight[i] * (perX[k] + logSumExp(aliveAtT, diedAfterLast));
  }
  return total;
}

/** ln L(r, α, a, b | x, t_x, T) summed over customers (paper eq. 6, in log space). */
export function bgNbdLogLikelihood(
  params: BgNbdParams,
  customers: readonly CustomerHistory[],
): number {
  return groupedLogLikelihood(params, groupHistories(customers));
}

/** Maximum-likelihood fit of (r, α, a, b). */
export function fitBgNbd(
  customers: readonly CustomerHistory[],
  options: FitOptions<BgNbdParams> = {},
): BgNbdFit {
  if (customers.length === 0) throw new RangeError('fitBgNbd needs at least one customer');
  const data = groupHistories(customers);
  const meanAge = customers.reduce((sum, c) => sum + c.T, 0) / customers.length;
  const start = { r: 1, alpha: meanAge > 0 ? meanAge : 1, a: 1, b: 1 };
  return fitPositiveParameters(
    PARAM_NAMES,
    (params) => groupedLogLikelihood(params, data),
    start,
    customers.length,
    options,
  );
}

/** ln of the odds that a customer with this history has already dropped out. */
function logOddsDead(params: BgNbdParams, customer: CustomerHistory): number {
  const { r, alpha, a, b } = params;
  const { frequency: x, recency: tx, T } = customer;
  if (x === 0) return -Infinity;
  return log(a) - log(b + x - 1) + (r + x) * (log(alpha + T) - log(alpha + tx));
}

/** P(alive | x, t_x, T): 1 for a customer with no repeat purchase (no chance to drop out yet). */
export function probabilityAlive(params: BgNbdParams, customer: CustomerHistory): number {
  assertCustomerHistory(customer);
  return logistic(-logOddsDead(params, customer));
}

/** 1 - P(alive), computed without cancellation for customers almost surely alive. */
export function churnRisk(params: BgNbdParams, customer: CustomerHistory): number {
  assertCustomerHistory(customer);
  return logistic(logOddsDead(params, customer));
}

/**
 * E[Y(t) | x, t_x, T]: expected purchases in the next t periods (paper eq. 10). The 2F1 there is
 * rewritten by Euler's transformation, (1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(c-r-x,
 * a-1; c; z) with c = a+b+x-1, whose series has small terms for any x and no pole at a = 1.
 */
export function expectedPurchases(
  params: BgNbdParams,
  customer: CustomerHistory,
  t: number,
): number {
  assertCustomerHistory(customer);
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`horizon must be >= 0, got ${t}`);
  if (t === 0) return 0;
  const { r, alpha, a, b } = params;
  const x = customer.frequency;
  const z = t / (alpha + customer.T + t);
  const logOneMinusZ = -log1p(t / (alpha + customer.T));
  const A = a + b - 1 - r;
  const c = a + b + x - 1;
  // E = P(alive) · c · [1 - (1-z)^(a-1) F] / (a-1) with F = 2F1(A, a-1; c; z) = 1 + (a-1)/c · S,
  // S = Σ_{n>=1} (A)_n (a)_{n-1} z^n / ((c+1)_{n-1} n!), so the (a-1) cancels out of the series:
  // E = P(alive) · [c · (1 - (1-z)^(a-1)) / (a-1) - (1-z)^(a-1) · S].
  const series = sumRatioSeries(
    A * z,
    (n) => ((A + n) * (a + n - 1) * z) / ((c + n) * (n + 1)),
    z,
    seriesWarmUp(A, a - 1, c),
  );
  const perAlive = c * oneMinusExpOver(a - 1, logOneMinusZ) - exp((a - 1) * logOneMinusZ) * series;
  return perAlive * logistic(-logOddsDead(params, customer));
}

/** E[X(t)]: expected repeat purchases in the first t periods after a new customer's first one. */
export function expectedPurchasesNewCustomer(params: BgNbdParams, t: number): number {
  return expectedPurchases(params, { frequency: 0, recency: 0, T: 0 }, t);
}

/** P(X(t) = n): probability of exactly n repeat purchases in a new customer's first t periods. */
export function probabilityOfPurchases(params: BgNbdParams, t: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer`);
  if (!(t >= 0 && Number.isFinite(t))) throw new RangeError(`horizon must be >= 0, got ${t}`);
  if (t === 0) return n === 0 ? 1 : 0;
  const { r, alpha, a, b } = params;
  const logP = -log1p(t / alpha);
  const logQ = log(t) - log(alpha + t);
  const logNegBinomial = (j: number) =>
    lnGamma(r + j) - lnGamma(r) - lnGamma(j + 1) + r * logP + j * logQ;
  const aliveAll = exp(lnBeta(a, b + n) - lnBeta(a, b) + logNegBinomial(n));
  if (n === 0) return aliveAll;
  // P(NBD count <= n - 1), its terms built by their ratio (r + j) q / (j + 1)
  let logTerm = r * logP;
  let atMostNMinus1 = 0;
  for (let j = 0; j < n; j++) {
    atMostNMinus1 += exp(logTerm);
    logTerm += log((r + j) / (j + 1)) + logQ;
  }
  const diedAfterNth = exp(lnBeta(a + 1, b + n - 1) - lnBeta(a, b));
  return aliveAll + diedAfterNth * max(0, 1 - atMostNMinus1);
}
