/**
 * The few special functions the customer-base models need, written for the parameter ranges they
 * meet (positive arguments, 0 <= z < 1), so that likelihoods stay finite in log space.
 */

// Bound once: a global lookup on every call is slow inside a VM sandbox such as jest's.
const { PI, abs, ceil, exp, expm1, log, log1p, max, min, sin } = Math;
const NEGATIVE_INFINITY = -Infinity;

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * log(2 * PI);

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error about 1e-15). */
export function lnGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x < 0.5) return log(PI / sin(PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (y + i);
  const t = y + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (y + 0.5) * log(t) - t + log(sum);
}

/** ln B(a, b) for a, b > 0. */
export function lnBeta(a: number, b: number): number {
  return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

/** ln(e^u + e^v) without overflow; either may be -Infinity. */
export function logSumExp(u: number, v: number): number {
  const top = max(u, v);
  if (top === NEGATIVE_INFINITY) return NEGATIVE_INFINITY;
  return top + log1p(exp(min(u, v) - top));
}

/** The logistic function 1 / (1 + e^-u), accurate in both tails. */
export function logistic(u: number): number {
  if (u >= 0) return 1 / (1 + exp(-u));
  const e = exp(u);
  return e / (1 + e);
}

/** (1 - e^(c·L)) / c, continuous at c = 0 (where it is -L). */
export function oneMinusExpOver(c: number, L: number): number {
  const cl = c * L;
  if (abs(cl) < 1e-8) return -L * (1 + cl / 2);
  return -expm1(cl) / c;
}

/**
 * Sums Σ_{n>=1} w_n with w_1 = `first` and w_{n+1} = w_n · ratio(n), where ratio(n) tends to
 * `limit` (|limit| < 1) as n grows. The sum stops only past `minTerms` (beyond which the ratio no
 * longer changes sign) and once the tail, bounded geometrically by max(|ratio|, |limit|), is below
 * `relativeTolerance` of the sum. Throws rather than return a partial sum that would be a wrong
 * prediction.
 */
export function sumRatioSeries(
  first: number,
  ratio: (n: number) => number,
  limit: number,
  minTerms: number,
  relativeTolerance = 1e-15,
  maxTerms = 1_000_000,
): number {
  let term = first;
  let sum = first;
  for (let n = 1; n < maxTerms; n++) {
    if (term === 0) return sum;
    const q = ratio(n);
    term *= q;
    sum += term;
    const bound = max(abs(q), abs(limit));
    if (n >= minTerms && bound < 1) {
      if (abs(term) * (bound / (1 - bound)) <= relativeTolerance * abs(sum)) return sum;
    }
  }
  throw new RangeError(`series did not converge within ${maxTerms} terms`);
}

/** The Gauss hypergeometric function 2F1(a, b; c; z) by its power series, for 0 <= z < 1. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1 needs 0 <= z < 1, got ${z}`);
  const ratio = (n: number) => ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
  return 1 + sumRatioSeries((a * b * z) / c, ratio, z, seriesWarmUp(a, b, c));
}

/** Terms after which (p + n), (q + n) and (s + n) have all settled their signs. */
export function seriesWarmUp(p: number, q: number, s: number): number {
  return ceil(max(abs(p), abs(q), abs(s))) + 2;
}
