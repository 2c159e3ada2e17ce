/**
 * Maximum-likelihood estimation of positive parameters: the search runs over their logarithms (so
 * every step stays positive), and the standard errors come from the observed information (the
 * Hessian of the negative log-likelihood) by the delta method.
 */
import {
  invertPositiveDefinite,
  type MinimizeOptions,
  type Minimizer,
  nelderMead,
  numericalHessian,
} from './minimize.js';

export interface FitOptions<P> {
  /** The optimiser (default: Nelder-Mead with restarts). */
  minimizer?: Minimizer;
  minimizeOptions?: MinimizeOptions;
  /** Where the search starts; each model has a default. */
  start?: Partial<P>;
}

export interface FitDiagnostics<P> {
  /** The maximised log-likelihood. */
  logLikelihood: number;
  /** Asymptotic standard errors, or null when the observed information is not positive definite. */
  standardErrors: P | null;
  /** Customers the fit used. */
  customers: number;
  converged: boolean;
  evaluations: number;
}

export type ModelFit<P> = FitDiagnostics<P> & { params: P };

export function fitPositiveParameters<K extends string>(
  names: readonly K[],
  logLikelihood: (params: Record<K, number>) => number,
  start: Record<K, number>,
  customers: number,
  options: FitOptions<Record<K, number>> = {},
): ModelFit<Record<K, number>> {
  const toParams = (logs: readonly number[]) =>
    Object.fromEntries(names.map((name, i) => [name, Math.exp(logs[i])])) as Record<K, number>;
  const negative = (logs: readonly number[]) => {
    const value = -logLikelihood(toParams(logs));
    return Number.isFinite(value) ? value : Infinity;
  };
  const initial = names.map((name) => Math.log(options.start?.[name] ?? start[name]));
  const minimize = options.minimizer ?? nelderMead;
  const result = minimize(negative, initial, options.minimizeOptions);
  const params = toParams(result.x);
  const covariance = invertPositiveDefinite(numericalHessian(negative, result.x, 1e-4));
  const standardErrors = covariance
    ? (Object.fromEntries(
        names.map((name, i) => [name, params[name] * Math.sqrt(covariance[i][i])]),
      ) as Record<K, number>)
    : null;
  return {
    params,
    logLikelihood: -result.value,
    standardErrors,
    customers,
    converged: result.converged,
    evaluations: result.evaluations,
  };
}
