/**
 * The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV", J.
 * Marketing Research 42(4); Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): a
 * customer's purchase values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers, independent of
 * how often they buy. It is fitted on the customers with at least one repeat purchase, from the
 * number x and the mean value m̄ of their repeat purchases.
 */
import { type FitOptions, fitPositiveParameters, type ModelFit } from './maximum-likelihood.js';
import { lnGamma } from './special-functions.js';

// Bound once: a global lookup on every call is slow inside a VM sandbox such as jest's.
const { log } = Math;

export interface SpendHistory {
  /** x: repeat purchases. */
  frequency: number;
  /** m̄: mean value of the repeat purchases (0 or anything when frequency is 0). */
  monetaryValue: number;
}

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

export type GammaGammaFit = ModelFit<GammaGammaParams>;

const PARAM_NAMES = ['p', 'q', 'v'] as const;

function assertSpend(customer: SpendHistory, index: number): void {
  const { frequency: x, monetaryValue: m } = customer;
  if (!Number.isInteger(x) || x < 1 || !(m > 0) || !Number.isFinite(m)) {
    throw new RangeError(
      `customer ${index}: the Gamma-Gamma likelihood needs frequency >= 1 and a positive, finite ` +
        `monetaryValue (${JSON.stringify(customer)})`,
    );
  }
}

/** Whether a customer carries information on spend: at least one repeat purchase of value > 0. */
export function hasRepeatSpend(customer: SpendHistory): boolean {
  return customer.frequency >= 1 && customer.monetaryValue > 0;
}

/** Validated spend, with what the likelihood needs precomputed once per fit. */
interface SpendData {
  xs: number[];
  xIndex: Int32Array;
  spend: Float64Array;
  logSpend: Float64Array;
}

function spendData(customers: readonly SpendHistory[]): SpendData {
  customers.forEach(assertSpend);
  const xs = [...new Set(customers.map((c) => c.frequency))];
  const position = new Map(xs.map((x, i) => [x, i]));
  return {
    xs,
    xIndex: Int32Array.from(customers, (c) => position.get(c.frequency) ?? -1),
    spend: Float64Array.from(customers, (c) => c.monetaryValue),
    logSpend: Float64Array.from(customers, (c) => log(c.monetaryValue)),
  };
}

function spendLogLikelihood(params: GammaGammaParams, data: SpendData): number {
  const { p, q, v } = params;
  const constant = q * log(v) - lnGamma(q);
  const perX = data.xs.map((x) => constant + lnGamma(p * x + q) - lnGamma(p * x) + p * x * log(x));
  let total = 0;
  for (let i = 0; i < data.spend.length; i++) {
    const x = data.xs[data.xIndex[i]];
    const px = p * x;
    total +=
      perX[data.xIndex[i]] + (px - 1) * data.logSpend[i] - (px + q) * log(x * data.spend[i] + v);
  }
  return total;
}

/** ln of the density of m̄ given x, summed over customers with a repeat purchase. */
export function gammaGammaLogLikelihood(
  params: GammaGammaParams,
  customers: readonly SpendHistory[],
): number {
  return spendLogLikelihood(params, spendData(customers));
}

/**
 * Maximum-likelihood fit of (p, q, v) on the customers for which `hasRepeatSpend` holds; the others
 * (no repeat purchase, or repeat purchases worth nothing in all) are left out, as in the paper.
 */
export function fitGammaGamma(
  customers: readonly SpendHistory[],
  options: FitOptions<GammaGammaParams> = {},
): GammaGammaFit {
  const used = customers.filter(hasRepeatSpend);
  if (used.length === 0) throw new RangeError('fitGammaGamma needs a customer with repeat spend');
  const data = spendData(used);
  const meanSpend = used.reduce((sum, c) => sum + c.monetaryValue, 0) / used.length;
  return fitPositiveParameters(
    PARAM_NAMES,
    (params) => spendLogLikelihood(params, data),
    { p: 1, q: 2, v: meanSpend },
    used.length,
    options,
  );
}

/**
 * E[Z | p, q, v, x, m̄]: the expected value of this customer's future purchases, a weighted mean of
 * the population mean p·v/(q-1) and the customer's own m̄ (the population mean alone when x = 0).
 */
export function expectedAverageOrderValue(
  params: GammaGammaParams,
  customer: SpendHistory,
): number {
  const { p, q, v } = params;
  const x = customer.frequency;
  const m = x > 0 ? customer.monetaryValue : 0;
  if (!Number.isInteger(x) || x < 0 || !Number.isFinite(m)) {
    throw new RangeError(`invalid spend history ${JSON.stringify(customer)}`);
  }
  const denominator = p * x + q - 1;
  if (!(denominator > 0)) {
    throw new RangeError(`the expected order value is infinite for q = ${q} and x = ${x}`);
  }
  return (p * (v + x * m)) / denominator;
}
