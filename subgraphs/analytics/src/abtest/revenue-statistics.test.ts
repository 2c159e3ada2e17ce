import {
  compareRevenue,
  regularizedBeta,
  studentTwoSidedP,
  welchTTest,
  type RevenueCounts,
} from './revenue-statistics.js';

function expectNear(actual: number, expected: number, tolerance: number): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`expected ${expected} ± ${tolerance}, got ${actual}`);
  }
}

/** The sums an arm is summarised by, from the recipients' revenues. */
function arm(variantId: string, revenues: number[]): RevenueCounts {
  return {
    variantId,
    exposures: revenues.length,
    converters: revenues.filter((x) => x > 0).length,
    revenue: revenues.reduce((s, x) => s + x, 0),
    revenueSquares: revenues.reduce((s, x) => s + x * x, 0),
  };
}

const repeat = (values: number[], times: number) =>
  Array.from({ length: times }, () => values).flat();
// 200 recipients each; references from scipy.stats.ttest_ind(B, A, equal_var=False) 1.17.
const A = [
  ...new Array<number>(180).fill(0),
  ...repeat([20, 35, 50, 10, 80, 25, 40, 15, 60, 30], 2),
];
const B = [
  ...new Array<number>(170).fill(0),
  ...repeat([30, 45, 55, 20, 90, 35, 40, 25, 70, 50], 3),
];

describe('studentTwoSidedP', () => {
  it('equals the closed forms for 1 and 2 degrees of freedom', () => {
    for (const t of [0, 0.5, 1, 3, 40]) {
      expectNear(studentTwoSidedP(t, 1), 1 - (2 / Math.PI) * Math.atan(t), 1e-14);
      expectNear(studentTwoSidedP(-t, 2), 1 - t / Math.sqrt(2 + t * t), 1e-14);
    }
  });

  it('matches scipy.stats.t references, non-integer degrees of freedom included', () => {
    const references: [number, number, number][] = [
      [2.228138851986274, 10, 0.050000000000000044],
      [1.0, 7.3, 0.34929845645311447],
      [3.5, 2.5, 0.052345546960320344],
      [0.3, 40, 0.7657307167710191],
      [2.0, 1e5, 0.04550296345750651],
      [6.0, 3, 0.009272714892284666],
    ];
    for (const [t, nu, p] of references) expectNear(studentTwoSidedP(t, nu), p, 1e-12);
    expectNear(studentTwoSidedP(12, 200.5), 2.3472754697949208e-25, 1e-15);
    expect(studentTwoSidedP(Infinity, 5)).toBe(0);
  });

  it('regularizedBeta is 0 and 1 at the ends and symmetric: I_x(a, b) = 1 − I_{1−x}(b, a)', () => {
    expect(regularizedBeta(0, 1, 2, 3)).toBe(0);
    expect(regularizedBeta(1, 0, 2, 3)).toBe(1);
    for (const [x, a, b] of [
      [0.2, 2, 3],
      [0.7, 0.5, 40],
      [0.99, 300, 0.5],
    ]) {
      expectNear(regularizedBeta(x, 1 - x, a, b) + regularizedBeta(1 - x, x, b, a), 1, 1e-13);
    }
    // I_x(1, 1) = x and I_x(2, 1) = x².
    expectNear(regularizedBeta(0.3, 0.7, 1, 1), 0.3, 1e-15);
    expectNear(regularizedBeta(0.3, 0.7, 2, 1), 0.09, 1e-15);
  });
});

describe('welchTTest', () => {
  it('matches scipy ttest_ind(equal_var=False) from the sums alone', () => {
    const moments = (r: RevenueCounts) => {
      const mean = r.revenue / r.exposures;
      return {
        n: r.exposures,
        mean,
        variance: (r.revenueSquares - r.revenue * mean) / (r.exposures - 1),
      };
    };
    const result = welchTTest(moments(arm('A', A)), moments(arm('B', B)))!;
    expectNear(result.t, 2.0620866294615383, 1e-12);
    expectNear(result.degreesOfFreedom, 356.14372778786407, 1e-9);
    expectNear(result.pValue, 0.039924448560148956, 1e-12);
  });

  it('is undefined below two exposures or without any variance', () => {
    expect(
      welchTTest({ n: 1, mean: 5, variance: null }, { n: 10, mean: 1, variance: 1 }),
    ).toBeNull();
    expect(welchTTest({ n: 5, mean: 0, variance: 0 }, { n: 5, mean: 0, variance: 0 })).toBeNull();
  });
});

describe('compareRevenue', () => {
  const at95 = { confidence: 0.95 };

  it('reports revenue per recipient, Welch p-value, lift and the normal-posterior figures', () => {
    const { variants } = compareRevenue([arm('A', A), arm('B', B)], at95);
    const [a, b] = variants;
    expect(a).toMatchObject({ variantId: 'A', exposures: 200, successes: 20, rate: 3.65 });
    expect(a.pValue).toBeNull();
    expect(b).toMatchObject({ variantId: 'B', exposures: 200, successes: 30, rate: 6.9 });
    expectNear(b.pValue!, 0.039924448560148956, 1e-12);
    expectNear(b.liftOverControl!, 6.9 / 3.65 - 1, 1e-14);
    // scipy.stats.norm: Φ(Δ/se) and δΦ(δ/se) + se φ(δ/se) with δ = x̄_A − x̄_B.
    expectNear(b.probabilityToBeatControl, 0.980400255462453, 1e-12);
    expectNear(b.expectedLoss, 0.011313176105533562, 1e-12);
    expect(a.expectedLoss).toBeGreaterThan(b.expectedLoss);
  });

  it('declares a variant that earns more both ways, and not at a stricter level', () => {
    const decision = compareRevenue([arm('A', A), arm('B', B)], at95);
    expect(decision).toMatchObject({ decided: true, winnerVariantId: 'B' });
    expect(decision.reason).toMatch(/^B beats the control at 95% confidence \(probability/);
    const strict = compareRevenue([arm('A', A), arm('B', B)], { confidence: 0.99 });
    expect(strict).toMatchObject({ decided: false, winnerVariantId: null });
    expect(strict.reason).toMatch(/^no variant beats the control at 99% confidence \(closest: B/);
  });

  it('keeps the control when it earns more than every variant', () => {
    const decision = compareRevenue([arm('A', B), arm('B', A), arm('C', A)], {
      confidence: 0.9,
    });
    expect(decision).toMatchObject({ decided: true, winnerVariantId: 'A' });
  });

  it('does not decide on equal revenue, on too few exposures, or on no revenue at all', () => {
    expect(compareRevenue([arm('A', A), arm('B', A)], at95).decided).toBe(false);
    const few = compareRevenue([arm('A', A.slice(150)), arm('B', B)], at95);
    expect(few.reason).toBe('not enough exposures: A has 50 of 100');
    const none = compareRevenue(
      [arm('A', new Array(500).fill(0)), arm('B', new Array(500).fill(0))],
      at95,
    );
    expect(none.decided).toBe(false);
    expect(none.variants[1]).toMatchObject({
      rate: 0,
      pValue: null,
      probabilityToBeatControl: 0.5,
    });
  });

  it('rejects invalid sums', () => {
    expect(() => compareRevenue([{ ...arm('A', A), converters: 201 }], at95)).toThrow(/converters/);
    expect(() => compareRevenue([{ ...arm('A', A), revenue: NaN }], at95)).toThrow(/finite/);
    expect(() => compareRevenue([arm('A', A), arm('A', B)], at95)).toThrow(/duplicate/);
  });
});
