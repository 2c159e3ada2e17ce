/**
 * A/B statistics for the REVENUE metric: revenue per exposed recipient, a continuous and skewed
 * quantity (most recipients spend nothing), so the Beta-binomial model of `ab-statistics.ts` does
 * not apply. Each arm is summarised by n (exposures), S = Σ xᵢ and Q = Σ xᵢ² over its recipients'
 * attributed revenue xᵢ (0 for most), which is all the figures below need.
 *
 * Frequentist: Welch's unequal-variances t-test of each variant's mean against the control's,
 *   t = (x̄₁ − x̄₀) / √(s₀²/n₀ + s₁²/n₁), ν by Welch–Satterthwaite, p = I_{ν/(ν+t²)}(ν/2, ½),
 * the two-sided Student-t tail through the regularized incomplete beta function (continued
 * fraction, modified Lentz), not a normal approximation.
 *
 * "Bayesian": with a flat prior the posterior of an arm's mean is approximately N(x̄, s²/n) (the
 * central limit theorem; Bernstein–von Mises), so P(μ₁ > μ₀) = Φ((x̄₁ − x̄₀)/se) and the expected
 * loss E[max(μ₀ − μ₁, 0)] = δΦ(δ/se) + se·φ(δ/se) with δ = x̄₀ − x̄₁, in currency per recipient.
 * The approximation needs samples of a reasonable size, which the decision rule's minimum
 * exposures per arm (100 by default) asks for anyway; revenue is heavy-tailed, so the t-test's
 * p-value is required as well before anything wins.
 *
 * The decision rule is `decideAbTest`'s, the same as for the rates; `rate` is the mean revenue per
 * exposure and `successes` the number of recipients who bought (for display).
 */
import {
  type AbDecision,
  type CompareOptions,
  decideAbTest,
  erfc,
  lnGamma,
  stirlingCorrection,
  validateArms,
  type VariantResult,
} from './ab-statistics.js';

export interface RevenueCounts {
  variantId: string;
  /** Exposed recipients. */
  exposures: number;
  /** Exposed recipients with attributed revenue (at least one order). */
  converters: number;
  /** Σ revenue per recipient. */
  revenue: number;
  /** Σ (revenue per recipient)². */
  revenueSquares: number;
}

export interface Moments {
  n: number;
  mean: number;
  /** The unbiased sample variance; null below two exposures. */
  variance: number | null;
}

/** Compares every variant's revenue per recipient with the control's (the first arm). */
export function compareRevenue(arms: RevenueCounts[], options: CompareOptions): AbDecision {
  const resolved = validateArms(arms, options);
  for (const arm of arms) validateRevenue(arm);
  const moments = arms.map(momentsOf);
  const control = moments[0];

  const results: VariantResult[] = arms.map((arm, k) => {
    const m = moments[k];
    const base = {
      variantId: arm.variantId,
      exposures: arm.exposures,
      successes: arm.converters,
      rate: m.mean,
    };
    if (k === 0) {
      return {
        ...base,
        probabilityToBeatControl: 0.5,
        expectedLoss: 0,
        pValue: null,
        liftOverControl: null,
      };
    }
    return {
      ...base,
      probabilityToBeatControl: probabilityMeanGreater(control, m),
      expectedLoss: expectedShortfall(control, m),
      pValue: welchTTest(control, m)?.pValue ?? null,
      liftOverControl: control.mean === 0 ? null : (m.mean - control.mean) / control.mean,
    };
  });
  if (results.length > 1) {
    let best = 1;
    for (let k = 2; k < results.length; k++) {
      const [p, q] = [results[k].probabilityToBeatControl, results[best].probabilityToBeatControl];
      if (p > q || (p === q && moments[k].mean > moments[best].mean)) best = k;
    }
    results[0].expectedLoss = expectedShortfall(moments[best], control);
  }
  return decideAbTest(results, resolved, (w, j) => probabilityMeanGreater(moments[w], moments[j]));
}

/** Welch's t-test of y's mean against x's: t, the Welch–Satterthwaite ν and the two-sided p-value. */
export function welchTTest(
  x: Moments,
  y: Moments,
): { t: number; degreesOfFreedom: number; pValue: number } | null {
  if (x.variance === null || y.variance === null) return null;
  const vx = x.variance / x.n;
  const vy = y.variance / y.n;
  const se2 = vx + vy;
  if (!(se2 > 0)) return null;
  const t = (y.mean - x.mean) / Math.sqrt(se2);
  const degreesOfFreedom = (se2 * se2) / ((vx * vx) / (x.n - 1) + (vy * vy) / (y.n - 1));
  return { t, degreesOfFreedom, pValue: studentTwoSidedP(t, degreesOfFreedom) };
}

/** P(|T| ≥ |t|) for Student's t with ν > 0 degrees of freedom: I_{ν/(ν+t²)}(ν/2, ½). */
export function studentTwoSidedP(t: number, nu: number): number {
  if (!(nu > 0) || Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  // x and 1 − x computed apart, so neither loses digits to the other.
  return regularizedBeta(nu / (nu + t2), t2 / (nu + t2), nu / 2, 0.5);
}

/** I_x(a, b), given x and y = 1 − x, by the continued fraction on whichever side converges. */
export function regularizedBeta(x: number, y: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  // ln x and ln y from whichever of x and y is small, so that neither loses digits.
  const lnX = x > 0.5 ? Math.log1p(-y) : Math.log(x);
  const lnY = y > 0.5 ? Math.log1p(-x) : Math.log(y);
  const logFront = a * lnX + b * lnY - lnBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(y, b, a)) / b;
}

/**
 * ln B(a, b). With a large parameter, ln Γ(a) and ln Γ(a + b) are both huge and their difference
 * would lose ~1e-10; Stirling's form of the difference keeps only moderate terms:
 *   ln Γ(a) − ln Γ(a + b) = −(a − ½) ln(1 + b/a) − b ln(a + b) + b + δ(a) − δ(a + b).
 */
function lnBeta(a: number, b: number): number {
  const [small, large] = a < b ? [a, b] : [b, a];
  if (large < 10) return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
  const sum = small + large;
  return (
    lnGamma(small) -
    (large - 0.5) * Math.log1p(small / large) -
    small * Math.log(sum) +
    small +
    stirlingCorrection(large) -
    stirlingCorrection(sum)
  );
}

/** The continued fraction of I_x(a, b) (Numerical Recipes' betacf), by modified Lentz. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const clamp = (v: number) => (Math.abs(v) < tiny ? tiny : v);
  let c = 1;
  let d = 1 / clamp(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 / clamp(1 + even * d);
    c = clamp(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 / clamp(1 + odd * d);
    c = clamp(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

/** The standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

const INV_SQRT_TWO_PI = 1 / Math.sqrt(2 * Math.PI);

/** P(μ_y > μ_x) under the normal approximations of both posteriors. */
function probabilityMeanGreater(x: Moments, y: Moments): number {
  const se = standardError(x, y);
  const diff = y.mean - x.mean;
  if (se === null) return 0.5;
  if (se === 0) return diff > 0 ? 1 : diff < 0 ? 0 : 0.5;
  return normalCdf(diff / se);
}

/** E[max(μ_x − μ_y, 0)]: what choosing y may cost when x is better, per recipient. */
function expectedShortfall(x: Moments, y: Moments): number {
  const se = standardError(x, y);
  const delta = x.mean - y.mean;
  if (se === null || se === 0) return Math.max(delta, 0);
  const z = delta / se;
  return Math.max(0, delta * normalCdf(z) + se * INV_SQRT_TWO_PI * Math.exp(-0.5 * z * z));
}

function standardError(x: Moments, y: Moments): number | null {
  if (x.variance === null || y.variance === null) return null;
  return Math.sqrt(x.variance / x.n + y.variance / y.n);
}

function momentsOf(arm: RevenueCounts): Moments {
  const n = arm.exposures;
  if (n === 0) return { n, mean: 0, variance: null };
  const mean = arm.revenue / n;
  if (n < 2) return { n, mean, variance: null };
  // Q − S²/n can come out a hair below 0 in floating point when every value is equal.
  return { n, mean, variance: Math.max(0, arm.revenueSquares - arm.revenue * mean) / (n - 1) };
}

function validateRevenue(arm: RevenueCounts): void {
  const { variantId, exposures, converters, revenue, revenueSquares } = arm;
  if (!(Number.isSafeInteger(exposures) && exposures >= 0)) {
    throw new RangeError(
      `${variantId}: exposures must be a non-negative integer, got ${exposures}`,
    );
  }
  if (!(Number.isSafeInteger(converters) && converters >= 0 && converters <= exposures)) {
    throw new RangeError(
      `${variantId}: converters must be an integer in [0, exposures], got ${converters} of ${exposures}`,
    );
  }
  if (!(Number.isFinite(revenue) && Number.isFinite(revenueSquares) && revenueSquares >= 0)) {
    throw new RangeError(
      `${variantId}: revenue sums must be finite, got ${revenue}, ${revenueSquares}`,
    );
  }
}
