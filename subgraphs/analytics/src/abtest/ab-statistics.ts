/**
 * Statistics for A/B tests of email campaigns (opens, clicks or conversions per exposure). Pure and
 * dependency-free: every number is computed in closed form, nothing is simulated.
 *
 * Each arm has `exposures` trials and `successes` successes. The first arm is the control.
 *
 * Frequentist: a pooled, two-sided two-proportion z-test of each variant against the control:
 *   p̂ = (s₀ + s₁) / (n₀ + n₁),  z = (r₁ − r₀) / √(p̂(1 − p̂)(1/n₀ + 1/n₁)),  p = erfc(|z| / √2).
 *
 * Bayesian: with Beta(1, 1) priors, an arm's rate has the posterior Beta(α, β) with α = s + 1 and
 * β = n − s + 1, all positive integers. For X ~ Beta(a, b) and Y ~ Beta(c, d), Evan Miller's closed
 * form ("Formulas for Bayesian A/B Testing") is
 *   P(Y > X) = Σ_{i=0}^{c−1} B(a + i, b + d) / ((d + i) · B(1 + i, d) · B(a, b)),
 * a sum of c positive terms t_i with t_{i+1} / t_i = (a + i)(d + i) / ((a + b + d + i)(i + 1)).
 * Numerical method (see `probabilityGreater`):
 *  - By the symmetries P(Y > X) = 1 − P(X > Y) and P(Y > X) = P(1 − X > 1 − Y) (1 − X ~ Beta(b, a)),
 *    the same sum can run over any one of a, b, c or d: the smallest is taken, so a typical email
 *    test (few successes) sums over few terms.
 *  - The terms are unimodal (t_{i+1} ≥ t_i exactly while i ≤ (ad − a − b − d) / (b + 1), a linear
 *    condition), so the sum starts at the largest term and walks outward with the exact term
 *    ratio, in plain doubles relative to that term (no overflow, no underflow). A side stops once
 *    (its last term) × (terms left on that side) is below 1e-17 of the sum: terms fall
 *    monotonically away from the mode, so this bounds the remainder rigorously. Only the O(√n)
 *    terms around the mode are visited at large counts (a few thousand for millions of
 *    exposures), so a long sum never needs a fallback such as quadrature.
 *  - The largest term itself is not taken as exp(ln B(·,·) − …): ln B(5·10⁵, 5·10⁵) ≈ −7·10⁵ holds
 *    only ~1e-10 absolute in a double, which would be the error of every probability. Instead the
 *    term is rewritten as a ratio of binomial pmfs near their means and computed with Loader's
 *    saddle-point method (`logMillerTerm`), as R computes hypergeometric probabilities; `lnGamma`
 *    (Lanczos, g = 7, below 10; Stirling's series above) serves only the small Stirling errors.
 * Accuracy (tests compare with 30–45-digit references): about 1e-15 absolute on probabilities,
 * from ten exposures to ten million per arm, in well under a millisecond per comparison.
 *
 * Expected loss (Chris Stucchio, "Bayesian A/B testing at VWO"): with x·Beta(x; a, b) =
 * a/(a + b) · Beta(x; a + 1, b),
 *   E[max(X − Y, 0)] = a/(a + b) · P(X⁺ > Y) − c/(c + d) · P(X > Y⁺),  X⁺ ~ Beta(a + 1, b),
 *   Y⁺ ~ Beta(c + 1, d),
 * the expected shortfall of choosing Y when X may be better, in rate units.
 */

export interface VariantCounts {
  variantId: string;
  exposures: number;
  successes: number;
}

export interface VariantResult {
  variantId: string;
  exposures: number;
  successes: number;
  /** successes / exposures (0 with no exposures). */
  rate: number;
  /** P(this arm's rate > the control's) under the Beta(1, 1)-prior posteriors; 0.5 for the control. */
  probabilityToBeatControl: number;
  /**
   * Expected loss of choosing this arm, in rate units: E[max(p_control − p_variant, 0)] for a
   * variant, E[max(p_best − p_control, 0)] for the control, where "best" is the variant with the
   * highest probability to beat the control (0 when the control is alone).
   */
  expectedLoss: number;
  /** Two-sided pooled z-test p-value against the control; null for the control and when undefined. */
  pValue: number | null;
  /** (rate − controlRate) / controlRate; null for the control and when controlRate is 0. */
  liftOverControl: number | null;
}

export interface AbDecision {
  decided: boolean;
  /** The winning arm, which may be the control; null unless decided. */
  winnerVariantId: string | null;
  /** Why it was, or was not, decided, in words for a marketer. */
  reason: string;
  /** One result per arm, in the order given. */
  variants: VariantResult[];
}

export interface CompareOptions {
  /** Confidence level in (0.5, 1), e.g. 0.95. */
  confidence: number;
  /** Exposures every arm needs before a decision is made; default 100. */
  minExposures?: number;
}

export const DEFAULT_MIN_EXPOSURES = 100;

/**
 * Compares every variant with the control (the first one) and decides whether one arm wins at
 * `confidence` (α = 1 − confidence).
 *
 * Decision rule:
 *  1. No decision until every arm (the control included) has `minExposures` exposures.
 *  2. A variant is a candidate when it beats the control both ways: probabilityToBeatControl ≥
 *     confidence, pValue ≤ α and a higher observed rate. The control is a candidate when every
 *     variant is worse both ways: probabilityToBeatControl ≤ α, pValue ≤ α, a lower observed rate.
 *  3. A candidate w wins only if it is also the best arm with probability ≥ confidence, by the
 *     Bonferroni lower bound P(w is best) ≥ 1 − Σ_{j≠w} P(p_j > p_w), each term exact. With two
 *     arms this is exactly P(w > control), so the rule adds nothing; with more it keeps a variant
 *     from winning while another variant is as good as it. At most one arm can pass (the bound
 *     exceeds 0.5).
 * Throws a RangeError for invalid counts or options.
 */
export function compareVariants(variants: VariantCounts[], options: CompareOptions): AbDecision {
  const { confidence, minExposures } = validateArms(variants, options);
  for (const v of variants) validateCounts(v);
  const arms = variants.map(posterior);
  const control = arms[0];
  const controlRate = rate(variants[0]);

  const results: VariantResult[] = variants.map((v, k) => {
    const r = rate(v);
    const base = {
      variantId: v.variantId,
      exposures: v.exposures,
      successes: v.successes,
      rate: r,
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
    const arm = arms[k];
    return {
      ...base,
      probabilityToBeatControl: probabilityGreater(control.a, control.b, arm.a, arm.b),
      expectedLoss: expectedLoss(control.a, control.b, arm.a, arm.b),
      pValue: twoProportionZTest(variants[0], v)?.pValue ?? null,
      liftOverControl: controlRate === 0 ? null : (r - controlRate) / controlRate,
    };
  });
  if (results.length > 1) {
    let best = 1;
    for (let k = 2; k < results.length; k++) {
      const [p, q] = [results[k].probabilityToBeatControl, results[best].probabilityToBeatControl];
      if (p > q || (p === q && posteriorMean(arms[k]) > posteriorMean(arms[best]))) best = k;
    }
    results[0].expectedLoss = expectedLoss(arms[best].a, arms[best].b, control.a, control.b);
  }

  return decideAbTest(results, { confidence, minExposures }, (w, j) =>
    probabilityGreater(arms[w].a, arms[w].b, arms[j].a, arms[j].b),
  );
}

/**
 * The decision rule of `compareVariants` (see there) over per-arm figures however they were
 * computed: `greater(w, j)` is P(arm j's true rate > arm w's), for the Bonferroni bound. Shared by
 * the binomial metrics and revenue per recipient (`revenue-statistics.ts`).
 */
export function decideAbTest(
  results: VariantResult[],
  options: Required<CompareOptions>,
  greater: (w: number, j: number) => number,
): AbDecision {
  const { confidence, minExposures } = options;
  const alpha = 1 - confidence;
  const controlRate = results[0].rate;
  const variants = results;
  const decision = (reason: string, winner: number | null = null): AbDecision => ({
    decided: winner !== null,
    winnerVariantId: winner === null ? null : variants[winner].variantId,
    reason,
    variants: results,
  });
  const level = `${formatPercent(confidence)} confidence`;

  if (results.length === 1) return decision('there is no variant to compare with the control');
  const short = variants.filter((v) => v.exposures < minExposures);
  if (short.length > 0) {
    const list = short.map((v) => `${v.variantId} has ${v.exposures} of ${minExposures}`);
    return decision(`not enough exposures: ${list.join(', ')}`);
  }

  const beatsControl = (k: number) => {
    const v = results[k];
    return (
      v.probabilityToBeatControl >= confidence &&
      v.pValue !== null &&
      v.pValue <= alpha &&
      v.rate > controlRate
    );
  };
  const losesToControl = (k: number) => {
    const v = results[k];
    return (
      v.probabilityToBeatControl <= alpha &&
      v.pValue !== null &&
      v.pValue <= alpha &&
      v.rate < controlRate
    );
  };
  /** Bonferroni lower bound on P(arm w has the highest rate). */
  const bestBound = (w: number) => {
    let others = 0;
    for (let j = 0; j < results.length; j++) if (j !== w) others += greater(w, j);
    return 1 - others;
  };

  const variantIndexes = results.map((_, k) => k).slice(1);
  const candidates = variantIndexes.filter(beatsControl);
  const controlIsCandidate = variantIndexes.every(losesToControl);
  if (controlIsCandidate) {
    return bestBound(0) >= confidence
      ? decision(`the control beats every variant at ${level}`, 0)
      : decision(
          `every variant is worse than the control, but the control is not yet the best at ${level}`,
        );
  }
  if (candidates.length === 0) {
    const closest = variantIndexes.reduce((best, k) =>
      results[k].probabilityToBeatControl > results[best].probabilityToBeatControl ? k : best,
    );
    return decision(
      `no variant beats the control at ${level} (closest: ${variants[closest].variantId}, ${describe(closest)})`,
    );
  }
  const winner = candidates.find((k) => bestBound(k) >= confidence);
  if (winner === undefined) {
    const names = joinNames(candidates.map((k) => variants[k].variantId));
    return candidates.length === 1
      ? decision(`${names} beats the control at ${level}, but is not yet the best variant`)
      : decision(`${names} beat the control at ${level}, but none is the best variant yet`);
  }
  const others = variants.length > 2 ? ' and every other variant' : '';
  return decision(
    `${variants[winner].variantId} beats the control${others} at ${level} (${describe(winner)})`,
    winner,
  );

  /** The evidence for arm k, e.g. "probability to beat the control 98.22%, p-value 0.035, lift +30%". */
  function describe(k: number): string {
    const v = results[k];
    const parts = [
      `probability to beat the control ${formatProbability(v.probabilityToBeatControl)}`,
      `p-value ${v.pValue === null ? 'undefined' : formatNumber(v.pValue)}`,
    ];
    if (v.liftOverControl !== null) {
      const sign = v.liftOverControl >= 0 ? '+' : '';
      parts.push(`lift ${sign}${formatPercent(v.liftOverControl)}`);
    }
    return parts.join(', ');
  }
}

/** Checks the options and the arms' ids (at least the control, no duplicates); fills defaults. */
export function validateArms(
  variants: { variantId: string }[],
  options: CompareOptions,
): Required<CompareOptions> {
  const { confidence } = options;
  const minExposures = options.minExposures ?? DEFAULT_MIN_EXPOSURES;
  if (!(confidence > 0.5 && confidence < 1)) {
    throw new RangeError(`confidence must be in (0.5, 1), got ${confidence}`);
  }
  if (!(Number.isFinite(minExposures) && minExposures >= 0)) {
    throw new RangeError(`minExposures must be a non-negative number, got ${minExposures}`);
  }
  if (variants.length === 0) throw new RangeError('compareVariants needs at least the control');
  const ids = new Set<string>();
  for (const v of variants) {
    if (ids.has(v.variantId)) throw new RangeError(`duplicate variantId ${v.variantId}`);
    ids.add(v.variantId);
  }
  return { confidence, minExposures };
}

/** The z statistic and two-sided p-value of the pooled two-proportion z-test, or null if undefined. */
export function twoProportionZTest(
  control: Pick<VariantCounts, 'exposures' | 'successes'>,
  variant: Pick<VariantCounts, 'exposures' | 'successes'>,
): { z: number; pValue: number } | null {
  const n0 = control.exposures;
  const n1 = variant.exposures;
  if (n0 === 0 || n1 === 0) return null;
  const pooled = (control.successes + variant.successes) / (n0 + n1);
  const variance = pooled * (1 - pooled) * (1 / n0 + 1 / n1);
  if (!(variance > 0)) return null;
  const z = (variant.successes / n1 - control.successes / n0) / Math.sqrt(variance);
  return { z, pValue: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)) };
}

/**
 * P(Y > X) for independent X ~ Beta(a, b) and Y ~ Beta(c, d) with positive integer parameters,
 * exactly (Evan Miller's sum, over the smallest parameter, summed outward from its largest term).
 */
export function probabilityGreater(a: number, b: number, c: number, d: number): number {
  for (const [name, value] of [
    ['a', a],
    ['b', b],
    ['c', c],
    ['d', d],
  ] as const) {
    if (!(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(`Beta parameter ${name} must be a positive integer, got ${value}`);
    }
  }
  const n = Math.min(a, b, c, d);
  let p: number;
  if (c === n) p = millerSum(a, b, c, d);
  else if (b === n) p = millerSum(d, c, b, a);
  else if (a === n) p = 1 - millerSum(c, d, a, b);
  else p = 1 - millerSum(b, a, d, c);
  return Math.min(1, Math.max(0, p));
}

/**
 * E[max(X − Y, 0)] for independent X ~ Beta(a, b), Y ~ Beta(c, d) (positive integer parameters):
 * the expected loss of choosing Y, by Stucchio's identity (module comment).
 */
export function expectedLoss(a: number, b: number, c: number, d: number): number {
  const loss =
    (a / (a + b)) * probabilityGreater(c, d, a + 1, b) -
    (c / (c + d)) * probabilityGreater(c + 1, d, a, b);
  return Math.max(0, loss);
}

/**
 * Σ_{i=0}^{c−1} t_i with t_i = B(a + i, b + d) / ((d + i) B(1 + i, d) B(a, b)), i.e. P(Y > X) for
 * X ~ Beta(a, b), Y ~ Beta(c, d) and integer c: from the largest term outward (module comment).
 */
function millerSum(a: number, b: number, c: number, d: number): number {
  const last = c - 1;
  const ratio = (i: number) => ((a + i) * (d + i)) / ((a + b + d + i) * (i + 1));
  const crossing = (a * d - a - b - d) / (b + 1);
  const mode = crossing < 0 ? 0 : Math.min(last, Math.floor(crossing) + 1);
  const logPeak = logMillerTerm(a, b, d, mode);

  let sum = 1;
  let term = 1;
  for (let i = mode; i < last; i++) {
    const r = ratio(i);
    term *= r; // t_{i+1}
    sum += term;
    // Past the mode every ratio is < 1, so the last − i − 1 terms left are each below this one.
    if (r <= 1 && term * (last - i - 1) <= TAIL_TOLERANCE * sum) break;
  }
  term = 1;
  for (let i = mode; i > 0; i--) {
    const r = ratio(i - 1);
    term /= r; // t_{i−1}
    sum += term;
    if (r >= 1 && term * (i - 1) <= TAIL_TOLERANCE * sum) break;
  }
  return Math.exp(logPeak + Math.log(sum));
}

const TAIL_TOLERANCE = 1e-17;

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
/** Where Stirling's series takes over from Lanczos. */
const STIRLING_FROM = 10;

/** ln Γ(x) for x > 0: Lanczos (g = 7) below 10, Stirling's series above; relative error ~1e-15. */
export function lnGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x >= STIRLING_FROM)
    return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + stirlingCorrection(x);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (y + i);
  const t = y + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** δ(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π] for x ≥ 10, by its asymptotic series. */
export function stirlingCorrection(x: number): number {
  const inv2 = 1 / (x * x);
  let sum = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) sum = sum * inv2 + STIRLING[k];
  return sum / x;
}

/** B₂ₖ / (2k(2k − 1)): the coefficients of x^(1−2k) in δ(x). */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];

/**
 * ln t_i of Evan Miller's sum, without cancellation. With integer parameters,
 *   t_i = d/(d + i) · C(a + i − 1, i) · C(b + d − 1, d) / C(a + b + d + i − 1, d + i),
 * and that ratio of binomial coefficients equals, for any p (q = 1 − p; the powers of p cancel),
 *   q · bin(i; a + i − 1, p) · bin(d; b + d − 1, p) / bin(d + i; a + b + d + i − 1, p),
 * bin(k; n, p) the binomial pmf. With p = (d + i)/(a + b + d + i − 1) the three pmfs are taken
 * near their means, where Loader's saddle-point form computes their logs to ~1e-15 relative
 * whatever n (as R's dhyper does): writing ln B(·,·) ≈ −10⁶ directly would lose ~1e-10.
 */
function logMillerTerm(a: number, b: number, d: number, i: number): number {
  const n = a + b + d + i - 1;
  const p = (d + i) / n;
  const q = (a + b - 1) / n;
  return (
    Math.log(d / (d + i)) +
    Math.log(q) +
    logBinomialPmf(i, a + i - 1, p, q) +
    logBinomialPmf(d, b + d - 1, p, q) -
    logBinomialPmf(d + i, n, p, q)
  );
}

/**
 * ln of the binomial pmf C(n, k) pᵏ qⁿ⁻ᵏ (q = 1 − p given separately) by Loader's saddle-point
 * expansion ("Fast and accurate computation of binomial probabilities", 2000):
 *   δ(n) − δ(k) − δ(n − k) − D(k, np) − D(n − k, nq) − ½ ln(2π k (n − k)/n),
 * δ the Stirling error and D the deviance `bd0`, all small near the mean.
 */
function logBinomialPmf(k: number, n: number, p: number, q: number): number {
  if (k === 0) return n === 0 ? 0 : p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q);
  if (k === n) return q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
  const lc =
    stirlingError(n) - stirlingError(k) - stirlingError(n - k) - bd0(k, n * p) - bd0(n - k, n * q);
  return lc - 0.5 * (LOG_TWO_PI + Math.log(k) + Math.log1p(-k / n));
}

/** D(x, m) = x ln(x/m) + m − x ≥ 0, by its series when x is near m (where it would cancel). */
function bd0(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let sum = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const next = sum + ej / (2 * j + 1);
      if (next === sum) return next;
      sum = next;
    }
    return sum;
  }
  return x * Math.log(x / m) + m - x;
}

/** δ(n) = ln n! − [(n + ½) ln n − n + ½ ln 2π] for n ≥ 1 (the same series as ln Γ's from 10 on). */
function stirlingError(n: number): number {
  if (n >= STIRLING_FROM) return stirlingCorrection(n);
  return lnGamma(n + 1) - (n + 0.5) * Math.log(n) + n - HALF_LOG_TWO_PI;
}

const LOG_TWO_PI = Math.log(2 * Math.PI);

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The complementary error function, to about 1e-15 relative: below 2.5 as 1 − erf(x) with the
 * positive-term series erf(x) = 2/√π e^{−x²} Σ (2x²)ⁿ x / (1·3·…·(2n + 1)); above by the continued
 * fraction erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))) (modified Lentz).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    const twoX2 = 2 * x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= twoX2 / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
  }
  if (x > 27) return 0; // below the smallest double
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let dd = 0;
  for (let k = 1; k < 1000; k++) {
    const an = k / 2;
    dd = x + an * dd;
    dd = Math.abs(dd) < tiny ? 1 / tiny : 1 / dd;
    c = x + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * dd;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

function validateCounts(v: VariantCounts): void {
  const { variantId, exposures, successes } = v;
  if (!(Number.isSafeInteger(exposures) && exposures >= 0)) {
    throw new RangeError(
      `${variantId}: exposures must be a non-negative integer, got ${exposures}`,
    );
  }
  if (!(Number.isSafeInteger(successes) && successes >= 0 && successes <= exposures)) {
    throw new RangeError(
      `${variantId}: successes must be an integer in [0, exposures], got ${successes} of ${exposures}`,
    );
  }
}

function rate(v: VariantCounts): number {
  return v.exposures === 0 ? 0 : v.successes / v.exposures;
}

interface BetaPosterior {
  a: number;
  b: number;
}

function posterior(v: VariantCounts): BetaPosterior {
  return { a: v.successes + 1, b: v.exposures - v.successes + 1 };
}

function posteriorMean(p: BetaPosterior): number {
  return p.a / (p.a + p.b);
}

function formatPercent(x: number): string {
  return `${Number((x * 100).toFixed(2))}%`;
}

/** As a percentage, never rounded to a certainty it is not. */
function formatProbability(p: number): string {
  if (p > 0.9999 && p < 1) return '> 99.99%';
  if (p > 0 && p < 0.0001) return '< 0.01%';
  return formatPercent(p);
}

function formatNumber(x: number): string {
  return x === 0 ? '0' : Number(x.toPrecision(2)).toString();
}

function joinNames(names: string[]): string {
  return names.length <= 1
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
