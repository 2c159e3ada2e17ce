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
 *    condition), so the sum starts at the largest term, whose logarithm is computed directly with
 *    `lnBeta`, and walks outward with the exact term ratio, in plain doubles relative to that term
 *    (no overflow, no underflow). A side stops once (its last term) × (terms left on that side) is
 *    below 1e-17 of the sum: terms fall monotonically away from the mode, so this bounds the
 *    remainder rigorously. Only the O(√n) terms around the mode are visited at large counts (a few
 *    thousand for millions of exposures), so no fallback to quadrature is needed.
 *  - `lnGamma` is Lanczos (g = 7, 9 terms) below 10 and Stirling's series above, and `lnBeta` of
 *    large arguments is written so that nothing cancels (the log1p form of the Stirling terms).
 * Accuracy: relative error about 1e-13 with hundreds of exposures; with millions it is limited by
 * representing ln B(·,·) ≈ −10⁶ in a double, about 1e-10 to 1e-9 relative (tested against
 * independent quadrature).
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
    validateCounts(v);
    if (ids.has(v.variantId)) throw new RangeError(`duplicate variantId ${v.variantId}`);
    ids.add(v.variantId);
  }

  const alpha = 1 - confidence;
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
    for (let j = 0; j < arms.length; j++) {
      if (j !== w) others += probabilityGreater(arms[w].a, arms[w].b, arms[j].a, arms[j].b);
    }
    return 1 - others;
  };

  const variantIndexes = results.map((_, k) => k).slice(1);
  const candidates = variantIndexes.filter(beatsControl);
  const controlIsCandidate = variantIndexes.every(losesToControl);
  if (controlIsCandidate) {
    if (bestBound(0) >= confidence)
      return decision(`the control beats every variant at ${level}`, 0);
    return decision(
      `every variant is worse than the control, but the control is not yet the best at ${level}`,
    );
  }
  if (candidates.length === 0) {
    const closest = variantIndexes.reduce((best, k) =>
      results[k].probabilityToBeatControl > results[best].probabilityToBeatControl ? k : best,
    );
    return decision(`no variant beats the control at ${level} (closest: ${describe(closest)})`);
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

  function describe(k: number): string {
    const v = results[k];
    const parts = [
      `${v.variantId}`,
      `probability to beat the control ${formatPercent(v.probabilityToBeatControl)}`,
    ];
    parts.push(`p-value ${v.pValue === null ? 'undefined' : formatNumber(v.pValue)}`);
    if (v.liftOverControl !== null) {
      const sign = v.liftOverControl >= 0 ? '+' : '';
      parts.push(`lift ${sign}${formatPercent(v.liftOverControl)}`);
    }
    return parts.join(', ');
  }
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
  const logPeak = lnBeta(a + mode, b + d) - Math.log(d + mode) - lnBeta(1 + mode, d) - lnBeta(a, b);

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

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b) for a, b > 0, arranged so that large arguments do
 * not cancel: with s = a + b and Stirling's ln Γ(x) = (x − ½) ln x − x + ½ ln 2π + δ(x),
 *   both ≥ 10:  (a − ½) ln(a/s) + (b − ½) ln(b/s) − ½ ln s + ½ ln 2π + δ(a) + δ(b) − δ(s);
 *   a < 10 ≤ b: ln Γ(a) − [ln Γ(b + a) − ln Γ(b)], the bracket in log1p form.
 */
export function lnBeta(a: number, b: number): number {
  if (!(a > 0 && b > 0)) return NaN;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (hi < STIRLING_FROM) return lnGamma(lo) + lnGamma(hi) - lnGamma(lo + hi);
  const s = lo + hi;
  if (lo < STIRLING_FROM) {
    // ln Γ(hi + lo) − ln Γ(hi) = (hi − ½) log1p(lo/hi) + lo (ln s − 1) + δ(s) − δ(hi)
    const difference =
      (hi - 0.5) * Math.log1p(lo / hi) +
      lo * (Math.log(s) - 1) +
      stirlingCorrection(s) -
      stirlingCorrection(hi);
    return lnGamma(lo) - difference;
  }
  return (
    (lo - 0.5) * Math.log(lo / s) -
    (hi - 0.5) * Math.log1p(lo / hi) -
    0.5 * Math.log(s) +
    HALF_LOG_TWO_PI +
    stirlingCorrection(lo) +
    stirlingCorrection(hi) -
    stirlingCorrection(s)
  );
}

/** δ(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π] for x ≥ 10, by its asymptotic series. */
function stirlingCorrection(x: number): number {
  const inv2 = 1 / (x * x);
  let sum = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) sum = sum * inv2 + STIRLING[k];
  return sum / x;
}

/** B₂ₖ / (2k(2k − 1)): the coefficients of x^(1−2k) in δ(x). */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];

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

function formatNumber(x: number): string {
  return x === 0 ? '0' : Number(x.toPrecision(2)).toString();
}

function joinNames(names: string[]): string {
  return names.length <= 1
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
