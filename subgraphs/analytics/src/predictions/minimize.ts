/**
 * Unconstrained minimisation for the maximum-likelihood fits. The fits depend only on the
 * `Minimizer` type, so another optimiser can be passed in; the default is a Nelder-Mead simplex
 * search restarted from its own optimum until a restart no longer improves it (a restart rebuilds
 * a full-size simplex, which undoes the simplex collapse that makes a single run stop early).
 */

export type Objective = (x: readonly number[]) => number;

export interface MinimizeOptions {
  /** Edge length of the starting simplex along each axis (default 0.5). */
  initialStep?: number;
  /** A run stops when its vertices' values differ by at most this times 1 + |best| (1e-12). */
  fTolerance?: number;
  /** ... and its vertices differ by at most this in every coordinate (1e-8). */
  xTolerance?: number;
  /** Objective evaluations allowed over all runs (20,000). */
  maxEvaluations?: number;
  /** Restarts allowed after the first run (20). */
  maxRestarts?: number;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  evaluations: number;
  /** Runs after the first one. */
  restarts: number;
  /** False when the evaluation budget or the restarts ran out before the tolerances were met. */
  converged: boolean;
}

export type Minimizer = (
  objective: Objective,
  start: readonly number[],
  options?: MinimizeOptions,
) => MinimizeResult;

const REFLECT = 1;
const EXPAND = 2;
const CONTRACT = 0.5;
const SHRINK = 0.5;

interface Run {
  x: number[];
  value: number;
  converged: boolean;
}

/** Nelder-Mead with restarts; NaN objective values count as +Infinity (outside the domain). */
export const nelderMead: Minimizer = (objective, start, options = {}) => {
  const settings = {
    initialStep: options.initialStep ?? 0.5,
    fTolerance: options.fTolerance ?? 1e-12,
    xTolerance: options.xTolerance ?? 1e-8,
    maxEvaluations: options.maxEvaluations ?? 20_000,
  };
  const maxRestarts = options.maxRestarts ?? 20;
  let evaluations = 0;
  const f = (x: readonly number[]): number => {
    evaluations++;
    const value = objective(x);
    return Number.isNaN(value) ? Infinity : value;
  };
  const budget = () => settings.maxEvaluations - evaluations;

  let best = simplexRun(f, [...start], settings, budget);
  let restarts = 0;
  while (best.converged && restarts < maxRestarts && budget() > 0) {
    const next = simplexRun(f, best.x, settings, budget);
    restarts++;
    const improvement = best.value - next.value;
    if (next.value <= best.value) best = next;
    else best = { ...best, converged: next.converged };
    if (next.converged && improvement <= settings.fTolerance * (1 + Math.abs(best.value))) {
      return { x: best.x, value: best.value, evaluations, restarts, converged: true };
    }
  }
  return { x: best.x, value: best.value, evaluations, restarts, converged: false };
};

function simplexRun(
  f: Objective,
  start: number[],
  settings: { initialStep: number; fTolerance: number; xTolerance: number },
  budget: () => number,
): Run {
  const n = start.length;
  const points: number[][] = [start];
  for (let i = 0; i < n; i++) {
    const p = [...start];
    p[i] += settings.initialStep;
    points.push(p);
  }
  let simplex = points.map((x) => ({ x, value: f(x) }));
  const replaceWorst = (x: number[], value: number) => {
    simplex[n] = { x, value };
  };
  while (budget() > 0) {
    simplex.sort((p, q) => p.value - q.value);
    const bestValue = simplex[0].value;
    const fSpread = simplex[n].value - bestValue;
    const xSpread = Math.max(
      ...simplex.slice(1).flatMap((p) => p.x.map((v, i) => Math.abs(v - simplex[0].x[i]))),
    );
    if (
      Number.isFinite(bestValue) &&
      fSpread <= settings.fTolerance * (1 + Math.abs(bestValue)) &&
      xSpread <= settings.xTolerance
    ) {
      return { x: simplex[0].x, value: bestValue, converged: true };
    }
    const worst = simplex[n];
    const centroid = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) centroid[i] += simplex[j].x[i] / n;
    const along = (t: number) => centroid.map((c, i) => c + t * (c - worst.x[i]));

    const reflected = along(REFLECT);
    const fr = f(reflected);
    if (fr < simplex[0].value) {
      const expanded = along(REFLECT * EXPAND);
      const fe = f(expanded);
      if (fe < fr) replaceWorst(expanded, fe);
      else replaceWorst(reflected, fr);
    } else if (fr < simplex[n - 1].value) {
      replaceWorst(reflected, fr);
    } else {
      const outside = fr < worst.value;
      const contracted = along(outside ? REFLECT * CONTRACT : -CONTRACT);
      const fc = f(contracted);
      if (fc < (outside ? fr : worst.value)) {
        replaceWorst(contracted, fc);
      } else {
        const anchor = simplex[0].x;
        simplex = simplex.map((p, j) => {
          if (j === 0) return p;
          const x = anchor.map((a, i) => a + SHRINK * (p.x[i] - a));
          return { x, value: f(x) };
        });
      }
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  return { x: simplex[0].x, value: simplex[0].value, converged: false };
}

/** The matrix of second derivatives of `f` at `x`, by central differences with step `h`. */
export function numericalHessian(f: Objective, x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const at = (di: number, si: number, dj: number, sj: number) => {
    const p = [...x];
    p[di] += si * h;
    p[dj] += sj * h;
    return f(p);
  };
  const f0 = f(x);
  const hessian = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    hessian[i][i] = (at(i, 1, i, 1) - 2 * f0 + at(i, -1, i, -1)) / (4 * h * h);
    for (let j = 0; j < i; j++) {
      const value =
        (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h);
      hessian[i][j] = value;
      hessian[j][i] = value;
    }
  }
  return hessian;
}

/** The inverse of a symmetric positive-definite matrix (Cholesky), or null if it is not one. */
export function invertPositiveDefinite(matrix: readonly (readonly number[])[]): number[][] | null {
  const n = matrix.length;
  const lower = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i][j];
      for (let k = 0; k < j; k++) sum -= lower[i][k] * lower[j][k];
      if (i === j) {
        if (!(sum > 0)) return null;
        lower[i][i] = Math.sqrt(sum);
      } else {
        lower[i][j] = sum / lower[j][j];
      }
    }
  }
  const inverse = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let col = 0; col < n; col++) {
    const y = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      let sum = i === col ? 1 : 0;
      for (let k = 0; k < i; k++) sum -= lower[i][k] * y[k];
      y[i] = sum / lower[i][i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let sum = y[i];
      for (let k = i + 1; k < n; k++) sum -= lower[k][i] * inverse[k][col];
      inverse[i][col] = sum / lower[i][i];
    }
  }
  return inverse;
}
