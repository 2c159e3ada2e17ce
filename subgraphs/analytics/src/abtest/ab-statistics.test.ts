import fc from 'fast-check';
import {
  type AbDecision,
  compareVariants,
  erfc,
  expectedLoss,
  lnGamma,
  probabilityGreater,
  twoProportionZTest,
  type VariantCounts,
} from './ab-statistics.js';

const arm = (variantId: string, exposures: number, successes: number): VariantCounts => ({
  variantId,
  exposures,
  successes,
});

/** Beta(1, 1)-prior posterior parameters of s successes in n exposures. */
const post = (s: number, n: number): [number, number] => [s + 1, n - s + 1];

/** |actual − expected| ≤ tolerance, with both in the failure message. */
function expectNear(actual: number, expected: number, tolerance: number): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`expected ${expected} ± ${tolerance}, got ${actual}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Independent references, computed in the test without the module's sums.

const factorials: bigint[] = [1n];
function factorial(n: number): bigint {
  for (let i = factorials.length; i <= n; i++) factorials.push(factorials[i - 1] * BigInt(i));
  return factorials[n];
}
const choose = (n: number, k: number) => factorial(n) / (factorial(k) * factorial(n - k));

interface Fraction {
  num: bigint;
  den: bigint;
}
const frac = (num: bigint, den: bigint): Fraction => ({ num, den });
const sub = (x: Fraction, y: Fraction): Fraction =>
  frac(x.num * y.den - y.num * x.den, x.den * y.den);
const add = (x: Fraction, y: Fraction): Fraction =>
  frac(x.num * y.den + y.num * x.den, x.den * y.den);
function toNumber(x: Fraction): number {
  const scale = 10n ** 40n;
  return Number((x.num * scale) / x.den) / 1e40;
}

/**
 * E[Y^e · F_X(Y)] exactly, for X ~ Beta(a, b), Y ~ Beta(c, d) with integer parameters and e ∈ {0,
 * 1}: F_X(y) = P(Bin(a + b − 1, y) ≥ a), so the expectation is a finite sum of Beta functions.
 */
function exactMomentOfCdf(a: number, b: number, c: number, d: number, e: number): Fraction {
  const n = a + b - 1;
  // Σ_k C(n,k) B(c+e+k, d+n−k) / B(c, d), B(p, q) = (p−1)!(q−1)!/(p+q−1)!
  let num = 0n;
  for (let k = a; k <= n; k++) {
    num += choose(n, k) * factorial(c + e + k - 1) * factorial(d + n - k - 1);
  }
  return frac(
    num * factorial(c + d - 1),
    factorial(c + d + n + e - 1) * factorial(c - 1) * factorial(d - 1),
  );
}

/** P(Y > X) = E[F_X(Y)], exactly in rationals. */
const exactProbabilityGreater = (a: number, b: number, c: number, d: number) =>
  toNumber(exactMomentOfCdf(a, b, c, d, 0));

/** E[max(X − Y, 0)] = E[X F_Y(X)] − E[Y] + E[Y F_X(Y)], exactly in rationals. */
function exactExpectedLoss(a: number, b: number, c: number, d: number): number {
  const meanY = frac(BigInt(c), BigInt(c + d));
  return toNumber(
    add(sub(exactMomentOfCdf(c, d, a, b, 1), meanY), exactMomentOfCdf(a, b, c, d, 1)),
  );
}

/** P(Y > X) = ∫₀¹ f_Y(y) F_X(y) dy by composite Simpson on `intervals` intervals. */
function simpsonProbabilityGreater(a: number, b: number, c: number, d: number, intervals: number) {
  const n = a + b - 1;
  const binomials = Array.from({ length: n + 1 }, (_, k) => Number(choose(n, k)));
  const betaCD = Number(factorial(c - 1) * factorial(d - 1)) / Number(factorial(c + d - 1));
  const integrand = (y: number) => {
    let cdf = 0;
    for (let k = a; k <= n; k++) cdf += binomials[k] * y ** k * (1 - y) ** (n - k);
    return (y ** (c - 1) * (1 - y) ** (d - 1) * cdf) / betaCD;
  };
  const h = 1 / intervals;
  let sum = integrand(0) + integrand(1);
  for (let i = 1; i < intervals; i++) sum += (i % 2 === 1 ? 4 : 2) * integrand(i * h);
  return (sum * h) / 3;
}

// ---------------------------------------------------------------------------------------------

describe('special functions', () => {
  it('lnGamma matches references (mpmath.loggamma at 40 digits) on both sides of the Stirling switch', () => {
    const reference: [number, number][] = [
      [0.5, 0.5723649429247001],
      [1, 0],
      [2.5, 0.2846828704729192],
      [9.99, 12.779315214350193],
      [10, 12.801827480081469],
      [10.5, 13.940625219403763],
      [100.3, 360.5147057290581],
      [1000000.5, 12815511.476902766],
      [1e9, 19723265827.503716],
    ];
    for (const [x, expected] of reference) {
      expectNear(lnGamma(x), expected, 2e-15 * Math.max(1, Math.abs(expected)));
    }
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      expectNear(lnGamma(n), logFactorial, 1e-13 * Math.max(1, logFactorial));
      logFactorial += Math.log(n);
    }
    expect(lnGamma(0)).toBe(Infinity);
    expect(lnGamma(-1)).toBeNaN();
  });

  it('erfc matches references across the series / continued-fraction switch and is odd about 1', () => {
    const reference: [number, number][] = [
      [0, 1],
      [0.1, 0.887537083981715],
      [1, 0.15729920705028513],
      [2.4, 0.0006885138966450789],
      [2.5, 0.0004069520174449589],
      [3, 2.209049699858544e-5],
      [5, 1.537459794428035e-12],
      [10, 2.088487583762545e-45],
      [26, 5.663192408856143e-296],
    ];
    for (const [x, expected] of reference) expectNear(erfc(x), expected, 1e-13 * expected);
    for (const x of [0.3, 1.7, 4]) expectNear(erfc(-x), 2 - erfc(x), 1e-15);
    expect(erfc(40)).toBe(0);
  });
});

describe('twoProportionZTest', () => {
  it('gives the textbook two-sided p-values of z = 1, 1.96, 2, 3', () => {
    // Built so that z comes out at the wanted value: p-values 2(1 − Φ(z)) from the normal table.
    const pOf = (z: number) => erfc(z / Math.SQRT2);
    expectNear(pOf(1), 0.3173105078629141, 1e-15);
    expectNear(pOf(1.959963984540054), 0.05, 1e-15);
    expectNear(pOf(2), 0.04550026389635841, 1e-15);
    expectNear(pOf(3), 0.002699796063260189, 1e-16);
  });

  it('matches a hand computation: 100/1000 vs 130/1000', () => {
    // p̂ = 230/2000 = 0.115; SE = √(0.115 · 0.885 · (2/1000)) = 0.0142671...; z = 0.03/SE
    const result = twoProportionZTest(arm('A', 1000, 100), arm('B', 1000, 130));
    expectNear(result!.z, 0.03 / Math.sqrt(0.115 * 0.885 * 0.002), 1e-12);
    expectNear(result!.z, 2.1027406056221145, 1e-12);
    expectNear(result!.pValue, 0.03548845046647469, 1e-14);
  });

  it('matches references (mpmath at 30 digits), including a negative z and a million exposures', () => {
    const cases: [VariantCounts, VariantCounts, number, number][] = [
      [arm('A', 10000, 200), arm('B', 10000, 260), 2.830251652793252, 0.004651140450960605],
      [arm('A', 400, 30), arm('B', 350, 20), -0.9780759955449395, 0.32803673911534825],
      [arm('A', 1e6, 20000), arm('B', 1e6, 20300), 1.5096940143922524, 0.1311215193100331],
    ];
    for (const [control, variant, z, p] of cases) {
      const result = twoProportionZTest(control, variant)!;
      expectNear(result.z, z, 1e-9);
      expectNear(result.pValue, p, 1e-10 * p);
    }
    expect(twoProportionZTest(arm('A', 1000, 50), arm('B', 1000, 50))).toEqual({ z: 0, pValue: 1 });
  });

  it('is undefined without exposures or without variance', () => {
    expect(twoProportionZTest(arm('A', 0, 0), arm('B', 100, 5))).toBeNull();
    expect(twoProportionZTest(arm('A', 100, 0), arm('B', 100, 0))).toBeNull();
    expect(twoProportionZTest(arm('A', 100, 100), arm('B', 50, 50))).toBeNull();
  });
});

describe('probabilityGreater', () => {
  it('equals exact rational enumeration for every small integer case', () => {
    for (let a = 1; a <= 7; a++) {
      for (let b = 1; b <= 7; b++) {
        for (let c = 1; c <= 7; c++) {
          for (let d = 1; d <= 7; d++) {
            expectNear(probabilityGreater(a, b, c, d), exactProbabilityGreater(a, b, c, d), 1e-14);
          }
        }
      }
    }
  });

  it('equals numerical integration (Simpson, 20 000 intervals) of f_B · F_A', () => {
    const cases: [number, number, number, number][] = [
      [4, 8, 8, 6],
      [1, 31, 3, 29],
      [11, 20, 6, 30],
      [2, 2, 40, 3],
    ];
    for (const [a, b, c, d] of cases) {
      expectNear(
        probabilityGreater(a, b, c, d),
        simpsonProbabilityGreater(a, b, c, d, 20000),
        1e-12,
      );
    }
  });

  it('matches quadrature references (mpmath at 30 digits) for campaign-sized counts', () => {
    // ∫ f_B(y) I_y(α_A, β_A) dy with mpmath.quad, 40 panels over ±40 sd.
    const cases: [[number, number], [number, number], number][] = [
      [[100, 1000], [130, 1000], 0.9821650661163506],
      [[3, 10], [7, 12], 0.8978808914870295],
      [[0, 100], [2, 100], 0.8768656716417911],
      [[200, 10000], [260, 10000], 0.9976775487800474],
      [[30, 400], [20, 350], 0.16845681861061784],
      [[50, 1000], [50, 1000], 0.5],
    ];
    for (const [[sA, nA], [sB, nB], expected] of cases) {
      expectNear(probabilityGreater(...post(sA, nA), ...post(sB, nB)), expected, 1e-13);
    }
  });

  it('stays accurate with millions of exposures (references at 45 digits)', () => {
    // Evan Miller's sum run forward over every term in 45-digit arithmetic (mpmath), checked
    // against scipy quadrature to 1e-9 (double-precision quadrature does no better).
    const cases: [[number, number], [number, number], number][] = [
      [[20000, 1e6], [20300, 1e6], 0.9344373860732867],
      [[250000, 1e6], [251000, 1e6], 0.9486503107872516],
      [[3, 1e6], [12, 1e6], 0.9893648739610902],
      [[500000, 1e6], [500000, 1e6], 0.5],
      [[2000000, 1e7], [2003000, 1e7], 0.9531876301255789],
      [[990000, 1e6], [990500, 1e6], 0.999839815445668],
    ];
    for (const [[sA, nA], [sB, nB], expected] of cases) {
      expectNear(probabilityGreater(...post(sA, nA), ...post(sB, nB)), expected, 1e-14);
    }
  });

  it('is exactly one half for identical posteriors, small to huge', () => {
    const cases: [number, number][] = [
      [0, 1],
      [1, 1],
      [0, 1000],
      [7, 10],
      [123, 4567],
      [20000, 1e6],
      [999990, 1e6],
      [3e6, 1e7],
    ];
    for (const [s, n] of cases) {
      const [a, b] = post(s, n);
      expectNear(probabilityGreater(a, b, a, b), 0.5, 1e-14);
    }
  });

  it('gives finite answers quickly at extreme counts', () => {
    const started = performance.now();
    for (const [sA, sB] of [
      [0, 0],
      [1e7, 1e7],
      [0, 1e7],
      [5e6, 5e6 + 5000],
      [1, 9999999],
    ]) {
      const p = probabilityGreater(...post(sA, 1e7), ...post(sB, 1e7));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    expect(probabilityGreater(...post(0, 1e7), ...post(1e7, 1e7))).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects non-integer and non-positive parameters', () => {
    expect(() => probabilityGreater(0, 1, 1, 1)).toThrow(RangeError);
    expect(() => probabilityGreater(1, 1.5, 1, 1)).toThrow(/positive integer/);
    expect(() => probabilityGreater(1, 1, NaN, 1)).toThrow(RangeError);
  });

  const smallPosterior = fc
    .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }))
    .map(([s, f]) => [s + 1, f + 1] as const);
  const counts = (max: number) =>
    fc
      .integer({ min: 0, max })
      .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));

  it('property: agrees with exact rational enumeration, probability and loss', () => {
    fc.assert(
      fc.property(smallPosterior, smallPosterior, ([a, b], [c, d]) => {
        expectNear(probabilityGreater(a, b, c, d), exactProbabilityGreater(a, b, c, d), 1e-14);
        expectNear(expectedLoss(a, b, c, d), exactExpectedLoss(a, b, c, d), 1e-14);
      }),
    );
  });

  it('property: a probability, with P(B > A) + P(A > B) = 1 and mirror symmetry', () => {
    fc.assert(
      fc.property(counts(2e6), counts(2e6), ([sA, nA], [sB, nB]) => {
        const [a, b] = post(sA, nA);
        const [c, d] = post(sB, nB);
        const p = probabilityGreater(a, b, c, d);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expectNear(p + probabilityGreater(c, d, a, b), 1, 1e-13);
        // P(p_B > p_A) = P(1 − p_A > 1 − p_B): swap successes with failures and the arms.
        expectNear(p, probabilityGreater(d, c, b, a), 1e-13);
      }),
    );
  });

  it('property: rises with the variant’s successes and falls with the control’s', () => {
    fc.assert(
      fc.property(counts(5000), counts(5000), ([sA, nA], [sB, nB]) => {
        fc.pre(sB < nB && sA < nA);
        const base = probabilityGreater(...post(sA, nA), ...post(sB, nB));
        expect(probabilityGreater(...post(sA, nA), ...post(sB + 1, nB))).toBeGreaterThanOrEqual(
          base - 1e-12,
        );
        expect(probabilityGreater(...post(sA + 1, nA), ...post(sB, nB))).toBeLessThanOrEqual(
          base + 1e-12,
        );
      }),
    );
  });
});

describe('expectedLoss', () => {
  it('equals exact rational values for small integer cases', () => {
    for (let a = 1; a <= 6; a++) {
      for (let b = 1; b <= 6; b++) {
        for (let c = 1; c <= 6; c++) {
          for (let d = 1; d <= 6; d++) {
            expectNear(expectedLoss(a, b, c, d), exactExpectedLoss(a, b, c, d), 1e-14);
          }
        }
      }
    }
  });

  it('matches quadrature references (mpmath) in both directions', () => {
    // [A, B, loss of choosing A = E[max(p_B − p_A, 0)], loss of choosing B = E[max(p_A − p_B, 0)]]
    const cases: [[number, number], [number, number], number, number][] = [
      [[100, 1000], [130, 1000], 0.03003249425198375, 9.237449150470706e-5],
      [[3, 10], [7, 12], 0.24748636296623913, 0.009391124871001032],
      [[0, 100], [2, 100], 0.020797202051175592, 0.0011893589139206893],
      [[200, 10000], [260, 10000], 0.006000260003681842, 1.4597637298319763e-6],
      [[30, 400], [20, 350], 0.001672159401281407, 0.019127496352887016],
      [[50, 1000], [50, 1000], 0.0039077924743839, 0.0039077924743839],
    ];
    for (const [[sA, nA], [sB, nB], lossA, lossB] of cases) {
      const [a, b] = post(sA, nA);
      const [c, d] = post(sB, nB);
      expectNear(expectedLoss(c, d, a, b), lossA, 1e-15);
      expectNear(expectedLoss(a, b, c, d), lossB, 1e-15);
    }
  });

  it('stays accurate with millions of exposures (references at 45 digits)', () => {
    const cases: [[number, number], [number, number], number, number][] = [
      [[20000, 1e6], [20300, 1e6], 0.0003056959644974771, 5.696564496277087e-6],
      [[250000, 1e6], [251000, 1e6], 0.0010132028361210603, 1.3204836117060288e-5],
      [[3, 1e6], [12, 1e6], 9.015347097789412e-6, 1.536509775341143e-8],
      [[500000, 1e6], [500000, 1e6], 0.0002820944038942998, 0.0002820944038942998],
      [[2000000, 1e7], [2003000, 1e7], 0.00030346371975692416, 3.463779756912152e-6],
    ];
    for (const [[sA, nA], [sB, nB], lossA, lossB] of cases) {
      const [a, b] = post(sA, nA);
      const [c, d] = post(sB, nB);
      expectNear(expectedLoss(c, d, a, b), lossA, 1e-14);
      expectNear(expectedLoss(a, b, c, d), lossB, 1e-14);
    }
  });

  it('property: non-negative, and loss(B) − loss(A) = E[p_A] − E[p_B]', () => {
    const counts = fc
      .integer({ min: 0, max: 20000 })
      .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));
    fc.assert(
      fc.property(counts, counts, ([sA, nA], [sB, nB]) => {
        const [a, b] = post(sA, nA);
        const [c, d] = post(sB, nB);
        const lossB = expectedLoss(a, b, c, d);
        const lossA = expectedLoss(c, d, a, b);
        expect(lossA).toBeGreaterThanOrEqual(0);
        expect(lossB).toBeGreaterThanOrEqual(0);
        expectNear(lossB - lossA, a / (a + b) - c / (c + d), 1e-12);
      }),
    );
  });
});

describe('compareVariants', () => {
  const at95 = { confidence: 0.95 };

  it('reports rates, lift, p-values and the Bayesian figures per arm, control first', () => {
    const { variants } = compareVariants([arm('A', 1000, 100), arm('B', 1000, 130)], at95);
    const [a, b] = variants;
    expect(a).toMatchObject({ variantId: 'A', rate: 0.1, probabilityToBeatControl: 0.5 });
    expect(a.pValue).toBeNull();
    expect(a.liftOverControl).toBeNull();
    expectNear(a.expectedLoss, 0.03003249425198375, 1e-15); // E[max(p_B − p_A, 0)]
    expect(b).toMatchObject({ variantId: 'B', exposures: 1000, successes: 130, rate: 0.13 });
    expectNear(b.liftOverControl!, 0.3, 1e-15);
    expectNear(b.pValue!, 0.03548845046647469, 1e-14);
    expectNear(b.probabilityToBeatControl, 0.9821650661163506, 1e-13);
    expectNear(b.expectedLoss, 9.237449150470706e-5, 1e-15);
  });

  it('declares a variant that beats the control both ways', () => {
    const decision = compareVariants([arm('A', 1000, 100), arm('B', 1000, 130)], at95);
    expect(decision.decided).toBe(true);
    expect(decision.winnerVariantId).toBe('B');
    expect(decision.reason).toBe(
      'B beats the control at 95% confidence (probability to beat the control 98.22%, p-value 0.035, lift +30%)',
    );
  });

  it('waits for minExposures on every arm, control included', () => {
    const decision = compareVariants([arm('A', 1000, 100), arm('B', 40, 10)], at95);
    expect(decision).toMatchObject({ decided: false, winnerVariantId: null });
    expect(decision.reason).toBe('not enough exposures: B has 40 of 100');
    // The statistics are still reported.
    expect(decision.variants[1].probabilityToBeatControl).toBeGreaterThan(0.99);

    const both = compareVariants([arm('A', 20, 2), arm('B', 1000, 130), arm('C', 499, 70)], {
      confidence: 0.9,
      minExposures: 500,
    });
    expect(both.reason).toBe('not enough exposures: A has 20 of 500, C has 499 of 500');
    expect(
      compareVariants([arm('A', 1000, 100), arm('B', 40, 12)], {
        confidence: 0.95,
        minExposures: 40,
      }).winnerVariantId,
    ).toBe('B');
  });

  it('needs the z-test too: a 96% Bayesian lead with p = 0.077 is not a win', () => {
    const decision = compareVariants([arm('A', 1000, 100), arm('B', 1000, 125)], at95);
    expect(decision.variants[1].probabilityToBeatControl).toBeGreaterThan(0.95);
    expect(decision.variants[1].pValue).toBeGreaterThan(0.05);
    expect(decision.decided).toBe(false);
    expect(decision.reason).toBe(
      'no variant beats the control at 95% confidence (closest: B, probability to beat the control 96.14%, p-value 0.077, lift +25%)',
    );
    // At 90% it is a win.
    expect(compareVariants(decision.variants, { confidence: 0.9 }).winnerVariantId).toBe('B');
  });

  it('keeps the control when it is better than every variant', () => {
    const decision = compareVariants(
      [arm('A', 1000, 130), arm('B', 1000, 100), arm('C', 1000, 95)],
      at95,
    );
    expect(decision).toMatchObject({ decided: true, winnerVariantId: 'A' });
    expect(decision.reason).toBe('the control beats every variant at 95% confidence');
    // The control's loss is measured against the best variant, B.
    expectNear(decision.variants[0].expectedLoss, 9.237449150470706e-5, 1e-15);
  });

  it('keeps the control only when it is the best arm overall (Bonferroni over the variants)', () => {
    // Each variant trails with P(beat control) = 1.8% and p = 0.035, but 3 × 1.8% > 5%.
    const decision = compareVariants(
      [arm('A', 1000, 130), arm('B', 1000, 100), arm('C', 1000, 100), arm('D', 1000, 100)],
      at95,
    );
    expect(decision.decided).toBe(false);
    expect(decision.reason).toBe(
      'every variant is worse than the control, but the control is not yet the best at 95% confidence',
    );
    expect(compareVariants(decision.variants, { confidence: 0.9 }).winnerVariantId).toBe('A');
  });

  it('does not decide between variants that both beat the control but tie with each other', () => {
    const decision = compareVariants(
      [arm('A', 1000, 100), arm('B', 1000, 140), arm('C', 1000, 141)],
      at95,
    );
    expect(decision.decided).toBe(false);
    expect(decision.reason).toBe(
      'B and C beat the control at 95% confidence, but none is the best variant yet',
    );
  });

  it('does not crown a variant while another, not yet significant, may be as good', () => {
    const decision = compareVariants(
      [arm('A', 1000, 100), arm('B', 1000, 140), arm('C', 1000, 125)],
      at95,
    );
    expect(decision.decided).toBe(false);
    expect(decision.reason).toBe(
      'B beats the control at 95% confidence, but is not yet the best variant',
    );
  });

  it('crowns a variant that beats the control and every other variant', () => {
    const decision = compareVariants(
      [arm('A', 2000, 200), arm('B', 2000, 300), arm('C', 2000, 200)],
      at95,
    );
    expect(decision).toMatchObject({ decided: true, winnerVariantId: 'B' });
    expect(decision.reason).toBe(
      'B beats the control and every other variant at 95% confidence (probability to beat the control > 99.99%, p-value 0.0000017, lift +50%)',
    );
  });

  it('handles a control with no successes (lift undefined) and arms with none at all', () => {
    const win = compareVariants([arm('A', 1000, 0), arm('B', 1000, 10)], at95);
    expect(win.winnerVariantId).toBe('B');
    expect(win.variants[1].liftOverControl).toBeNull();
    const none = compareVariants([arm('A', 1000, 0), arm('B', 1000, 0)], at95);
    expect(none.decided).toBe(false);
    expect(none.variants[1].pValue).toBeNull();
    expectNear(none.variants[1].probabilityToBeatControl, 0.5, 1e-14);
    expect(none.reason).toMatch(/^no variant beats the control at 95% confidence/);
  });

  it('decides at a million exposures only on a real difference', () => {
    const close = compareVariants([arm('A', 1e6, 20000), arm('B', 1e6, 20300)], at95);
    expect(close.decided).toBe(false);
    expectNear(close.variants[1].probabilityToBeatControl, 0.9344373860732867, 1e-14);
    const clear = compareVariants([arm('A', 1e6, 20000), arm('B', 1e6, 21000)], at95);
    expect(clear.winnerVariantId).toBe('B');
    for (const v of [...close.variants, ...clear.variants]) {
      expect(Number.isFinite(v.expectedLoss) && Number.isFinite(v.probabilityToBeatControl)).toBe(
        true,
      );
    }
  });

  it('explains a lone control and rejects invalid input', () => {
    expect(compareVariants([arm('A', 1000, 10)], at95)).toMatchObject({
      decided: false,
      reason: 'there is no variant to compare with the control',
    });
    expect(() => compareVariants([], at95)).toThrow(RangeError);
    expect(() => compareVariants([arm('A', 10, 1)], { confidence: 0.5 })).toThrow(/confidence/);
    expect(() => compareVariants([arm('A', 10, 1)], { confidence: 1 })).toThrow(/confidence/);
    expect(() => compareVariants([arm('A', 10, 11)], at95)).toThrow(/successes/);
    expect(() => compareVariants([arm('A', 10.5, 1)], at95)).toThrow(/exposures/);
    expect(() => compareVariants([arm('A', 10, -1)], at95)).toThrow(/successes/);
    expect(() => compareVariants([arm('A', 10, 1), arm('A', 10, 2)], at95)).toThrow(/duplicate/);
    expect(() =>
      compareVariants([arm('A', 10, 1)], { confidence: 0.95, minExposures: -1 }),
    ).toThrow(/minExposures/);
  });

  it('property: a decision is consistent with the figures it reports', () => {
    const armCounts = fc
      .integer({ min: 0, max: 3000 })
      .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));
    fc.assert(
      fc.property(
        fc.array(armCounts, { minLength: 2, maxLength: 4 }),
        fc.constantFrom(0.8, 0.9, 0.95, 0.99),
        (arms, confidence) => {
          const input = arms.map(([s, n], k) => arm(String.fromCharCode(65 + k), n, s));
          const decision: AbDecision = compareVariants(input, { confidence });
          expect(decision.variants.map((v) => v.variantId)).toEqual(input.map((v) => v.variantId));
          expect(decision.decided).toBe(decision.winnerVariantId !== null);
          const [control, ...others] = decision.variants;
          expect(control.probabilityToBeatControl).toBe(0.5);
          for (const v of decision.variants) {
            expect(v.probabilityToBeatControl).toBeGreaterThanOrEqual(0);
            expect(v.probabilityToBeatControl).toBeLessThanOrEqual(1);
            expect(v.expectedLoss).toBeGreaterThanOrEqual(0);
          }
          if (!decision.decided) return;
          expect(input.every((v) => v.exposures >= 100)).toBe(true);
          if (decision.winnerVariantId === 'A') {
            for (const v of others) {
              expect(v.probabilityToBeatControl).toBeLessThanOrEqual(1 - confidence);
              expect(v.pValue).toBeLessThanOrEqual(1 - confidence);
            }
          } else {
            const winner = decision.variants.find((v) => v.variantId === decision.winnerVariantId)!;
            expect(winner.probabilityToBeatControl).toBeGreaterThanOrEqual(confidence);
            expect(winner.pValue).toBeLessThanOrEqual(1 - confidence);
            expect(winner.rate).toBeGreaterThan(control.rate);
          }
        },
      ),
    );
  });
});
