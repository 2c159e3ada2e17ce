import { invertPositiveDefinite, nelderMead, numericalHessian } from './minimize.js';

const rosenbrock = (x: readonly number[]) => {
  let sum = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    sum += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
  }
  return sum;
};

describe('nelderMead', () => {
  it('finds the minimum of the 4-dimensional Rosenbrock function', () => {
    const result = nelderMead(rosenbrock, [-1.2, 1, -1.2, 1]);
    expect(result.converged).toBe(true);
    for (const v of result.x) expect(v).toBeCloseTo(1, 5);
    expect(result.value).toBeLessThan(1e-10);
  });

  it('minimises a badly scaled quadratic to the tolerance', () => {
    const f = (x: readonly number[]) => 1e4 * (x[0] - 3) ** 2 + 1e-2 * (x[1] + 5) ** 2;
    const result = nelderMead(f, [0, 0]);
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(3, 6);
    expect(result.x[1]).toBeCloseTo(-5, 4);
  });

  it('treats NaN and Infinity as worse than any finite value', () => {
    const f = (x: readonly number[]) =>
      x[0] <= 0 ? NaN : x[1] > 10 ? Infinity : (Math.log(x[0]) - 1) ** 2 + (x[1] - 2) ** 2;
    const result = nelderMead(f, [0.5, 9.9]);
    expect(result.x[0]).toBeCloseTo(Math.E, 5);
    expect(result.x[1]).toBeCloseTo(2, 5);
  });

  it('reports no convergence when the evaluation budget runs out', () => {
    const result = nelderMead(rosenbrock, [-1.2, 1, -1.2, 1], { maxEvaluations: 50 });
    expect(result.converged).toBe(false);
    expect(result.evaluations).toBeLessThanOrEqual(60);
  });
});

describe('numericalHessian and invertPositiveDefinite', () => {
  it('recover a quadratic form and its inverse', () => {
    const A = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 2],
    ];
    const f = (x: readonly number[]) =>
      0.5 * x.reduce((s, xi, i) => s + xi * x.reduce((t, xj, j) => t + A[i][j] * xj, 0), 0);
    const H = numericalHessian(f, [0.3, -0.2, 1]);
    H.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(A[i][j], 5)));
    const inverse = invertPositiveDefinite(A);
    expect(inverse).not.toBeNull();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const product = A[i].reduce((s, v, k) => s + v * (inverse?.[k][j] ?? NaN), 0);
        expect(product).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });

  it('returns null for a matrix that is not positive definite', () => {
    expect(
      invertPositiveDefinite([
        [1, 2],
        [2, 1],
      ]),
    ).toBeNull();
  });
});
